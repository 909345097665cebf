// MInference best-pattern files: the writer's bytes, the published files rewritten byte
// for byte, the plan mapping both ways with MInference's clamps, the profile's classes,
// and malformed files refused.
#include <catch2/catch.hpp>

#include "analysis/export/minference_pattern.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

std::string minference_error(const std::string& text) {
  try {
    ex::parse_minference(text, tiny_shape(), "best_pattern.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

std::string layer_json(const std::string& head0) {
  return "{\"0\": " + head0 +
         ", \"1\": [\"stream_llm\", 100, 800, 0.9], \"2\": [\"block_sparse\", 1000, 6096, 1], \"3\": "
         "[\"vertical_and_slash\", 30, 800, null]}";
}

std::string pattern_json(const std::string& head0) {
  const std::string ok = layer_json("[\"vertical_and_slash\", 1000, 6096, 0.5]");
  return "[" + layer_json(head0) + ", " + ok + ", " + ok + "]";
}

}  // namespace

TEST_CASE("The MInference export of the known profile's classes matches its golden file", "[export]") {
  check_golden("minference/best_pattern.json",
               ex::minference_text(ex::minference_from_profile(known_profile(), tiny_shape()), tiny_shape()));
}

TEST_CASE("The published MInference patterns are rewritten byte for byte", "[export]") {
  for (const auto& [file, model] :
       {std::pair{"Phi_3_mini_128k_instruct_kv_out_v32_fit_o_best_pattern.json", "Phi-3-mini-128k-instruct"},
        std::pair{"Qwen2.5_7B_Instruct_1M.json", "Qwen2.5-7B-Instruct-1M"}}) {
    const auto path = reference_dir() / "minference" / file;
    const std::string text = ex::read_text_file(path);
    const ex::ModelShape shape = real_model(model);
    CHECK(ex::minference_text(ex::parse_minference(text, shape, path.string()), shape) == text);
  }
}

TEST_CASE("A published MInference pattern imported as a plan and exported again keeps its heads", "[export]") {
  const auto path = reference_dir() / "minference" / "Phi_3_mini_128k_instruct_kv_out_v32_fit_o_best_pattern.json";
  const ex::ModelShape shape = real_model("Phi-3-mini-128k-instruct");
  const ex::MinferencePattern p = ex::parse_minference(ex::read_text_file(path), shape, path.string());
  ex::MinferencePattern back = ex::minference_from_plan(ex::minference_to_plan(p, shape), shape);
  ex::MinferencePattern without_scores = p;
  for (auto& layer : without_scores)
    for (auto& head : layer) head.score.reset();  // a plan has no scores
  CHECK(back == without_scores);
  CHECK(p[8][1] == ex::MinferenceHead{ex::MinferenceType::StreamLlm, 100, 800, 0.96484375});
}

TEST_CASE("MInference heads become plan heads with MInference's clamps", "[export]") {
  ex::MinferencePattern p(3, std::vector<ex::MinferenceHead>(4));
  p[0][0] = {ex::MinferenceType::VerticalAndSlash, 10, 20, std::nullopt};
  p[0][1] = {ex::MinferenceType::VerticalAndSlash, 500, 70, std::nullopt};
  p[0][2] = {ex::MinferenceType::StreamLlm, 100, 800, std::nullopt};
  p[0][3] = {ex::MinferenceType::BlockSparse, 0, 0, std::nullopt};
  const am::MaskPlan plan = ex::minference_to_plan(p, tiny_shape());
  CHECK(plan.at({0, 0}) == am::HeadMask{am::VerticalSlashMask{30, 50, 64, 30, 50}, std::nullopt});
  CHECK(plan.at({0, 1}) == am::HeadMask{am::VerticalSlashMask{500, 70, 64, 30, 70}, std::nullopt});
  CHECK(plan.at({0, 2}) == am::HeadMask{am::StreamingMask{100, {800, 0}}, std::nullopt});
  CHECK(plan.at({0, 3}) == am::HeadMask{am::BlockTopKMask{64, 100, am::BlockScore::MeanPooled, 8}, std::nullopt});
  CHECK(plan.at({1, 0}) == am::HeadMask{am::VerticalSlashMask{1000, 6096, 64, 30, 100}, std::nullopt});
}

TEST_CASE("MInference sizes past a plan's limits are refused at import, not when the plan runs", "[export]") {
  ex::MinferencePattern p(3, std::vector<ex::MinferenceHead>(4));
  p[0][0] = {ex::MinferenceType::VerticalAndSlash, int64_t(1) << 62, int64_t(1) << 62, std::nullopt};
  CHECK_THROWS_WITH(ex::minference_to_plan(p, tiny_shape()), Contains("must be at most 1e15"));
}

TEST_CASE("A plan head MInference cannot run is refused naming the head", "[export]") {
  am::MaskPlan plan(3, 4, {am::VerticalSlashMask{}, std::nullopt});
  plan.set({1, 3}, {am::VerticalSlashMask{1000, 6096, 32, 30, 100}, std::nullopt});
  CHECK_THROWS_WITH(ex::minference_from_plan(plan, tiny_shape()), Contains("layer 1 head 3 runs vertical_slash"));
  plan.set({1, 3}, {am::DenseMask{}, std::nullopt});
  CHECK_THROWS_WITH(ex::minference_from_plan(plan, tiny_shape()), Contains("layer 1 head 3 runs dense"));
}

TEST_CASE("A MInference pattern for one model is refused for another", "[export]") {
  const auto path = reference_dir() / "minference" / "Qwen2.5_7B_Instruct_1M.json";
  CHECK_THROWS_WITH(ex::parse_minference(ex::read_text_file(path), real_model("Phi-3-mini-128k-instruct"), "p.json"),
                    Contains("p.json: 28 layer objects but the model") && Contains("has 32 layers"));
}

TEST_CASE("Malformed MInference patterns are refused with the place and the problem", "[export]") {
  CHECK(minference_error(pattern_json("[\"vertical_and_slash\", 1000, 6096, 0.5]")) == "no error");
  CHECK_THAT(minference_error(pattern_json("[\"dilated\", 1000, 6096, 0.5]")), Contains("unknown type \"dilated\""));
  CHECK_THAT(minference_error(pattern_json("[\"vertical_and_slash\", 1000.5, 6096, 0.5]")),
             Contains("layer 0 head \"0\" v must be an integer"));
  CHECK_THAT(minference_error(pattern_json("[\"vertical_and_slash\", 1000, 6096]")),
             Contains("must be [type, v, s, score], not a list of 3"));
  CHECK_THAT(minference_error(pattern_json("[\"vertical_and_slash\", -1, 6096, 0.5]")), Contains("must not be negative"));
  CHECK_THAT(minference_error(pattern_json("[\"vertical_and_slash\", 1000, 6096, NaN]")), Contains("NaN and Infinity"));
  const std::string ok = layer_json("[\"vertical_and_slash\", 1000, 6096, 0.5]");
  CHECK_THAT(minference_error("[" + ok + ", " + ok + "]"), Contains("2 layer objects but the model") && Contains("3 layers"));
  CHECK_THAT(minference_error("[" + ok + ", " + ok + ", {\"0\": [\"stream_llm\", 1, 2, 3]}]"),
             Contains("layer 2 has no head \"1\""));
  CHECK_THAT(minference_error("[" + ok + ", " + ok + ", {\"4\": [\"stream_llm\", 1, 2, 3]}]"),
             Contains("layer 2: the key \"4\" is not a query head"));
  CHECK_THAT(minference_error("[" + ok + ", " + ok + ", {\"00\": [\"stream_llm\", 1, 2, 3]}]"), Contains("\"00\""));
  CHECK_THAT(minference_error("[" + ok + ", " + ok), Contains("best_pattern.json: is not valid JSON"));
}
