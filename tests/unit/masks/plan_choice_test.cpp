// The plan of an evaluation from a method name, a density and key=value parameters (or a
// plan file), as the CLI's masks eval and the plugin host's evaluate_masks build it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "analysis/masks/plan_choice.h"
#include "kernels/error.h"
#include "tests/unit/masks/mask_reference.h"

namespace am = attnscope::masks;
namespace mr = attnscope::testing::masks;
using Catch::Contains;

namespace {

// One layer of two query heads sharing a KV head, 150 random rows each.
am::MaskLab random_lab() {
  std::vector<am::RecordedHead> recorded;
  for (int h = 0; h < 2; ++h) {
    const mr::RefHead r = mr::random_head(150, 0, 0, 8, uint32_t(70 + h));
    recorded.push_back({{0, h}, r.rows, r.first_position, r.head_dim, r.model_window, float(r.scale), r.q, r.k, r.v});
  }
  return am::MaskLab(std::move(recorded));
}

attnscope::model::ModelSpec lab_spec() {
  attnscope::model::ModelSpec spec;
  spec.num_layers = 1;
  spec.num_heads = 2;
  spec.num_kv_heads = 1;
  spec.head_dim = 8;
  spec.max_position_embeddings = 2048;
  return spec;
}

am::PlanChoice method(const std::string& name, std::optional<double> density, std::vector<std::string> params = {}) {
  am::PlanChoice c;
  c.method = name;
  c.density = density;
  c.params = std::move(params);
  return c;
}

}  // namespace

TEST_CASE("A family method gives every head that family at the density asked", "[masks]") {
  const am::MaskPlan plan = am::build_plan(method("window", 0.25), random_lab(), lab_spec(), "--method");
  REQUIRE(plan.num_layers() == 1);
  REQUIRE(plan.num_heads() == 2);
  CHECK(plan.name == am::describe(am::HeadMask{am::WindowMask{}, 0.25}));
  CHECK(std::holds_alternative<am::WindowMask>(plan.at({0, 1}).family));
  CHECK(plan.at({0, 1}).density == std::optional<double>(0.25));
}

TEST_CASE("A named method refuses parameters it does not take, naming the method and its own", "[masks]") {
  CHECK_THROWS_WITH(am::build_plan(method("duo", std::nullopt, {"capacity=8"}), random_lab(), lab_spec(), "--method"),
                    Contains("--method duo: has no parameter 'capacity' (its parameters: sink_tokens, window, sparsity)"));
  CHECK_THROWS_WITH(am::build_plan(method("minference", std::nullopt, {"x=1"}), random_lab(), lab_spec(), "--method"),
                    Contains("its parameters: none"));
}

TEST_CASE("A method parameter that is not a number is refused whole", "[masks]") {
  CHECK_THROWS_WITH(am::build_plan(method("duo", std::nullopt, {"window=64x"}), random_lab(), lab_spec(), "svc"),
                    Contains("svc duo: 'window=64x' is not a number"));
}

TEST_CASE("MoA needs a density and every density lies in (0, 1]", "[masks]") {
  CHECK_THROWS_WITH(am::build_plan(method("moa", std::nullopt), random_lab(), lab_spec(), "--method"),
                    Contains("--method moa: needs a density"));
  CHECK_THROWS_WITH(am::build_plan(method("topk", 1.5), random_lab(), lab_spec(), "--method"),
                    Contains("the density must be in (0, 1]"));
}

TEST_CASE("A plan file and a method together, or neither, are refused", "[masks]") {
  am::PlanChoice both = method("window", 0.5);
  both.plan_file = std::filesystem::path("plan.json");
  CHECK_THROWS_WITH(am::build_plan(both, random_lab(), lab_spec(), "here"), Contains("here: give a method or a plan file, not both"));
  CHECK_THROWS_WITH(am::build_plan(am::PlanChoice{}, random_lab(), lab_spec(), "here"), Contains("give a plan file or a method"));
}

TEST_CASE("A plan file is read and checked against the model", "[masks]") {
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "attnscope_plan_choice.json";
  am::MaskPlan written(lab_spec(), am::HeadMask{am::StreamingMask{4, {32, 0}}, std::nullopt});
  am::write_plan_file(written, file);
  am::PlanChoice choice;
  choice.plan_file = file;
  CHECK(am::build_plan(choice, random_lab(), lab_spec(), "here") == written);
  attnscope::model::ModelSpec bigger = lab_spec();
  bigger.num_layers = 2;
  CHECK_THROWS_AS(am::build_plan(choice, random_lab(), bigger, "here"), attnscope::Error);
  std::filesystem::remove(file);
}

TEST_CASE("Heads with masks of their own keep them over the method's", "[masks]") {
  am::PlanChoice choice = method("window", 0.25);
  choice.head_masks = {{{0, 1}, am::HeadMask{am::DenseMask{}, std::nullopt}}};
  const am::MaskPlan plan = am::build_plan(choice, random_lab(), lab_spec(), "--method");
  CHECK(std::holds_alternative<am::DenseMask>(plan.at({0, 1}).family));
  CHECK(std::holds_alternative<am::WindowMask>(plan.at({0, 0}).family));
  CHECK_THAT(plan.name, Contains("1 head of its own"));
}

TEST_CASE("A head's own mask outside the model or out of range is refused naming the head", "[masks]") {
  am::PlanChoice outside = method("window", 0.25);
  outside.head_masks = {{{3, 0}, am::HeadMask{am::DenseMask{}, std::nullopt}}};
  CHECK_THROWS_WITH(am::build_plan(outside, random_lab(), lab_spec(), "lab"),
                    Contains("lab: the mask of layer 3 head 0 of its own") && Contains("the layer is out of range"));
  am::PlanChoice bad = method("window", 0.25);
  bad.head_masks = {{{0, 0}, am::HeadMask{am::TopKMask{0}, std::nullopt}}};
  CHECK_THROWS_WITH(am::build_plan(bad, random_lab(), lab_spec(), "lab"), Contains("keys is 0"));
}

TEST_CASE("A family method's mask is the one its plan gives every head; a per-head plan has none", "[masks]") {
  const am::HeadMask mask = am::family_mask(method("streaming", std::nullopt, {"sink_tokens=64", "window=256"}), "lab");
  CHECK(mask == am::HeadMask{am::StreamingMask{64, {256, 0}}, std::nullopt});
  CHECK_THROWS_WITH(am::family_mask(method("duo", std::nullopt), "lab"), Contains("is a per-head plan"));
  CHECK(am::is_per_head_plan("moa"));
  CHECK_FALSE(am::is_per_head_plan("topk"));
}
