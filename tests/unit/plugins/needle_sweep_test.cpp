// The needle-sweep plugin on the sample model: a 2 x 2 grid (256 and 512 tokens, the
// needle at the start and at the end, two needles per cell), its store units, CSV files
// and heatmap, and an interrupted sweep resumed.
#include <algorithm>
#include <atomic>
#include <set>

#include <catch2/catch.hpp>

#include "analysis/store/head_metric_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "plugins/support/chart_style.h"
#include "tests/unit/plugins/bundled_plugin_support.h"
#include "tests/unit/plugins/png_reader.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
namespace ps = attnscope::plugin_support;
using attnscope::testing::BundledJob;
using attnscope::testing::TempDir;

namespace {

const std::vector<std::string> kGrid = {"lengths=256,512", "depths=0,1", "needles=2"};

// One sweep shared by the tests that only read what it left.
struct Sweep {
  TempDir dir;
  plugins::JobOutcome outcome;
  Sweep() { outcome = BundledJob("needle-sweep", "grid").run(kGrid, attnscope::testing::bundled_environment(dir.path())); }
};

const Sweep& sweep() {
  static const Sweep s;
  return s;
}

size_t pixels_of(const attnscope::testing::DecodedPng& png, ps::Rgb colour) {
  size_t n = 0;
  for (size_t i = 0; i + 2 < png.pixels.size(); i += 3)
    n += png.pixels[i] == colour.r && png.pixels[i + 1] == colour.g && png.pixels[i + 2] == colour.b ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("the needle sweep stores one unit per cell of the grid in a complete run", "[plugins][sample]") {
  const Sweep& s = sweep();
  INFO(s.outcome.error);
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  REQUIRE(s.outcome.runs.size() == 1);
  const auto db = store::Database::open(s.dir / "store.db", store::OpenMode::ReadOnly);
  const auto run = store::get_run(db, s.outcome.runs[0]);
  CHECK(run.task == "needle-sweep.grid");
  CHECK(run.stored_status == store::RunStatus::Complete);
  const auto units = store::list_units(db, run.id);
  REQUIRE(units.size() == 4);
  // Ordinal = length index x depths + depth index.
  CHECK(units[1].parameters["length"] == 256);
  CHECK(units[1].parameters["depth"] == 1.0);
  CHECK(units[2].parameters["length"] == 512);
  for (const auto& u : units) {
    CHECK(u.outcome["tests"] == 2);
    CHECK(u.outcome["responses"].size() == 2);
  }
}

TEST_CASE("the needle sweep finds the sample model's retrieval head L7H2 first", "[plugins][sample]") {
  const Sweep& s = sweep();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto heads = attnscope::testing::csv_rows(s.dir / "out" / "retrieval_heads.csv");
  REQUIRE(heads.size() == 10);  // top_heads' default
  CHECK(heads[0].at("layer") == "7");
  CHECK(heads[0].at("head") == "2");
  CHECK(heads[0].at("rank") == "1");
  CHECK(std::stod(heads[0].at("retrieval_score")) > 0.9);  // the model card: L7H2 copies every answer token
  // The run's values: each head's mean over the cells, the same as the CSV's (10 digits written).
  const auto db = store::Database::open(s.dir / "store.db", store::OpenMode::ReadOnly);
  for (const auto& m : store::run_head_values(db, s.outcome.runs[0]).metrics)
    if (m.layer == 7 && m.head == 2) CHECK(m.number() == Approx(std::stod(heads[0].at("retrieval_score"))).epsilon(1e-9));
}

TEST_CASE("the needle sweep's cells CSV has each cell's tests, answers counted and accuracy", "[plugins][sample]") {
  const Sweep& s = sweep();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto cells = attnscope::testing::csv_rows(s.dir / "out" / "needle_cells.csv");
  REQUIRE(cells.size() == 4);
  std::set<std::pair<std::string, std::string>> grid;
  for (const auto& c : cells) {
    grid.insert({c.at("length"), c.at("depth")});
    CHECK(c.at("tests") == "2");
    CHECK(std::stod(c.at("accuracy")) == Approx(std::stod(c.at("correct")) / 2).margin(1e-12));
    CHECK(std::abs(std::stoll(c.at("prompt_tokens")) - std::stoll(c.at("length"))) <= 4);  // prompts fit their length
  }
  CHECK(grid == std::set<std::pair<std::string, std::string>>{{"256", "0"}, {"256", "1"}, {"512", "0"}, {"512", "1"}});
}

TEST_CASE("the needle heatmap decodes as an RGB image coloured by each cell's accuracy", "[plugins][sample]") {
  const Sweep& s = sweep();
  REQUIRE(s.outcome.status == store::RunStatus::Complete);
  const auto png = attnscope::testing::read_png(s.dir / "out" / "needle_heatmap_0.png");
  CHECK(png.channels == 3);
  CHECK(png.width > 300);
  CHECK(png.height > 200);
  // Not blank: the white background, black text and the cells' colours.
  std::set<uint32_t> colours;
  for (uint32_t y = 0; y < png.height; y += 3)
    for (uint32_t x = 0; x < png.width; x += 3) colours.insert(png.rgb(x, y));
  CHECK(colours.size() > 20);
  // Every cell's colour fills most of a cell (a cell is at least 64 x 36 pixels).
  for (const auto& c : attnscope::testing::csv_rows(s.dir / "out" / "needle_cells.csv")) {
    CAPTURE(c.at("length"), c.at("depth"), c.at("accuracy"));
    CHECK(pixels_of(png, ps::red_yellow_green(std::stod(c.at("accuracy")))) > 64 * 36 / 2);
  }
}

TEST_CASE("an interrupted needle sweep resumes at the first cell not done and writes the same files", "[plugins][sample]") {
  const Sweep& whole = sweep();
  REQUIRE(whole.outcome.status == store::RunStatus::Complete);
  TempDir dir;
  const BundledJob job("needle-sweep", "grid");
  auto env = attnscope::testing::bundled_environment(dir.path());
  std::atomic<bool> cancel{false};
  plugins::JobCallbacks callbacks;
  callbacks.cancel = &cancel;
  callbacks.on_progress = [&](const plugins::JobProgress& p) {
    if (p.message.find("512 tokens, depth 0%") != std::string::npos) cancel.store(true);
  };
  const auto stopped = job.run(kGrid, env, callbacks);
  REQUIRE(stopped.status == store::RunStatus::Interrupted);
  {
    const auto db = store::Database::open(dir / "store.db", store::OpenMode::ReadOnly);
    CHECK(store::list_units(db, stopped.runs.at(0)).size() == 2);  // the 256-token cells
  }
  env.resume = stopped.runs.at(0);
  std::vector<std::string> messages;
  callbacks = {};
  callbacks.on_progress = [&](const plugins::JobProgress& p) { messages.push_back(p.message); };
  const auto resumed = job.run(kGrid, env, callbacks);
  INFO(resumed.error);
  REQUIRE(resumed.status == store::RunStatus::Complete);
  CHECK(resumed.runs == stopped.runs);
  CHECK(std::count_if(messages.begin(), messages.end(),
                      [](const std::string& m) { return m.find("(done before)") != std::string::npos; }) == 2);
  // Read back from the store, the files equal an uninterrupted sweep's, byte for byte.
  for (const char* file : {"needle_cells.csv", "retrieval_heads.csv", "needle_heatmap_0.png"}) {
    CAPTURE(file);
    CHECK(attnscope::testing::file_text(dir / "out" / file) == attnscope::testing::file_text(whole.dir / "out" / file));
  }
}
