// The budget table: one entry per method with the families' and plans' own names and
// defaults, ranges that follow the prompt's length, slider positions and the --param text.
#include <catch2/catch.hpp>

#include <algorithm>

#include "analysis/masks/method_budgets.h"
#include "analysis/masks/named_plans.h"
#include "analysis/masks/plan_choice.h"
#include "kernels/error.h"

namespace am = attnscope::masks;
using Catch::Contains;

namespace {

const am::BudgetParameter& parameter(std::string_view method, std::string_view name) {
  const am::BudgetParameter* p = am::method_budget(method, "test").find(name);
  REQUIRE(p);
  return *p;
}

am::BudgetRange range(std::string_view method, std::string_view name, int64_t tokens, am::BudgetValues values = {}) {
  return am::budget_range(am::method_budget(method, "test"), parameter(method, name), tokens, values);
}

}  // namespace

TEST_CASE("Every mask family and every per-head plan has one entry in the budget table", "[masks]") {
  std::vector<std::string_view> listed;
  for (const am::MethodBudget& m : am::method_budgets()) listed.push_back(m.method);
  std::vector<std::string_view> expected = am::method_names();
  expected.insert(expected.end(), {"duo", "moa", "minference"});
  CHECK(listed == expected);
  for (const am::MethodBudget& m : am::method_budgets()) CHECK(m.per_head_plan == am::is_per_head_plan(m.method));
}

TEST_CASE("A family's budget parameters are its own, named and defaulted as the plan file writes them", "[masks]") {
  for (const am::MethodBudget& m : am::method_budgets()) {
    if (m.per_head_plan) continue;
    const nlohmann::json defaults = am::mask_to_json({am::default_family(m.method, "test"), std::nullopt});
    for (const am::BudgetParameter& p : m.parameters) {
      INFO(std::string(m.method) + " " + std::string(p.name));
      REQUIRE(defaults.contains(std::string(p.name)));
      CHECK(defaults[std::string(p.name)].get<double>() == p.default_value);  // the same number, exactly
      // Its default as a --param setting gives the family's default mask back.
      am::HeadMask mask{am::default_family(m.method, "test"), std::nullopt};
      am::apply_parameter(mask, am::budget_setting(p, p.default_value), "test");
      CHECK(mask == am::HeadMask{am::default_family(m.method, "test"), std::nullopt});
    }
  }
}

TEST_CASE("The per-head plans' parameters default to the settings their builders use", "[masks]") {
  const am::DuoSettings duo;
  CHECK(parameter("duo", "sink_tokens").default_value == double(duo.sink_tokens));
  CHECK(parameter("duo", "window").default_value == double(duo.recent));
  CHECK(parameter("duo", "sparsity").default_value == duo.sparsity);
  CHECK(parameter("moa", "rules_per_layer").default_value == double(am::kMoaRulesPerLayer));
  CHECK(am::method_budget("moa", "test").density == am::DensityUse::Required);
  CHECK(am::method_budget("minference", "test").parameters.empty());
  CHECK(am::method_budget("dense", "test").density == am::DensityUse::None);
}

TEST_CASE("An unknown method is refused naming the known ones", "[masks]") {
  CHECK_THROWS_WITH(am::method_budget("stream", "the lab"),
                    Contains("the lab: unknown method \"stream\"; the methods are dense, streaming"));
}

TEST_CASE("Token budgets range from their minimum to the prompt's length", "[masks]") {
  CHECK(range("streaming", "window", 500) == am::BudgetRange{1, 500});
  CHECK(range("streaming", "window", 4000) == am::BudgetRange{1, 4000});
  CHECK(range("streaming", "sink_tokens", 4000) == am::BudgetRange{0, 4000});
  CHECK(range("topk", "keys", 123) == am::BudgetRange{1, 123});
  CHECK(range("duo", "window", 900) == am::BudgetRange{1, 900});
  CHECK(parameter("streaming", "window").scale == am::BudgetScale::Log);  // 1 to thousands of tokens
}

TEST_CASE("Block counts range up to the prompt's blocks of the chosen size", "[masks]") {
  CHECK(range("block_topk", "blocks", 1000) == am::BudgetRange{2, 16});  // ceil(1000 / 64)
  CHECK(range("block_topk", "blocks", 1000, {{"block_size", 128}}) == am::BudgetRange{2, 8});
  CHECK(parameter("block_topk", "block_size").choices == std::vector<double>{64, 128});
}

