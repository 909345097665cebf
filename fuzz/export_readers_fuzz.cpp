// Fuzz target: the readers of the profile files other tools publish (analysis/export):
// DuoAttention, MInference, MoA, Retrieval_Head / HeadKV, RazorAttention and our profile
// JSON / CSV, each followed by the import a user runs next (the file as a mask plan) and
// by writing the file back. Input: byte 0 picks the format, byte 1 the model shape the
// file is checked against, the rest is the file (DuoAttention: the gates TSV, a NUL byte,
// then config.json).
#include <array>
#include <string>

#include "analysis/export/duo_attention.h"
#include "analysis/export/minference_pattern.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/razor_heads.h"
#include "analysis/export/retrieval_head_scores.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

namespace {

namespace ex = attnscope::exports;

ex::ModelShape shape_of(uint8_t choice) {
  // The tests' tiny model, the sample model, and the shapes of the published files' models.
  constexpr std::array<std::array<int, 3>, 6> kShapes = {
      {{3, 4, 2}, {8, 8, 2}, {32, 32, 8}, {32, 32, 32}, {16, 32, 8}, {28, 28, 4}}};
  const auto& s = kShapes[choice % kShapes.size()];
  ex::ModelShape shape;
  shape.layers = s[0];
  shape.heads = s[1];
  shape.kv_heads = s[2];
  shape.name = "fuzz";
  shape.config_file = "config.json";
  return shape;
}

void read_one(uint8_t format, const ex::ModelShape& shape, std::string_view text) {
  namespace fz = attnscope::fuzz;
  switch (format % 7) {
    case 0: {
      const size_t nul = text.find('\0');
      const std::string_view gates = text.substr(0, nul);
      const std::string_view config = nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);
      const auto pattern = ex::parse_duo_pattern(gates, config, shape, "full_attention_heads.tsv", "config.json");
      const auto plan = ex::duo_to_plan(pattern, shape, {});
      fz::expect(plan.num_layers() == shape.layers && plan.num_heads() == shape.heads, "the plan has the model's shape");
      ex::duo_gates_text(pattern, shape);
      ex::duo_config_text(pattern);
      return;
    }
    case 1: {
      const auto pattern = ex::parse_minference(text, shape, "best_pattern.json");
      ex::minference_to_plan(pattern, shape);
      ex::minference_text(pattern, shape);
      return;
    }
    case 2: {
      const auto rules = ex::parse_moa(text, shape, "moa_alpha_beta.json");
      ex::moa_to_plan(rules, shape);
      ex::moa_text(rules, shape);
      return;
    }
    case 3: {
      const auto scores = ex::parse_retrieval_head(text, shape, "scores.json");
      ex::retrieval_head_to_plan(scores, shape);
      ex::RetrievalPlanOptions top;
      top.rule = ex::RetrievalPlanOptions::Rule::TopDense;
      ex::retrieval_head_to_plan(scores, shape, top);
      ex::retrieval_head_text(scores, shape);
      return;
    }
    case 4: {
      const auto heads = ex::parse_razor(text, shape, "retrieval_heads.json");
      ex::razor_to_plan(heads, shape);
      ex::razor_text(heads, shape);
      return;
    }
    case 5: {
      const auto document = ex::parse_profile_json(text, shape, "profile.json");
      ex::profile_json_text(document, shape);
      ex::profile_csv_text(document.heads, shape);
      return;
    }
    default: {
      const auto heads = ex::parse_profile_csv(text, shape, "profile.csv");
      ex::profile_csv_text(heads, shape);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  try {
    read_one(data[0], shape_of(data[1]), attnscope::fuzz::text(data + 2, size - 2));
  } catch (const attnscope::Error&) {
  }
  return 0;
}
