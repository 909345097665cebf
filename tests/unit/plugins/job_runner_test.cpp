// Running plugin jobs through the host: the example plugin on the sample model, the
// store left consistent by a failing or cancelled job, resuming a batch, and the checks
// before a resume.
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "analysis/store/head_metric_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "kernels/error.h"
#include "plugins/host/job_runner.h"
#include "plugins/host/plugin_library.h"
#include "tests/unit/plugins/plugin_test_support.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
using attnscope::testing::TempDir;
using attnscope::testing::test_plugin;
using Catch::Contains;

namespace {

struct Job {
  std::shared_ptr<const plugins::PluginLibrary> library;
  plugins::PluginCatalog::JobRef ref;
  Job(const std::filesystem::path& path, const std::string& job) : library(plugins::PluginLibrary::load(path)) {
    ref = {library, library->info().find_job(job)};
    REQUIRE(ref.job != nullptr);
  }
  plugins::JobParameters parameters(std::vector<std::string> given) const {
    return plugins::JobParameters::parse(ref.qualified_name(), *ref.job, given);
  }
};

plugins::JobEnvironment environment(const TempDir& dir) {
  plugins::JobEnvironment env;
  env.sample_data = ATTNSCOPE_SAMPLE_DATA_DIR;
  env.database = dir / "store.db";
  env.output_folder = dir / "out";
  env.device.choice = attnscope::host::DeviceChoice::Cpu;
  env.device.cpu_threads = 2;
  return env;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

store::Database open_store(const TempDir& dir) { return store::Database::open(dir / "store.db", store::OpenMode::ReadOnly); }

std::vector<int64_t> ordinals(const store::Database& db, store::RunId run) {
  std::vector<int64_t> out;
  for (const auto& u : store::list_units(db, run)) out.push_back(u.ordinal);
  return out;
}

// Sets ATTNSCOPE_TEST_FAIL_AT for one scope (the units plugin fails at that unit).
struct FailAt {
  explicit FailAt(int unit) { setenv("ATTNSCOPE_TEST_FAIL_AT", std::to_string(unit).c_str(), 1); }
  ~FailAt() { unsetenv("ATTNSCOPE_TEST_FAIL_AT"); }
  FailAt(const FailAt&) = delete;
  FailAt& operator=(const FailAt&) = delete;
};

}  // namespace

TEST_CASE("the example plugin profiles the sample model at two lengths and writes each head's sink mass",
          "[plugins][sample]") {
  TempDir dir;
  const Job job(attnscope::testing::example_plugin(), "lengths");
  std::vector<plugins::JobProgress> progress;
  plugins::JobCallbacks callbacks;
  callbacks.on_progress = [&](const plugins::JobProgress& p) { progress.push_back(p); };
  const auto outcome = plugins::run_job(job.ref, job.parameters({"lengths=128,256"}), environment(dir), callbacks);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  REQUIRE(outcome.runs.size() == 1);
  REQUIRE(outcome.files ==
          std::vector<std::filesystem::path>{dir / "out" / "sink_mass_0.png", dir / "out" / "sink_mass.csv"});
  // The heatmap: two panels of 8 x 8 cells of 12 pixels, 6 pixels apart (grey, colour type 0).
  const std::string png = read_text(dir / "out" / "sink_mass_0.png");
  REQUIRE(png.size() > 33);
  CHECK(png.substr(1, 3) == "PNG");
  const auto byte = [&](size_t i) { return uint32_t(uint8_t(png[i])); };
  CHECK((byte(16) << 24 | byte(17) << 16 | byte(18) << 8 | byte(19)) == 2 * (8 * 12 + 6) - 6);
  CHECK((byte(20) << 24 | byte(21) << 16 | byte(22) << 8 | byte(23)) == 8 * 12);
  CHECK(byte(25) == 0);
  CHECK(progress.back().fraction == 1.0);  // exact: the plugin's last report

  const auto db = open_store(dir);
  const auto run = store::get_run(db, outcome.runs[0]);
  CHECK(run.status == store::RunStatus::Complete);
  CHECK(run.kind == "plugin");
  CHECK(run.task == "sink-profile.lengths");
  CHECK(run.parameters["params"]["lengths"] == nlohmann::json({128, 256}));
  CHECK(run.parameters["plugin_version"] == "1.0.0");
  REQUIRE(ordinals(db, run.id) == std::vector<int64_t>{0, 1});
  const auto units = store::list_units(db, run.id);
  CHECK(units[1].parameters["length"] == 256);

  // 8 layers x 8 heads per length; the sample model's sink heads (sample_data/README.md:
  // 4-1 and 6-1 above 0.7 at 2K tokens) put most of their attention on the first 4 tokens
  // at these lengths too (measured 0.81 to 0.95), layer 0's diffuse heads little (at most
  // 0.23 at 128 tokens, where 4 keys are a larger share of the row).
  std::istringstream csv(read_text(dir / "out" / "sink_mass.csv"));
  std::string line;
  std::getline(csv, line);
  CHECK(line == "model,layer,head,length,sink_mass");
  std::map<std::tuple<int, int, int>, double> mass;
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    REQUIRE(cells.size() == 5);
    CHECK(cells[0] == std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR "/sample-llama").lexically_normal().string());
    mass[{std::stoi(cells[1]), std::stoi(cells[2]), std::stoi(cells[3])}] = std::stod(cells[4]);
  }
  CHECK(rows == 2 * 64);
  for (int length : {128, 256}) {
    CAPTURE(length);
    CHECK(mass.at({4, 1, length}) > 0.7);
    CHECK(mass.at({6, 1, length}) > 0.7);
    for (int head = 0; head < 8; ++head) CHECK(mass.at({0, head, length}) < 0.3);
  }
  // The CSV is read back from the store: the same values as the unit's metrics (to the 6 decimals written).
  for (const auto& m : store::read_head_metrics(db, run.id, units[0].id))
    if (m.name == "sink_mass") CHECK(mass.at({m.layer, m.head, 128}) == Approx(m.number()).margin(5e-7));
}

