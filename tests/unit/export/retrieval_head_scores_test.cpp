// Retrieval_Head / HeadKV score files: one line, every "layer-head" key in layer-major
// order, the published file read, malformed files refused, and the two plan rules.
#include <catch2/catch.hpp>

#include "analysis/export/retrieval_head_scores.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

ex::RetrievalHeadScores tiny_scores() {
  ex::RetrievalHeadScores s;
  s.layers = 3;
  s.heads = 4;
  s.tests.resize(12);
  for (size_t i = 0; i < 12; ++i) s.tests[i] = {0.0625 * double(i % 4), i == 6 ? 1.0 : 0.0};
  s.tests[11] = {};  // a head no counted test reached
  return s;
}

std::string all_keys(const std::string& value_of_2_1) {
  std::string out = "{";
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 4; ++h) {
      // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
      if (out.size() > 1) out += ", ";
      out += '"';
      out += std::to_string(l);
      out += '-';
      out += std::to_string(h);
      out += "\": ";
      out += l == 2 && h == 1 ? value_of_2_1 : std::string("[0.5]");
    }
  return out + "}";
}

std::string retrieval_error(const std::string& text) {
  try {
    ex::parse_retrieval_head(text, tiny_shape(), "scores.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("The Retrieval_Head file of known scores matches its golden file", "[export]") {
  check_golden("retrieval-head/scores.json", ex::retrieval_head_text(tiny_scores(), tiny_shape()));
}

TEST_CASE("A Retrieval_Head file is one line with every head in layer-major order", "[export]") {
  const std::string text = ex::retrieval_head_text(tiny_scores(), tiny_shape());
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.rfind("{\"0-0\": [0.0, 0.0], \"0-1\": [0.0625, 0.0]", 0) == 0);
  CHECK(text.find("\"2-3\": []}") != std::string::npos);
}

TEST_CASE("Retrieval_Head scores written and read back are unchanged", "[export]") {
  const ex::RetrievalHeadScores s = tiny_scores();
  const ex::RetrievalHeadScores back = ex::parse_retrieval_head(ex::retrieval_head_text(s, tiny_shape()), tiny_shape(), "x");
  CHECK(back.tests == s.tests);
  CHECK(back.mean(1, 2) == Approx(0.5625).margin(1e-15));
  CHECK(back.mean(2, 3) == 0.0);
}

TEST_CASE("The published Retrieval_Head scores of Mistral-7B import for its shape only", "[export]") {
  const auto path = reference_dir() / "retrieval-head" / "Mistral-7B-v0.2-hf.first4.json";
  const std::string text = ex::read_text_file(path);
  const ex::RetrievalHeadScores s = ex::parse_retrieval_head(text, real_model("Mistral-7B-Instruct-v0.2"), path.string());
  CHECK(s.tests.size() == 1024);
  CHECK(s.at(0, 0).size() == 4);
  CHECK_THROWS_WITH(ex::parse_retrieval_head(text, real_model("Llama-3.2-1B-Instruct"), "m.json"),
                    Contains("m.json: the key \"16-0\" is not \"layer-head\" of a layer below 16"));
  CHECK_THROWS_WITH(ex::parse_retrieval_head(text, real_model("Qwen2.5-7B-Instruct-1M"), "m.json"),
                    Contains("m.json: the key \"0-28\"") && Contains("query head below 28"));
}

TEST_CASE("A Retrieval_Head file on more than one line is refused", "[export]") {
  CHECK(retrieval_error(all_keys("[0.5]") + "\n") == "no error");
  CHECK_THAT(retrieval_error("{\"0-0\": [0.5],\n" + all_keys("[0.5]").substr(1)),
             Contains("scores.json: has more than one line"));
}

TEST_CASE("Malformed Retrieval_Head files are refused with the key and the problem", "[export]") {
  CHECK_THAT(retrieval_error(all_keys("[0.5, \"x\"]")), Contains("\"2-1\"[1] must be a number, not a string"));
  CHECK_THAT(retrieval_error(all_keys("0.5")), Contains("\"2-1\" must be a list, not a number"));
  CHECK_THAT(retrieval_error(all_keys("[-0.5]")), Contains("\"2-1\"[0] is negative"));
  CHECK_THAT(retrieval_error(all_keys("[NaN]")), Contains("NaN and Infinity"));
  CHECK_THAT(retrieval_error("{\"0-0\": [0.5]}"), Contains("has 1 of the 12 heads; \"0-1\" is missing"));
  CHECK_THAT(retrieval_error(all_keys("[0.5]").substr(0, 40)), Contains("scores.json: is not valid JSON"));
  CHECK_THAT(retrieval_error("{\"0_0\": []}"), Contains("the key \"0_0\" is not \"layer-head\""));
  CHECK_THAT(retrieval_error("[[0.5]]"), Contains("must hold one JSON object"));
}

TEST_CASE("HeadKV's budgets share the pool by normalised mean score", "[export]") {
  // Means: head 6 (layer 1 head 2) 0.5625, heads with h % 4 = k: 0.03125 k, head 11 0.
  const ex::RetrievalHeadScores s = tiny_scores();
  const am::MaskPlan plan = ex::retrieval_head_to_plan(s, tiny_shape());
  // b = 128 - 32 = 96, b // 1.2 = 80, pool = 80 x 12 = 960, floor b - 80 = 16.
  double total = 0;
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 4; ++h) total += s.mean(l, h);
  const auto capacity = [&](int l, int h) {
    return std::get<am::SnapKVMask>(plan.at({l, h}).family).capacity;
  };
  CHECK(capacity(1, 2) == int64_t(std::nearbyint(0.5625 / total * 960 + 16)) + 32);
  CHECK(capacity(0, 0) == 16 + 32);
  CHECK(std::get<am::SnapKVMask>(plan.at({0, 0}).family).observation_window == 32);
}

TEST_CASE("HeadKV's budgets do not depend on the scores' scale, even where their sum overflows", "[export]") {
  ex::RetrievalHeadScores huge = tiny_scores();
  for (auto& list : huge.tests)
    for (double& v : list) v *= 1e308;  // the largest mean's sum overflows a double
  const am::MaskPlan plan = ex::retrieval_head_to_plan(huge, tiny_shape());
  CHECK(plan == ex::retrieval_head_to_plan(tiny_scores(), tiny_shape()));
  CHECK(std::isfinite(huge.mean(1, 2)));
}

TEST_CASE("The top-dense rule keeps the highest-scoring heads dense and streams the rest", "[export]") {
  ex::RetrievalPlanOptions options;
  options.rule = ex::RetrievalPlanOptions::Rule::TopDense;
  options.top_heads = 2;
  const am::MaskPlan plan = ex::retrieval_head_to_plan(tiny_scores(), tiny_shape(), options);
  // Means 0.5625 (1-2), then 0.09375 at 0-3, 1-3 (2-3 has none): the tie goes to layer 0.
  CHECK(plan.at({1, 2}) == am::HeadMask{am::DenseMask{}, std::nullopt});
  CHECK(plan.at({0, 3}) == am::HeadMask{am::DenseMask{}, std::nullopt});
  CHECK(plan.at({1, 3}) == am::HeadMask{am::StreamingMask{4, {256, 0}}, std::nullopt});
}
