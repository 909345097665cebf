// The session's mask lab on the sample model (no Qt): evaluations of every head, the stop
// between layers, a head's kept set, end to end, sweeps and the memory check.
#include <catch2/catch.hpp>

#include "analysis/model/checkpoint.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/gui/run_mask_lab.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const std::filesystem::path kModel = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";

struct Lab {
  model::Checkpoint checkpoint = model::Checkpoint::open(kModel);
  tokenizer::Tokenizer words = tokenizer::Tokenizer::from_file(kModel / "tokenizer.json");
  std::unique_ptr<kernels::Backend> backend = kernels::make_cpu_backend(2);
  runtime::Transformer model{checkpoint, *backend, 256};
  std::vector<int32_t> tokens;
  std::unique_ptr<RunMaskLab> lab;
  Lab() {
    std::string text;
    for (int i = 0; i < 20; ++i) text += "The river runs past the old mill and the bridge. ";
    tokens = words.encode(text, true);
    tokens.resize(200);
    lab = std::make_unique<RunMaskLab>(model, tokens, 1);
  }
};

Lab& lab() {
  static Lab l;
  return l;
}

masks::MaskPlan plan_of(const masks::HeadMask& mask) { return masks::MaskPlan(8, 8, mask); }

}  // namespace

TEST_CASE("a dense plan keeps all attention and changes nothing end to end", "[gui][masklab]") {
  const masks::MaskPlan dense = plan_of({masks::DenseMask{}, std::nullopt});
  const auto heads = lab().lab->evaluate(dense);
  REQUIRE(heads);
  REQUIRE(heads->size() == 64);
  for (const auto& h : *heads) REQUIRE(h.evaluation.recall == Approx(1.0).margin(1e-9));  // sums in double
  const masks::EndToEnd e2e = lab().lab->end_to_end(lab().model, dense);
  REQUIRE(e2e.kl_max <= 1e-6);  // the same dense attention; 1e-6 nats for a different call path
  REQUIRE(e2e.top1_agreement == 1.0);
}

TEST_CASE("a streaming plan at a low density loses recall in every layer", "[gui][masklab]") {
  const auto heads = lab().lab->evaluate(plan_of({masks::StreamingMask{}, 0.2}));
  REQUIRE(heads);
  const masks::PlanSummary s = masks::summarize(*heads);
  REQUIRE(s.density == Approx(0.2).margin(0.05));  // the knob's steps are whole tokens
  REQUIRE(s.recall < 1.0);
  REQUIRE((*heads)[63].at == runtime::LayerHead{7, 7});  // layer after layer, heads in order
}

TEST_CASE("an evaluation stops between layers when asked", "[gui][masklab]") {
  int layers_started = 0;
  const auto heads = lab().lab->evaluate(plan_of({masks::WindowMask{}, 0.3}), [&] { return ++layers_started > 2; });
  REQUIRE_FALSE(heads);
  REQUIRE(layers_started == 3);  // two layers evaluated, the third not begun
}

TEST_CASE("the kept set of a head is the one its evaluation measured", "[gui][masklab]") {
  const masks::HeadMask mask{masks::TopKMask{}, 0.1};
  const kernels::KeptKeys kept = lab().lab->kept(7, 2, mask);
  REQUIRE(kept.rows() == 200);
  const auto heads = lab().lab->evaluate(plan_of(mask));
  REQUIRE(kept.density() == Approx((*heads)[7 * 8 + 2].evaluation.density).margin(1e-12));
  REQUIRE_THROWS_AS(lab().lab->kept(8, 0, mask), Error);
}

TEST_CASE("a sweep gives one curve per family with recall rising with density", "[gui][masklab]") {
  const std::vector<masks::HeadMask> families = {{masks::StreamingMask{}, std::nullopt}, {masks::TopKMask{}, std::nullopt}};
  const std::vector<double> densities = {0.1, 0.5};
  int points = 0;
  const auto curves = lab().lab->sweep(families, densities, [&](int done, int total) {
    points = done;
    REQUIRE(total == 4);
  });
  REQUIRE(curves);
  REQUIRE(curves->size() == 2);
  REQUIRE(points == 4);
  for (const SweepCurve& c : *curves) {
    REQUIRE(c.points.size() == 2);
    REQUIRE(c.points[1].summary.recall >= c.points[0].summary.recall);
  }
  REQUIRE((*curves)[1].family == "topk");
}

TEST_CASE("a recording larger than its memory budget is refused with the numbers", "[gui][masklab]") {
  try {
    RunMaskLab tight(lab().model, lab().tokens, 2, 1 << 20);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(std::string(e.what()).find("more than the 1.00 MiB") != std::string::npos);
  }
}