TEST_CASE("a job gets its parsed parameters with defaults and writes its file into the output folder", "[plugins]") {
  TempDir dir;
  const Job job(test_plugin("minimal_plugin"), "echo");
  std::vector<std::string> logs;
  plugins::JobCallbacks callbacks;
  callbacks.on_log = [&](plugins::LogLevel level, const std::string& m) {
    logs.push_back(std::string(plugins::log_level_name(level)) + ": " + m);
  };
  const auto outcome =
      plugins::run_job(job.ref, job.parameters({"name=x y", "lengths=2k", "loud=yes"}), environment(dir), callbacks);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK(outcome.runs.empty());  // no store touched
  CHECK(read_text(dir / "out" / "echo.txt") ==
        "count=3 scale=0.5 label=hello loud=1 name=x y lengths=2048 depths=0,0.5,1\n");
  CHECK(logs == std::vector<std::string>{"info: echoing the parameters"});
}

TEST_CASE("a job that fails gives a failed outcome with its own message", "[plugins]") {
  TempDir dir;
  const Job job(test_plugin("minimal_plugin"), "fail");
  const auto outcome = plugins::run_job(job.ref, job.parameters({}), environment(dir));
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK(outcome.error == "failed on purpose");
}

TEST_CASE("a parameter read as another type is refused by the service, and the job reports it", "[plugins]") {
  TempDir dir;
  const Job job(test_plugin("minimal_plugin"), "wrong-type");
  const auto outcome = plugins::run_job(job.ref, job.parameters({}), environment(dir));
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("parameter 'count' is a int, not a float"));
}

TEST_CASE("a plugin that fails mid-job leaves its completed units, no partial unit and a failed run", "[plugins][sample]") {
  TempDir dir;
  const Job job(test_plugin("units_plugin"), "units");
  const auto outcome = plugins::run_job(job.ref, job.parameters({"count=4", "fail_at=2"}), environment(dir));
  REQUIRE(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("layer 9999"));
  REQUIRE(outcome.runs.size() == 1);
  const auto db = open_store(dir);
  const auto run = store::get_run(db, outcome.runs[0]);
  CHECK(run.stored_status == store::RunStatus::Failed);
  CHECK(run.error == outcome.error);
  CHECK(ordinals(db, run.id) == std::vector<int64_t>{0, 1});
  for (const auto& u : store::list_units(db, run.id)) CHECK(store::read_head_metrics(db, run.id, u.id).size() == 64 * 7);
  // The refused unit's one valid value (layer 0) was rolled back with it.
  CHECK(store::mean_over_units(db, run.id).size() == 64 * 7);
}

