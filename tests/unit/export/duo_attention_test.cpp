// DuoAttention patterns: the writer's bytes (NumPy's %.18e, tabs, one-line config), the
// published patterns read back byte for byte, shapes and values refused with the file and
// the dimension named, and the pattern as a plan (sparsity quantile, ties, threshold).
#include <catch2/catch.hpp>

#include "analysis/export/duo_attention.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

const std::string kConfig = R"({"sink_size": 64, "recent_size": 256})";

ex::DuoPattern pattern_of(std::vector<std::vector<double>> gates) {
  ex::DuoPattern p;
  p.gates = std::move(gates);
  p.sink_size = 64;
  p.recent_size = 256;
  return p;
}

std::string read_duo_error(const std::string& tsv, const std::string& config = kConfig) {
  try {
    ex::parse_duo_pattern(tsv, config, tiny_shape(), "full_attention_heads.tsv", "config.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("The DuoAttention export of the known profile matches its golden files", "[export]") {
  ex::DuoPattern p = ex::duo_from_profile(known_profile(), tiny_shape());
  p.config["model_name"] = "test/tiny-gqa";
  p.config["kv_reduction"] = "max";
  check_golden("duo/full_attention_heads.tsv", ex::duo_gates_text(p, tiny_shape()));
  check_golden("duo/config.json", ex::duo_config_text(p));
}

TEST_CASE("The DuoAttention gate of a KV head is its query group's max, or the mean on request", "[export]") {
  const ex::DuoPattern max = ex::duo_from_profile(known_profile(), tiny_shape());
  const ex::DuoPattern mean = ex::duo_from_profile(known_profile(), tiny_shape(), attnscope::profile::KvReduction::Mean);
  // Layer 1, KV head 1 holds query heads 2 and 3: gates 6/11 and 7/11.
  CHECK(max.gates[1][1] == Approx(7.0 / 11).margin(1e-15));
  CHECK(mean.gates[1][1] == Approx(6.5 / 11).margin(1e-15));
}

TEST_CASE("The published DuoAttention patterns are rewritten byte for byte", "[export]") {
  // Meta-Llama-3.1-8B's gates are all within [0, 1], so clipping changes nothing.
  const auto dir = reference_dir() / "duo-attention" / "Meta-Llama-3.1-8B-Instruct";
  const ex::ModelShape shape = real_model("Meta-Llama-3.1-8B-Instruct");
  const ex::DuoPattern p = ex::read_duo_directory(dir, shape);
  CHECK(p.sink_size == 128);
  CHECK(p.recent_size == 256);
  CHECK(ex::duo_gates_text(p, shape) == ex::read_text_file(dir / "full_attention_heads.tsv"));
  CHECK(ex::duo_config_text(p) == ex::read_text_file(dir / "config.json"));
}

TEST_CASE("DuoAttention gates a little below 0 are clipped as its loader does", "[export]") {
  const ex::DuoPattern p = ex::read_duo_directory(reference_dir() / "duo-attention" / "Llama-2-7B-32K-Instruct",
                                                  real_model("Llama-2-7B-32K-Instruct"));
  REQUIRE(p.gates.size() == 32);
  double lowest = 1;
  for (const auto& row : p.gates)
    for (double g : row) lowest = std::min(lowest, g);
  CHECK(lowest == 0.0);  // the file holds -1.4e-3
}

TEST_CASE("A DuoAttention pattern for one model is refused for a model of another shape", "[export]") {
  const auto dir = reference_dir() / "duo-attention" / "Meta-Llama-3.1-8B-Instruct";
  CHECK_THROWS_WITH(ex::read_duo_directory(dir, real_model("Llama-2-7B-32K-Instruct")),
                    Contains("full_attention_heads.tsv: line 1 has 8 columns but the model") && Contains("has 32 KV heads"));
  CHECK_THROWS_WITH(ex::read_duo_directory(dir, real_model("Llama-3.2-1B-Instruct")),
                    Contains("full_attention_heads.tsv: 17 rows or more but the model") && Contains("has 16 layers"));
}

TEST_CASE("A DuoAttention file with the wrong row count names the rows and the layers", "[export]") {
  CHECK_THROWS_WITH(ex::parse_duo_pattern("0\t1\n1\t0\n", kConfig, tiny_shape(), "full_attention_heads.tsv", "config.json"),
                    "full_attention_heads.tsv: 2 rows but the model (tiny/config.json) has 3 layers");
}

TEST_CASE("Malformed DuoAttention gates are refused with the line and column", "[export]") {
  CHECK_THAT(read_duo_error("0\t1\n1\tx\n0\t0\n"), Contains("line 2 column 2: 'x' is not a number"));
  CHECK_THAT(read_duo_error("0 1\n1 0\n0 0\n"), Contains("line 1 column 1") && Contains("single tabs"));
  CHECK_THAT(read_duo_error("0\t1\n1\tnan\n0\t0\n"), Contains("line 2 column 2: the gate is nan, not a finite number"));
  CHECK_THAT(read_duo_error("0\t1\n1\t1.5\n0\t0\n"), Contains("the gate 1.5 is outside [0, 1]"));
  CHECK_THAT(read_duo_error("0\t1\n1\t-0.2\n0\t0\n"), Contains("the gate -0.2 is outside [0, 1]"));
  CHECK_THAT(read_duo_error("0\t1\n1\t0\n0\t"), Contains("line 3 column 2"));  // truncated
  CHECK_THAT(read_duo_error(""), Contains("0 rows but the model"));
}

TEST_CASE("A DuoAttention config without integer sizes is refused", "[export]") {
  const std::string tsv = "0\t1\n1\t0\n0\t0\n";
  CHECK_THAT(read_duo_error(tsv, R"({"sink_size": 64})"), Contains("config.json: \"recent_size\" is missing"));
  CHECK_THAT(read_duo_error(tsv, R"({"sink_size": 64.0, "recent_size": 256})"),
             Contains("\"sink_size\" must be an integer, not a number (64.0)"));
  CHECK_THAT(read_duo_error(tsv, R"({"sink_size": "64", "recent_size": 256})"), Contains("not a string"));
  CHECK_THAT(read_duo_error(tsv, R"({"sink_size": 64, "recent_size": 0})"), Contains("\"recent_size\" must be 1 or more"));
  CHECK_THAT(read_duo_error(tsv, R"({"sink_size": 64, "recent_size": 256)"), Contains("config.json: is not valid JSON"));
  CHECK_THAT(read_duo_error(tsv, "[64, 256]"), Contains("config.json: must hold one JSON object"));
}

TEST_CASE("A DuoAttention pattern written and read back is unchanged", "[export]") {
  ex::DuoPattern p = pattern_of({{0.125, 1}, {0, 0.5}, {1.0 / 3, 2.0 / 3}});
  p.config["model_name"] = "x";
  const auto dir = temp_dir("duo_round_trip");
  ex::write_duo_directory(p, tiny_shape(), dir);
  const ex::DuoPattern back = ex::read_duo_directory(dir, tiny_shape());
  CHECK(back.gates == p.gates);  // %.18e keeps every bit of a double
  CHECK(back.sink_size == 64);
  CHECK(back.recent_size == 256);
  CHECK(back.config["model_name"] == "x");
}

TEST_CASE("DuoAttention's sparsity makes the ceil((n - 1) s) lowest gates streaming", "[export]") {
  // Six KV heads, distinct gates: NumPy's 0.5-quantile lies between the 3rd and 4th
  // lowest, so 3 go streaming; at 0.4 the quantile is the 3rd lowest itself, which stays full.
  const ex::DuoPattern p = pattern_of({{0.9, 0.1}, {0.3, 0.7}, {0.5, 0.2}});
  const auto half = ex::duo_full_heads(p, {0.5, std::nullopt});
  CHECK(half == std::vector<std::vector<bool>>{{true, false}, {false, true}, {true, false}});
  const auto forty = ex::duo_full_heads(p, {0.4, std::nullopt});
  CHECK(forty == std::vector<std::vector<bool>>{{true, false}, {true, true}, {true, false}});
  CHECK(ex::duo_full_heads(p, {1.0, std::nullopt}) == std::vector<std::vector<bool>>(3, {false, false}));
  CHECK(ex::duo_full_heads(p, {0.0, std::nullopt}) == std::vector<std::vector<bool>>(3, {true, true}));
}

TEST_CASE("Equal DuoAttention gates go streaming in layer-major order", "[export]") {
  const ex::DuoPattern p = pattern_of({{0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}});
  CHECK(ex::duo_full_heads(p, {0.5, std::nullopt}) ==
        std::vector<std::vector<bool>>{{false, false}, {false, true}, {true, true}});
}

TEST_CASE("A DuoAttention threshold keeps the gates at or above it full", "[export]") {
  const ex::DuoPattern p = pattern_of({{0.9, 0.1}, {0.3, 0.7}, {0.5, 0.2}});
  CHECK(ex::duo_full_heads(p, {std::nullopt, 0.5}) ==
        std::vector<std::vector<bool>>{{true, false}, {false, true}, {true, false}});
}

TEST_CASE("An imported DuoAttention pattern is a plan of dense groups and sink + recent streaming", "[export]") {
  const ex::DuoPattern p = pattern_of({{0.9, 0.1}, {0.3, 0.7}, {0.5, 0.2}});
  const am::MaskPlan plan = ex::duo_to_plan(p, tiny_shape(), {0.5, std::nullopt});
  const am::HeadMask streaming{am::StreamingMask{64, {256, 0}}, std::nullopt};
  const am::HeadMask dense{am::DenseMask{}, std::nullopt};
  // Layer 0: KV head 0 (query heads 0, 1) full, KV head 1 (2, 3) streaming.
  CHECK(plan.at({0, 0}) == dense);
  CHECK(plan.at({0, 1}) == dense);
  CHECK(plan.at({0, 2}) == streaming);
  CHECK(plan.at({0, 3}) == streaming);
  CHECK(plan.at({1, 1}) == streaming);
  CHECK(plan.at({1, 2}) == dense);
}

TEST_CASE("A DuoAttention plan exported and imported again keeps its heads", "[export]") {
  const ex::DuoPattern p = pattern_of({{0.9, 0.1}, {0.3, 0.7}, {0.5, 0.2}});
  const am::MaskPlan plan = ex::duo_to_plan(p, tiny_shape(), {0.5, std::nullopt});
  const ex::DuoPattern exported = ex::duo_from_plan(plan, tiny_shape());
  CHECK(exported.gates == std::vector<std::vector<double>>{{1, 0}, {0, 1}, {1, 0}});
  CHECK(exported.sink_size == 64);
  CHECK(exported.recent_size == 256);
  am::MaskPlan again = ex::duo_to_plan(exported, tiny_shape(), {std::nullopt, 0.5});
  again.name = plan.name;  // the name says which selection made it
  CHECK(again == plan);
}

TEST_CASE("A plan whose KV group mixes dense and streaming heads has no DuoAttention pattern", "[export]") {
  am::MaskPlan plan(3, 4, {am::DenseMask{}, std::nullopt});
  plan.set({2, 1}, {am::StreamingMask{64, {256, 0}}, std::nullopt});
  CHECK_THROWS_WITH(ex::duo_from_plan(plan, tiny_shape()), Contains("KV head 0 of layer 2 has dense and streaming"));
  plan.set({2, 1}, {am::TopKMask{64}, std::nullopt});
  CHECK_THROWS_WITH(ex::duo_from_plan(plan, tiny_shape()), Contains("layer 2 head 1 runs topk"));
}

TEST_CASE("A profile without streaming gates has no DuoAttention pattern", "[export]") {
  attnscope::profile::HeadProfile p(3, 4);
  CHECK_THROWS_WITH(ex::duo_from_profile(p, tiny_shape()), Contains("layer 0 head 0 has no streaming_gate"));
}
