// attnscope-cli plugins list and batch end to end: the example plugin found next to the
// program, the test plugins through ATTNSCOPE_PLUGIN_PATH, a batch on the sample model,
// refused parameters, and interrupted or failed batches resumed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analysis/store/database.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "attnscope/plugin.h"
#include "kernels/error.h"
#include "tests/cli/cli_runner.h"
#include "tests/unit/io/test_files.h"

namespace store = attnscope::store;
using attnscope::testing::TempDir;
using attnscope::testing::cli::json_of;
using attnscope::testing::cli::Result;
using Catch::Contains;

namespace {

std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";  // appended: GCC 12 warns falsely on "'" + std::string
  out += p.string();
  out += "'";
  return out;
}

// The test plugins' folder on the plugin path.
const std::string kTestPlugins = "ATTNSCOPE_PLUGIN_PATH='" ATTNSCOPE_TEST_PLUGIN_DIR "'";

Result cli(const std::string& args, bool merge_stderr = true, const std::string& env = kTestPlugins) {
  return attnscope::testing::cli::run_cli(args, merge_stderr, env);
}

std::string store_options(const TempDir& dir) {
  return " --threads 1 --db " + quoted(dir / "s.db") + " --out " + quoted(dir / "out");
}

store::RunRecord run_of(const TempDir& dir, int64_t id) {
  return store::get_run(store::Database::open(dir / "s.db", store::OpenMode::ReadOnly), store::RunId(id));
}

}  // namespace

TEST_CASE("plugins list shows the bundled example and the plugins of ATTNSCOPE_PLUGIN_PATH with their parameters",
          "[cli][plugins]") {
  const auto j = json_of(cli("plugins list --json", false));
  REQUIRE(j["folders"].size() >= 2);
  CHECK(j["folders"][0]["origin"] == "app");
  std::map<std::string, nlohmann::json> plugins;
  for (const auto& p : j["plugins"]) plugins[p["name"]] = p;
  REQUIRE(plugins.count("sink-profile"));
  REQUIRE(plugins.count("minimal"));
  const auto& example = plugins["sink-profile"];
  CHECK(example["abi_version"] == ATTNSCOPE_PLUGIN_ABI_VERSION);
  CHECK(example["jobs"][0]["name"] == "lengths");
  CHECK(example["jobs"][0]["parameters"][0] ==
        nlohmann::json({{"name", "lengths"}, {"type", "list"}, {"element_type", "int"}, {"default", "256,512"},
                        {"required", false}, {"help", "prompt lengths in tokens"}}));
  bool refused_abi = false;
  for (const auto& w : j["warnings"]) refused_abi |= w.get<std::string>().find("built for plugin ABI version") != std::string::npos;
  CHECK(refused_abi);

  const Result text = cli("plugins list");
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("sink-profile 1.0.0 (plugin ABI 1)") && Contains("sink-profile.lengths: ") &&
                           Contains("minimal.echo") && Contains("(required)") &&
                           Contains("attnscope-cli: warning: plugin not loaded: "));
}

TEST_CASE("plugins list refuses a plugin folder that other users can write", "[cli][plugins]") {
  TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0777));
  const Result r = cli("plugins list", true, "ATTNSCOPE_PLUGIN_PATH=" + quoted(dir.path()));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("warning: plugin folder " + dir.path().string()) && Contains("writable by all users"));
}

TEST_CASE("batch runs the example plugin on the sample model, stores its run and writes its CSV", "[cli][plugins]") {
  TempDir dir;
  const auto j = json_of(cli("batch sink-profile.lengths --param lengths=128 --json" + store_options(dir), false));
  CHECK(j["status"] == "complete");
  CHECK(j["runs"] == nlohmann::json({1}));
  CHECK(j["files"] == nlohmann::json({(dir / "out" / "sink_mass_0.png").string(), (dir / "out" / "sink_mass.csv").string()}));
  CHECK(std::filesystem::exists(dir / "out" / "sink_mass.csv"));
  const auto run = json_of(cli("runs show 1 --json --db " + quoted(dir / "s.db"), false));
  CHECK(run["kind"] == "plugin");
  CHECK(run["task"] == "sink-profile.lengths");
  CHECK(run["status"] == "complete");
}