TEST_CASE("a cancelled job ends its run interrupted, keeping the units completed before", "[plugins][sample]") {
  TempDir dir;
  const Job job(test_plugin("units_plugin"), "units");
  std::atomic<bool> cancel{false};
  plugins::JobCallbacks callbacks;
  callbacks.cancel = &cancel;
  callbacks.on_progress = [&](const plugins::JobProgress& p) {
    if (p.message == "unit 2") cancel.store(true);
  };
  const auto outcome = plugins::run_job(job.ref, job.parameters({"count=5"}), environment(dir), callbacks);
  REQUIRE(outcome.status == store::RunStatus::Interrupted);
  CHECK(outcome.error == "stopped by the user");
  const auto db = open_store(dir);
  const auto run = store::get_run(db, outcome.runs.at(0));
  CHECK(run.stored_status == store::RunStatus::Interrupted);
  CHECK(ordinals(db, run.id) == std::vector<int64_t>{0, 1});
}

TEST_CASE("a resumed batch skips the units its run holds and completes that run", "[plugins][sample]") {
  TempDir dir;
  const Job job(test_plugin("units_plugin"), "units");
  const auto env = environment(dir);
  store::RunId first{};
  {
    const FailAt fail(2);
    const auto outcome = plugins::run_job(job.ref, job.parameters({"count=4"}), env);
    REQUIRE(outcome.status == store::RunStatus::Failed);
    first = outcome.runs.at(0);
  }
  auto resume = env;
  resume.resume = first;
  std::vector<std::string> logs;
  plugins::JobCallbacks callbacks;
  callbacks.on_log = [&](plugins::LogLevel, const std::string& m) { logs.push_back(m); };
  const auto outcome = plugins::run_job(job.ref, job.parameters({"count=4"}), resume, callbacks);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK(outcome.runs == std::vector<store::RunId>{first});  // the same run, reopened
  const auto db = open_store(dir);
  CHECK(store::list_runs(db).size() == 1);
  const auto run = store::get_run(db, first);
  CHECK(run.stored_status == store::RunStatus::Complete);
  CHECK(run.error.empty());
  CHECK(ordinals(db, first) == std::vector<int64_t>{0, 1, 2, 3});
  REQUIRE(logs.size() == 3);
  CHECK_THAT(logs[0], Contains("resuming run 1") && Contains("(2 units done)"));
  CHECK(logs[1] == "unit 0 was done before: skipped");
  CHECK(logs[2] == "unit 1 was done before: skipped");
}

TEST_CASE("a resume with other parameters is refused, naming each difference", "[plugins][sample]") {
  TempDir dir;
  const Job job(test_plugin("units_plugin"), "units");
  auto env = environment(dir);
  const FailAt fail(1);
  const auto first = plugins::run_job(job.ref, job.parameters({"count=3"}), env);
  REQUIRE(first.status == store::RunStatus::Failed);
  env.resume = first.runs.at(0);
  REQUIRE_THROWS_WITH(plugins::run_job(job.ref, job.parameters({"count=4", "sleep_ms=1"}), env),
                      Contains("--resume 1") && Contains("the batch ran with other parameters") &&
                          Contains("count: 3 (before) vs 4 (now)") && Contains("sleep_ms: 0 (before) vs 1 (now)"));
  env.models = {std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama", dir / "other"};
  REQUIRE_THROWS_WITH(plugins::run_job(job.ref, job.parameters({"count=3"}), env), Contains("models: ["));
}

TEST_CASE("a resume of a complete batch or of another job's run is refused", "[plugins][sample]") {
  TempDir dir;
  const Job job(test_plugin("units_plugin"), "units");
  auto env = environment(dir);
  const auto done = plugins::run_job(job.ref, job.parameters({"count=1"}), env);
  REQUIRE(done.status == store::RunStatus::Complete);
  env.resume = done.runs.at(0);
  REQUIRE_THROWS_WITH(plugins::run_job(job.ref, job.parameters({"count=1"}), env),
                      Contains("every run of the batch is complete"));
  const Job other(test_plugin("minimal_plugin"), "fail");
  REQUIRE_THROWS_WITH(plugins::run_job(other.ref, other.parameters({}), env),
                      Contains("is a 'plugin' run of 'units.units', not of plugin job minimal.fail"));
  env.resume = store::RunId(7);
  REQUIRE_THROWS_WITH(plugins::run_job(job.ref, job.parameters({"count=1"}), env), Contains("has no run 7"));
}