TEST_CASE("A budget bounded by another parameter starts above that parameter's value", "[masks]") {
  CHECK(range("snapkv", "capacity", 2000) == am::BudgetRange{33, 2000});  // observation window 32 + 1
  CHECK(range("snapkv", "capacity", 2000, {{"observation_window", 100}}) == am::BudgetRange{101, 2000});
  CHECK(range("quest", "token_budget", 2000, {{"page_size", 64}}) == am::BudgetRange{64, 2000});
  // kept_columns has no slider: its default (30) bounds vertical.
  CHECK(range("vertical_slash", "vertical", 2000) == am::BudgetRange{30, 2000});
  CHECK(range("vertical_slash", "vertical", 2000, {{"kept_columns", 5}}) == am::BudgetRange{5, 2000});
}

TEST_CASE("A range never ends below its start, even on a prompt shorter than its minimum", "[masks]") {
  CHECK(range("snapkv", "capacity", 20) == am::BudgetRange{33, 33});
}

TEST_CASE("On a log scale a slider's ends are the range's ends and its middle the geometric mean", "[masks]") {
  const am::BudgetParameter& window = parameter("streaming", "window");
  const am::BudgetRange r{1, 10000};
  CHECK(am::budget_at_position(window, r, 0) == 1);
  CHECK(am::budget_at_position(window, r, 1) == 10000);
  CHECK(am::budget_at_position(window, r, 0.5) == 100);  // sqrt(1 x 10000), a whole token
  CHECK(am::budget_position(window, r, 100) == Approx(0.5).margin(1e-12));
  CHECK(am::budget_position(window, r, 1e6) == 1);  // beyond the prompt: the slider's end
}

TEST_CASE("A log range starting at 0 tokens is measured from 1 so that 0 sinks fit", "[masks]") {
  const am::BudgetParameter& sinks = parameter("streaming", "sink_tokens");
  const am::BudgetRange r{0, 999};
  CHECK(am::budget_at_position(sinks, r, 0) == 0);
  CHECK(am::budget_at_position(sinks, r, 1.0 / 3) == 9);  // 1000^(1/3) - 1
  CHECK(am::budget_position(sinks, r, 99) == Approx(2.0 / 3).margin(1e-12));
}

TEST_CASE("Values snap to whole tokens, odd kernels, the listed block sizes and four digits of a share", "[masks]") {
  CHECK(am::snap_budget(parameter("topk", "keys"), {1, 500}, 63.6) == 64);
  CHECK(am::snap_budget(parameter("topk", "keys"), {1, 500}, 0) == 1);
  CHECK(am::snap_budget(parameter("topk", "keys"), {1, 500}, 2000) == 2000);  // typed beyond the prompt: kept
  CHECK(am::snap_budget(parameter("snapkv", "kernel"), {1, 31}, 6.2) == 7);
  CHECK(am::budget_at_position(parameter("snapkv", "kernel"), {1, 30}, 1) == 29);  // 30 is even
  CHECK(am::snap_budget(parameter("block_topk", "block_size"), {64, 128}, 100) == 128);
  CHECK(am::snap_budget(parameter("topp", "mass"), {0.01, 1}, 0.912345) == Approx(0.9123).margin(1e-12));
  CHECK(am::snap_budget(parameter("topp", "mass"), {0.01, 1}, 1.5) == 1);
}

TEST_CASE("A budget's setting is the --param text that gives the same value", "[masks]") {
  CHECK(am::budget_setting(parameter("streaming", "window"), 256) == "window=256");
  CHECK(am::budget_setting(parameter("topp", "mass"), 0.95) == "mass=0.95");
  CHECK(am::budget_setting(parameter("threshold", "probability"), 1e-4) == "probability=0.0001");
  am::HeadMask mask{am::TopPMask{}, std::nullopt};
  am::apply_parameter(mask, am::budget_setting(parameter("topp", "mass"), 0.9123), "test");
  CHECK(std::get<am::TopPMask>(mask.family).mass == 0.9123);  // exactly
}
