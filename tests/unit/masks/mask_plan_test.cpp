// Mask plans: per-head families with budgets, the plan file round trip, and malformed
// files, impossible budgets and unknown methods refused with the place and the problem.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "analysis/masks/mask_plan.h"
#include "kernels/error.h"

namespace am = attnscope::masks;
using Catch::Contains;

namespace {

am::MaskPlan mixed_plan() {
  am::MaskPlan plan(3, 5, {am::StreamingMask{64, {256, 0}}, std::nullopt});  // head 4 keeps the default
  plan.name = "duo-like";
  plan.set({2, 1}, {am::DenseMask{}, std::nullopt});
  plan.set({0, 3}, {am::StreamingMask{64, {-64 + 1024, 0.125}}, std::nullopt});  // MoA: alpha 1024, beta 1/8
  plan.set({1, 0}, {am::VerticalSlashMask{500, 700, 64, 30, 100}, std::nullopt});
  plan.set({1, 2}, {am::BlockThresholdMask{32, 0.9, am::BlockScore::Antidiagonal, 8}, std::nullopt});
  plan.set({1, 3}, {am::TopKMask{32}, 0.1});
  plan.set({2, 0}, {am::SnapKVMask{16, 128, 5, am::Pooling::Average, 32}, std::nullopt});
  plan.set({2, 2}, {am::H2OMask{20, 30, 8}, std::nullopt});
  plan.set({2, 3}, {am::QuestMask{16, 256, 64}, 0.25});
  plan.set({0, 0}, {am::TopPMask{0.95}, std::nullopt});
  plan.set({0, 1}, {am::ThresholdMask{0.002}, std::nullopt});
  plan.set({0, 2}, {am::VerticalSlashOracleMask{40, 50}, std::nullopt});
  plan.set({1, 1}, {am::BlockTopKMask{64, 4, am::BlockScore::MeanPooled, 8}, std::nullopt});
  return plan;
}

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("attnscope_masks_" + name);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("A plan mixing every family survives the JSON round trip unchanged", "[masks]") {
  const am::MaskPlan plan = mixed_plan();
  const am::MaskPlan back = am::plan_from_json(am::plan_to_json(plan), "test");
  CHECK(back == plan);
  CHECK(back.at({0, 3}) == plan.at({0, 3}));
  CHECK(back.name == "duo-like");
}

TEST_CASE("The plan file puts the most common mask in default and lists the others", "[masks]") {
  const nlohmann::json doc = am::plan_to_json(mixed_plan());
  CHECK(doc["attnscope_mask_plan"] == 1);
  CHECK(doc["default"]["method"] == "streaming");
  CHECK(doc["default"]["window"] == 256);
  CHECK(doc["heads"].size() == 12);  // 15 heads, 3 of them the default
  const nlohmann::json& first = doc["heads"][0];
  CHECK(first["layer"] == 0);
  CHECK(first["head"] == 0);
  CHECK(first["method"] == "topp");
  CHECK(doc["heads"][3]["window"] == nlohmann::json{{"tokens", 960.0}, {"per_token", 0.125}});
}

TEST_CASE("A plan file written to disk reads back equal", "[masks]") {
  const auto path = std::filesystem::temp_directory_path() / "attnscope_masks_plan_roundtrip.json";
  am::write_plan_file(mixed_plan(), path);
  CHECK(am::read_plan_file(path) == mixed_plan());
  std::filesystem::remove(path);
}

TEST_CASE("A MoA span grows with the sequence length and rounds to tokens", "[masks]") {
  const am::TokenSpan span{960, 0.125};
  CHECK(span.at(0) == 960);
  CHECK(span.at(2048) == 1216);
  CHECK(am::TokenSpan{-2000, 0.5}.at(1000) == 0);  // floored at 0
}

TEST_CASE("A head mask reads absent parameters as the family's defaults", "[masks]") {
  const am::HeadMask m = am::mask_from_json(nlohmann::json{{"method", "vertical_slash"}, {"vertical", 100}}, "test");
  const auto& vs = std::get<am::VerticalSlashMask>(m.family);
  CHECK(vs.vertical == 100);
  CHECK(vs.slash == 6096);
  CHECK(vs.last_queries == 64);
  CHECK(vs.kept_columns == 30);
  CHECK(vs.kept_diagonals == 100);
}

TEST_CASE("--param settings set a family's parameters and a density", "[masks]") {
  am::HeadMask m{am::default_family("block_threshold", "cli"), std::nullopt};
  am::apply_parameter(m, "mass=0.8", "cli");
  am::apply_parameter(m, "score=mean_pooled", "cli");
  am::apply_parameter(m, "block_size=32", "cli");
  am::apply_parameter(m, "density=0.2", "cli");
  const auto& b = std::get<am::BlockThresholdMask>(m.family);
  CHECK(b.mass == 0.8);
  CHECK(b.score == am::BlockScore::MeanPooled);
  CHECK(b.block_size == 32);
  CHECK(m.density == 0.2);
}

TEST_CASE("An unknown method is refused with the list of families", "[masks]") {
  CHECK_THROWS_WITH(am::default_family("bigbird", "cli"),
                    Contains("unknown method \"bigbird\"") && Contains("vertical_slash_oracle") && Contains("h2o"));
}

TEST_CASE("duo, moa and minference are refused as families and called plans", "[masks]") {
  CHECK_THROWS_WITH(am::default_family("moa", "cli"), Contains("per-head plan, not a mask family"));
}

TEST_CASE("A parameter the family does not have is refused with the family's own", "[masks]") {
  am::HeadMask m{am::TopKMask{}, std::nullopt};
  CHECK_THROWS_WITH(am::apply_parameter(m, "window=12", "cli"),
                    Contains("topk has no parameter \"window\"") && Contains("keys, density"));
}

TEST_CASE("Impossible budgets are refused naming the parameter", "[masks]") {
  CHECK_THROWS_WITH(am::check_mask({am::TopKMask{0}, std::nullopt}, "h"), Contains("keys is 0; it must be 1 or more"));
  CHECK_THROWS_WITH(am::check_mask({am::TopPMask{1.5}, std::nullopt}, "h"), Contains("mass is 1.5; it must be in (0, 1]"));
  CHECK_THROWS_WITH(am::check_mask({am::StreamingMask{4, {0, 0}}, std::nullopt}, "h"),
                    Contains("window is 0 tokens; it must be 1 or more"));
  CHECK_THROWS_WITH(am::check_mask({am::VerticalSlashMask{10, 200, 64, 30, 100}, std::nullopt}, "h"),
                    Contains("vertical (it counts the always-kept columns) is 10; it must be 30 or more"));
  CHECK_THROWS_WITH(am::check_mask({am::SnapKVMask{32, 32, 7, am::Pooling::Max, 8}, std::nullopt}, "h"),
                    Contains("capacity"));
  CHECK_THROWS_WITH(am::check_mask({am::SnapKVMask{32, 64, 4, am::Pooling::Max, 8}, std::nullopt}, "h"),
                    Contains("kernel must be odd"));
  CHECK_THROWS_WITH(am::check_mask({am::BlockTopKMask{64, 1, am::BlockScore::Exact, 8}, std::nullopt}, "h"),
                    Contains("blocks"));
  CHECK_THROWS_WITH(am::check_mask({am::TopKMask{8}, 0.0}, "h"), Contains("density is 0; it must be in (0, 1]"));
  CHECK_THROWS_WITH(am::check_mask({am::DenseMask{}, 0.5}, "h"), Contains("a dense head takes no density"));
  CHECK_THROWS_WITH(am::check_mask({am::QuestMask{16, 8, 4}, std::nullopt}, "h"), Contains("token_budget"));
}

TEST_CASE("A plan for another model is refused with both shapes", "[masks]") {
  attnscope::model::ModelSpec spec;
  spec.num_layers = 8;
  spec.num_heads = 8;
  CHECK_THROWS_WITH(mixed_plan().check_fits(spec),
                    Contains("the plan is for 3 layers of 5 query heads; the model has 8 layers of 8"));
}

TEST_CASE("Setting a head outside the plan names the head", "[masks]") {
  am::MaskPlan plan(2, 2, {am::DenseMask{}, std::nullopt});
  CHECK_THROWS_WITH(plan.set({2, 0}, {am::DenseMask{}, std::nullopt}), Contains("layer 2 head 0: the layer is out of range"));
}

TEST_CASE("A plan's distinct masks per layer are counted in head order", "[masks]") {
  const am::MaskPlan plan = mixed_plan();
  CHECK(plan.distinct_masks(2).size() == 5);
  am::MaskPlan two(1, 4, {am::StreamingMask{64, {256, 0}}, std::nullopt});
  two.set({0, 2}, {am::DenseMask{}, std::nullopt});
  CHECK(two.distinct_masks(0).size() == 2);
  CHECK(!two.all_dense());
}

TEST_CASE("A plan file without the format field is refused as not a plan", "[masks]") {
  const auto path = temp_file("noversion.json", R"({"num_layers": 2, "num_heads": 2})");
  CHECK_THROWS_WITH(am::read_plan_file(path), Contains(path.string()) && Contains("not an AttnScope mask plan"));
  std::filesystem::remove(path);
}

TEST_CASE("A plan file that is not JSON is refused naming the file", "[masks]") {
  const auto path = temp_file("broken.json", R"({"attnscope_mask_plan": 1, "num_layers": )");
  CHECK_THROWS_WITH(am::read_plan_file(path), Contains(path.string()));
  std::filesystem::remove(path);
}

TEST_CASE("A plan file of a newer format version is refused", "[masks]") {
  CHECK_THROWS_WITH(am::plan_from_json({{"attnscope_mask_plan", 2}, {"num_layers", 1}, {"num_heads", 1}}, "p.json"),
                    Contains("format version 2"));
}

TEST_CASE("A head entry outside the model, twice, or with a bad value is refused with its index", "[masks]") {
  const nlohmann::json base = {{"attnscope_mask_plan", 1}, {"num_layers", 2}, {"num_heads", 2},
                               {"default", {{"method", "dense"}}}};
  nlohmann::json outside = base;
  outside["heads"] = {{{"layer", 0}, {"head", 5}, {"method", "topk"}}};
  CHECK_THROWS_WITH(am::plan_from_json(outside, "p.json"),
                    Contains("p.json, \"heads\"[0]") && Contains("head is out of range"));
  nlohmann::json twice = base;
  twice["heads"] = {{{"layer", 1}, {"head", 1}, {"method", "topk"}}, {{"layer", 1}, {"head", 1}, {"method", "topp"}}};
  CHECK_THROWS_WITH(am::plan_from_json(twice, "p.json"), Contains("\"heads\"[1]") && Contains("given twice"));
  nlohmann::json bad = base;
  bad["heads"] = {{{"layer", 1}, {"head", 0}, {"method", "streaming"}, {"window", "long"}}};
  CHECK_THROWS_WITH(am::plan_from_json(bad, "p.json"), Contains("\"window\" is a string"));
  nlohmann::json fractional = base;
  fractional["heads"] = {{{"layer", 1}, {"head", 0}, {"method", "topk"}, {"keys", 2.5}}};
  CHECK_THROWS_WITH(am::plan_from_json(fractional, "p.json"), Contains("whole number"));
  nlohmann::json unknown = base;
  unknown["extra"] = 1;
  CHECK_THROWS_WITH(am::plan_from_json(unknown, "p.json"), Contains("unknown field \"extra\""));
}

TEST_CASE("Describing a mask names its family and parameters", "[masks]") {
  CHECK(am::describe({am::StreamingMask{4, {1024, 0}}, std::nullopt}) == "streaming sink_tokens 4 window 1024");
  CHECK(am::describe({am::TopKMask{64}, 0.1}) == "topk keys 64 @ density 0.1");
}

TEST_CASE("A plan file larger than any model is refused before its heads are allocated", "[masks][untrusted]") {
  // 2^20 layers of 2^20 heads passed each index's bound and then asked for 2^40 masks.
  const nlohmann::json doc = {{"attnscope_mask_plan", 1}, {"num_layers", 1 << 20}, {"num_heads", 1 << 20}};
  CHECK_THROWS_WITH(am::plan_from_json(doc, "plan.json"),
                    Contains("plan.json") && Contains("larger than any model AttnScope runs"));
}

TEST_CASE("A window of more than 1e15 tokens is refused, not rounded out of range", "[masks][untrusted]") {
  // Writing the plan back converted 1e300 tokens to int64: undefined behaviour.
  for (const double tokens : {1e300, -1e300, 2e15}) {
    INFO(tokens);
    const nlohmann::json mask = {{"method", "window"}, {"window", tokens}};
    CHECK_THROWS_WITH(am::mask_from_json(mask, "plan.json"), Contains("window is") && Contains("at most 1e15"));
  }
}