TEST_CASE("batch refuses unknown jobs and bad parameters as usage mistakes", "[cli][plugins]") {
  TempDir dir;
  const Result unknown = cli("batch minimal.nope" + store_options(dir));
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.out, Contains("plugin 'minimal' has no job 'nope'"));
  const Result bad = cli("batch minimal.echo --param name=x --param count=many" + store_options(dir));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.out, Contains("minimal.echo parameter 'count' (int): 'many' is not an integer"));
  const Result missing = cli("batch minimal.echo" + store_options(dir));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.out, Contains("needs parameter 'name'"));
  const Result no_job = cli("batch --db x");
  CHECK(no_job.exit_code == 2);
}

TEST_CASE("a failed batch names its run and resumes from the units it completed", "[cli][plugins]") {
  TempDir dir;
  const Result failed = cli("batch units.units --param count=4" + store_options(dir), true,
                            kTestPlugins + " ATTNSCOPE_TEST_FAIL_AT=2");
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out, Contains("units.units failed") && Contains("layer 9999") && Contains("--resume 1"));
  CHECK(run_of(dir, 1).unit_count == 2);

  const Result other = cli("batch units.units --param count=5 --resume 1" + store_options(dir));
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.out, Contains("count: 4 (before) vs 5 (now)"));

  const Result resumed = cli("batch units.units --param count=4 --resume 1" + store_options(dir));
  INFO(resumed.out);
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Contains("unit 0 was done before: skipped") && Contains("unit 1 was done before: skipped") &&
                              Contains("units.units: complete, run 1"));
  const auto run = run_of(dir, 1);
  CHECK(run.stored_status == store::RunStatus::Complete);
  CHECK(run.unit_count == 4);
}

TEST_CASE("Ctrl-C stops a batch cleanly and --resume finishes it", "[cli][plugins]") {
  TempDir dir;
  const std::string db = (dir / "s.db").string(), out = (dir / "out").string();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string log = (dir / "log.txt").string();
    if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    setenv("ATTNSCOPE_PLUGIN_PATH", ATTNSCOPE_TEST_PLUGIN_DIR, 1);
    execl(ATTNSCOPE_CLI_PATH, ATTNSCOPE_CLI_PATH, "batch", "units.units", "--param", "count=6", "--param", "sleep_ms=300",
          "--threads", "1", "--db", db.c_str(), "--out", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first committed unit (a reader never blocks the writer: WAL).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t units = 0;
  while (units == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      const auto runs = store::list_runs(store::Database::open(dir / "s.db", store::OpenMode::ReadOnly));
      if (!runs.empty()) units = runs.front().unit_count;
    } catch (const attnscope::Error&) {
      // Not created or not migrated yet.
    }
  }
  REQUIRE(units >= 1);
  REQUIRE(kill(child, SIGINT) == 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const auto stopped = run_of(dir, 1);
  CHECK(stopped.stored_status == store::RunStatus::Interrupted);
  CHECK(stopped.error == "stopped by the user");
  CHECK(stopped.unit_count >= units);
  CHECK(stopped.unit_count < 6);

  const Result resumed = cli("batch units.units --param count=6 --param sleep_ms=300 --resume 1" + store_options(dir));
  INFO(resumed.out);
  CHECK(resumed.exit_code == 0);
  const auto run = run_of(dir, 1);
  CHECK(run.stored_status == store::RunStatus::Complete);
  CHECK(run.unit_count == 6);
  CHECK(store::list_runs(store::Database::open(dir / "s.db", store::OpenMode::ReadOnly)).size() == 1);
}
