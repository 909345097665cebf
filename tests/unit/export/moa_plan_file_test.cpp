// MoA plans: the writer's bytes, the published plans rewritten byte for byte, the plan
// mapping both ways (import then export is the same file), and malformed files refused.
#include <catch2/catch.hpp>

#include "analysis/export/moa_plan_file.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

ex::MoaRules tiny_rules() {
  ex::MoaRules r;
  r.alphas = {{0, 1024, -1024, 2048}, {0, 0, 1024, 1024}, {8192, 0, 0, 3072}};
  r.betas = {{0.5, 0.625, 0.875, 0}, {1, 0.125, 0.25, 0.25}, {0, 0.5, 0.5, 0.375}};
  return r;
}

std::string moa_error(const std::string& text) {
  try {
    ex::parse_moa(text, tiny_shape(), "moa.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("The MoA file of known rules matches its golden file", "[export]") {
  check_golden("moa/moa_alpha_beta.json", ex::moa_text(tiny_rules(), tiny_shape()));
}

TEST_CASE("The published MoA plans are rewritten byte for byte", "[export]") {
  for (const auto& [file, model] : {std::pair{"Llama-3.2-1B-Instruct_moa_alpha_beta.json", "Llama-3.2-1B-Instruct"},
                                    std::pair{"Llama-3-8B-Instruct-262k_moa_alpha_beta.json", "Llama-3-8B-Instruct-262k"}}) {
    const auto path = reference_dir() / "moa" / file;
    const std::string text = ex::read_text_file(path);
    const ex::ModelShape shape = real_model(model);
    const ex::MoaRules rules = ex::parse_moa(text, shape, path.string());
    CHECK(ex::moa_text(rules, shape) == text);
  }
}

TEST_CASE("A published MoA plan imported as a plan and exported again is the same file", "[export]") {
  const auto path = reference_dir() / "moa" / "Llama-3.2-1B-Instruct_moa_alpha_beta.json";
  const std::string text = ex::read_text_file(path);
  const ex::ModelShape shape = real_model("Llama-3.2-1B-Instruct");
  const am::MaskPlan plan = ex::moa_to_plan(ex::parse_moa(text, shape, path.string()), shape);
  CHECK(ex::moa_text(ex::moa_from_plan(plan, shape), shape) == text);
}

TEST_CASE("A MoA head becomes streaming with MoA's 64-token sink and the rest of its span as window", "[export]") {
  const am::MaskPlan plan = ex::moa_to_plan(tiny_rules(), tiny_shape());
  CHECK(plan.at({0, 1}) == am::HeadMask{am::StreamingMask{64, {960, 0.625}}, std::nullopt});
  CHECK(plan.at({0, 2}) == am::HeadMask{am::StreamingMask{64, {-1088, 0.875}}, std::nullopt});
  CHECK(plan.at({2, 0}) == am::HeadMask{am::StreamingMask{64, {8128, 0}}, std::nullopt});
}

TEST_CASE("A dense head exports to MoA as a span of the whole sequence", "[export]") {
  am::MaskPlan plan(3, 4, {am::StreamingMask{4, {1020, 0.25}}, std::nullopt});
  plan.set({1, 2}, {am::DenseMask{}, std::nullopt});
  const ex::MoaRules r = ex::moa_from_plan(plan, tiny_shape());
  CHECK(r.alphas[1][2] == 0);
  CHECK(r.betas[1][2] == 1);
  CHECK(r.alphas[0][0] == 1024);  // window 1020 + sink 4
  CHECK(r.betas[0][0] == 0.25);
}

TEST_CASE("A plan head MoA cannot express is refused naming the head", "[export]") {
  am::MaskPlan plan(3, 4, {am::DenseMask{}, std::nullopt});
  plan.set({2, 3}, {am::VerticalSlashMask{}, std::nullopt});
  CHECK_THROWS_WITH(ex::moa_from_plan(plan, tiny_shape()), Contains("layer 2 head 3 runs vertical_slash"));
  plan.set({2, 3}, {am::StreamingMask{}, 0.1});
  CHECK_THROWS_WITH(ex::moa_from_plan(plan, tiny_shape()), Contains("layer 2 head 3 runs streaming"));
}

TEST_CASE("A MoA plan for one model is refused for another", "[export]") {
  const auto path = reference_dir() / "moa" / "Llama-3.2-1B-Instruct_moa_alpha_beta.json";
  CHECK_THROWS_WITH(ex::parse_moa(ex::read_text_file(path), real_model("Meta-Llama-3.1-8B-Instruct"), "moa.json"),
                    Contains("moa.json: 16 \"alphas\" lists but the model") && Contains("has 32 layers"));
}

TEST_CASE("Malformed MoA plans are refused with the place and the problem", "[export]") {
  const std::string row = "[0, 0, 0, 0]";
  const std::string rows = "[" + row + ", " + row + ", " + row + "]";
  CHECK_THAT(moa_error("{\"alphas\": " + rows + "}"), Contains("moa.json: \"betas\" is missing"));
  CHECK_THAT(moa_error("{\"alphas\": " + rows + ", \"betas\": [[0, 0, 0, 0], [0, 0, 0], [0, 0, 0, 0]]}"),
             Contains("\"betas\"[1] values but the model") && Contains("4 query heads"));
  CHECK_THAT(moa_error("{\"alphas\": " + rows + ", \"betas\": [[0, 0, \"x\", 0], " + row + ", " + row + "]}"),
             Contains("\"betas\"[0][2] must be a number, not a string"));
  CHECK_THAT(moa_error("{\"alphas\": " + rows + ", \"betas\": [[0, 0, 1.5, 0], " + row + ", " + row + "]}"),
             Contains("layer 0 head 2: beta 1.5 is outside [0, 1]"));
  CHECK_THAT(moa_error("{\"alphas\": " + rows + ", \"betas\": [[0, 0, NaN, 0], " + row + ", " + row + "]}"),
             Contains("NaN and Infinity") && Contains("are not JSON numbers"));
  CHECK_THAT(moa_error("{\"alphas\": " + rows + ", \"betas\": [[0, 0"), Contains("moa.json: is not valid JSON"));
  CHECK_THAT(moa_error("[1, 2]"), Contains("must hold a JSON object"));
}

TEST_CASE("A MoA rule that leaves no window past the sink cannot become a plan", "[export]") {
  ex::MoaRules r = tiny_rules();
  r.alphas[1][1] = 64;
  r.betas[1][1] = 0;
  CHECK_THROWS_WITH(ex::moa_to_plan(r, tiny_shape()), Contains("layer 1 head 1: alpha 64.0 with beta 0"));
}
