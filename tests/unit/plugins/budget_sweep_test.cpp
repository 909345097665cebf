// The budget-sweep plugin on the sample model: two families at two budgets on a passkey
// prompt, its units, CSV and plot; settings refused before any model is loaded.
#include <catch2/catch.hpp>

#include "analysis/store/head_metric_records.h"
#include "analysis/store/unit_records.h"
#include "plugins/support/chart_style.h"
#include "tests/unit/plugins/bundled_plugin_support.h"
#include "tests/unit/plugins/png_reader.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
namespace ps = attnscope::plugin_support;
using attnscope::testing::BundledJob;
using attnscope::testing::TempDir;
using Catch::Contains;

namespace {

struct Sweep {
  TempDir dir;
  plugins::JobOutcome outcome;
  Sweep() {
    outcome = BundledJob("budget-sweep", "families")
                  .run({"families=streaming,topk", "densities=0.1,0.3", "length=256", "params=streaming:sink_tokens=8"},
                       attnscope::testing::bundled_environment(dir.path()));
  }
};

const Sweep& sweep() {
  static const Sweep s;
  return s;
}

}  // namespace

TEST_CASE("the budget sweep stores one unit per family and budget with every head's evaluation", "[plugins][sample]") {
  const Sweep& s = sweep();
  INFO(s.outcome.error);
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto db = store::Database::open(s.dir / "store.db", store::OpenMode::ReadOnly);
  const auto units = store::list_units(db, s.outcome.runs.at(0));
  REQUIRE(units.size() == 4);
  CHECK(units[0].parameters["family"] == "streaming");
  CHECK(units[0].parameters["params"] == nlohmann::json({"sink_tokens=8"}));
  CHECK(units[3].parameters["family"] == "topk");
  CHECK(units[3].parameters["requested_density"] == 0.3);
  CHECK(units[0].prompt_tokens > 240);  // the passkey prompt, stored with each unit
  // Per head: density, method (text), min_recall, output_cosine, output_rel_l2, recall.
  CHECK(store::read_head_metrics(db, s.outcome.runs[0], units[2].id).size() == 64 * 6);
}

TEST_CASE("the budget sweep's CSV has each family's recall growing and its error shrinking with the budget",
          "[plugins][sample]") {
  const Sweep& s = sweep();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto rows = attnscope::testing::csv_rows(s.dir / "out" / "budget_sweep.csv");
  REQUIRE(rows.size() == 4);
  for (size_t f = 0; f < 2; ++f) {
    const auto& low = rows[2 * f];
    const auto& high = rows[2 * f + 1];
    CAPTURE(low.at("family"));
    CHECK(low.at("family") == high.at("family"));
    // Both families reach these budgets on a 256-token prompt (streaming to a window step, topk per row).
    CHECK(std::stod(low.at("density")) == Approx(0.1).margin(0.02));
    CHECK(std::stod(high.at("density")) == Approx(0.3).margin(0.02));
    CHECK(std::stod(high.at("recall")) > std::stod(low.at("recall")));
    CHECK(std::stod(high.at("output_rel_l2")) < std::stod(low.at("output_rel_l2")));
    CHECK(std::stod(high.at("kl_mean")) < std::stod(low.at("kl_mean")));  // end_to_end's default: on
    CHECK(std::stod(low.at("ppl_full")) == Approx(std::stod(high.at("ppl_full"))).epsilon(1e-12));  // one dense run
  }
  CHECK_THAT(rows[0].at("plan"), Contains("sink_tokens 8"));
}

TEST_CASE("the budget sweep's plot decodes with a line of its own colour per family", "[plugins][sample]") {
  const Sweep& s = sweep();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto png = attnscope::testing::read_png(s.dir / "out" / "budget_sweep_0.png");
  CHECK(png.channels == 3);
  CHECK(png.width > png.height);  // three panels side by side
  for (size_t family = 0; family < 2; ++family) {
    const ps::Rgb c = ps::series_colour(family);
    size_t n = 0;
    for (size_t i = 0; i + 2 < png.pixels.size(); i += 3)
      n += png.pixels[i] == c.r && png.pixels[i + 1] == c.g && png.pixels[i + 2] == c.b ? 1 : 0;
    CAPTURE(family);
    CHECK(n > 300);  // two-pixel lines across three panels, markers and the legend's sample
  }
}

TEST_CASE("a budget outside (0, 1] is refused before any model is loaded", "[plugins]") {
  TempDir dir;
  const auto outcome = BundledJob("budget-sweep", "families")
                           .run({"densities=0.1,1.5"}, attnscope::testing::bundled_environment(dir.path()));
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("densities are shares of the visible entries in (0, 1], not 1.5"));
  CHECK(outcome.runs.empty());
}

TEST_CASE("a family parameter for a family not swept is refused", "[plugins]") {
  TempDir dir;
  const auto outcome = BundledJob("budget-sweep", "families")
                           .run({"families=topk", "params=streaming:window=8"}, attnscope::testing::bundled_environment(dir.path()));
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("'streaming:window=8' is not FAMILY:key=value for one of the families"));
}
