// The length-scaling plugin on the sample model: span_90 at three lengths, MoA's rule
// fitted per head (checked against a least-squares fit done here), the MoA file read
// back by the MoA reader, and the CSV.
#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

#include "analysis/export/format_text.h"
#include "analysis/export/model_shape.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/store/head_metric_records.h"
#include "analysis/store/unit_records.h"
#include "tests/unit/plugins/bundled_plugin_support.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
namespace ex = attnscope::exports;
using attnscope::testing::BundledJob;
using attnscope::testing::TempDir;
using Catch::Contains;

namespace {

struct Scaling {
  TempDir dir;
  plugins::JobOutcome outcome;
  Scaling() {
    outcome = BundledJob("length-scaling", "spans")
                  .run({"lengths=128,256,512"}, attnscope::testing::bundled_environment(dir.path()));
  }
};

const Scaling& scaling() {
  static const Scaling s;
  return s;
}

const std::filesystem::path kModel = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";

}  // namespace

TEST_CASE("length scaling stores each length's span_90 of every head as a unit", "[plugins][sample]") {
  const Scaling& s = scaling();
  INFO(s.outcome.error);
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto db = store::Database::open(s.dir / "store.db", store::OpenMode::ReadOnly);
  const auto units = store::list_units(db, s.outcome.runs.at(0));
  REQUIRE(units.size() == 3);
  for (size_t i = 0; i < units.size(); ++i) {
    CHECK(units[i].parameters["length"] == std::vector<int>{128, 256, 512}[i]);
    const auto metrics = store::read_head_metrics(db, s.outcome.runs[0], units[i].id);
    CHECK(metrics.size() == 64);
    for (const auto& m : metrics) CHECK(m.name == "span_90");
  }
}

TEST_CASE("length scaling fits each head's span rule by least squares over its lengths", "[plugins][sample]") {
  const Scaling& s = scaling();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  std::map<std::pair<int, int>, std::vector<std::map<std::string, std::string>>> per_head;
  for (const auto& row : attnscope::testing::csv_rows(s.dir / "out" / "length_scaling.csv"))
    per_head[{std::stoi(row.at("layer")), std::stoi(row.at("head"))}].push_back(row);
  REQUIRE(per_head.size() == 64);
  for (const auto& [at, rows] : per_head) {
    CAPTURE(at.first, at.second);
    REQUIRE(rows.size() == 3);
    double mn = 0, ms = 0;
    for (const auto& r : rows) mn += std::stod(r.at("prompt_tokens")) / 3, ms += std::stod(r.at("span_90")) / 3;
    double cov = 0, var = 0;
    for (const auto& r : rows) {
      const double n = std::stod(r.at("prompt_tokens")), sp = std::stod(r.at("span_90"));
      cov += (n - mn) * (sp - ms);
      var += (n - mn) * (n - mn);
    }
    const double beta = std::clamp(cov / var, 0.0, 1.0);
    // 10 significant digits in the CSV.
    CHECK(std::stod(rows[0].at("span_beta")) == Approx(beta).margin(1e-9));
    CHECK(std::stod(rows[0].at("span_alpha")) == Approx(ms - beta * mn).margin(1e-6));
    // A span is at most the rows captured (a span of every row keeps everything): the
    // prompt and its answer, at most 50 tokens (Retrieval_Head's limit).
    for (const auto& r : rows) CHECK(std::stod(r.at("span_90")) <= std::stod(r.at("prompt_tokens")) + 50);
  }
}

TEST_CASE("length scaling's MoA plan is read back by the MoA reader with the fitted rules", "[plugins][sample]") {
  const Scaling& s = scaling();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const ex::ModelShape shape = ex::read_model_shape(kModel);
  const std::string text = attnscope::testing::file_text(s.dir / "out" / "moa_0.json");
  const ex::MoaRules rules = ex::parse_moa(text, shape, "moa_0.json");
  REQUIRE(rules.alphas.size() == 8);
  CHECK(text == ex::moa_text(rules, shape));  // MoA's own one-line layout
  const auto db = store::Database::open(s.dir / "store.db", store::OpenMode::ReadOnly);
  int checked = 0;
  for (const auto& m : store::run_head_values(db, s.outcome.runs[0]).metrics) {
    if (m.name == "span_alpha") {
      CHECK(rules.alphas[size_t(m.layer)][size_t(m.head)] == m.number());
      ++checked;
    }
    if (m.name == "span_beta") {
      CHECK(rules.betas[size_t(m.layer)][size_t(m.head)] == m.number());
      ++checked;
    }
  }
  CHECK(checked == 2 * 64);  // exact: both are the fit's doubles, and Python's repr keeps every bit
}

TEST_CASE("length scaling refuses fewer than two different lengths", "[plugins]") {
  TempDir dir;
  const auto outcome =
      BundledJob("length-scaling", "spans").run({"lengths=256,256"}, attnscope::testing::bundled_environment(dir.path()));
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("two or more different lengths"));
  const auto close =
      BundledJob("length-scaling", "spans").run({"lengths=256,300"}, attnscope::testing::bundled_environment(dir.path()));
  CHECK(close.status == store::RunStatus::Failed);
  CHECK_THAT(close.error, Contains("at least 1.25x"));
}
