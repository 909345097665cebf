// The bundled plugins through attnscope-cli: found next to the program, each with its
// job, and batches of them on the sample model writing their files (the plugins' own
// tests, tests/unit/plugins, check what the files hold).
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"
#include "tests/unit/io/test_files.h"

using attnscope::testing::TempDir;
using attnscope::testing::cli::json_of;
using attnscope::testing::cli::Result;
using attnscope::testing::cli::run_cli;
using Catch::Contains;

namespace {

std::string options(const TempDir& dir) {
  std::string out = " --threads 2 --db '";  // appended: GCC 12 warns falsely on "'" + std::string
  out += (dir / "s.db").string();
  out += "' --out '";
  out += (dir / "out").string();
  out += "'";
  return out;
}

}  // namespace

TEST_CASE("plugins list shows the bundled plugins with their jobs", "[cli][plugins]") {
  const auto j = json_of(run_cli("plugins list --json", false));
  std::map<std::string, std::string> jobs;
  for (const auto& p : j["plugins"]) jobs[p["name"]] = p["jobs"][0]["name"];
  CHECK(jobs["needle-sweep"] == "grid");
  CHECK(jobs["budget-sweep"] == "families");
  CHECK(jobs["length-scaling"] == "spans");
#ifdef ATTNSCOPE_LUA_PLUGIN_BUILT
  CHECK(jobs["lua"] == "run");
#endif
}

TEST_CASE("batch needle-sweep.grid writes the heatmap and the CSVs of the sample model", "[cli][plugins]") {
  TempDir dir;
  const auto j = json_of(run_cli("batch needle-sweep.grid --param lengths=128,256 --param depths=0.5 --json" + options(dir), false));
  CHECK(j["status"] == "complete");
  CHECK(j["files"] == nlohmann::json({(dir / "out" / "needle_heatmap_0.png").string(), (dir / "out" / "needle_cells.csv").string(),
                                      (dir / "out" / "retrieval_heads.csv").string()}));
}

#ifdef ATTNSCOPE_LUA_PLUGIN_BUILT
TEST_CASE("batch lua.run prints the script's lines and fails with its file and line", "[cli][plugins]") {
  TempDir dir;
  const Result ok = run_cli("batch lua.run --param \"code=print(attnscope.load_model():info().heads)\"" + options(dir));
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("info: 8") && Contains("lua.run: complete"));
  const Result failed = run_cli("batch lua.run --param \"code=local x = 1\nerror('stop here')\"" + options(dir));
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out, Contains("code:2: stop here"));
}
#endif
