// The lua plugin: scripts driving real work on the sample model (the examples too), Lua
// errors failing the job with the script's file and line, the sandbox refusing what a
// script must not reach, its memory cap, and cancellation of a running script.
// Without liblua5.4-dev the plugin is not built (plugins/CMakeLists.txt): nothing to test.
#ifdef ATTNSCOPE_LUA_PLUGIN_BUILT
#include <atomic>

#include <catch2/catch.hpp>

#include "analysis/store/head_metric_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "tests/unit/plugins/bundled_plugin_support.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
using attnscope::testing::BundledJob;
using attnscope::testing::TempDir;
using Catch::Contains;

namespace {

const std::filesystem::path kExamples = std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / ".." / "plugins" / "lua" / "examples";

plugins::JobOutcome run_lua(const TempDir& dir, std::vector<std::string> params, const plugins::JobCallbacks& callbacks = {}) {
  return BundledJob("lua", "run").run(params, attnscope::testing::bundled_environment(dir.path()), callbacks);
}

// A script file in `dir` with `text`.
std::string script(const TempDir& dir, const std::string& text) {
  const auto path = dir / "script.lua";
  attnscope::testing::write_bytes(path, text);
  return "script=" + path.string();
}

}  // namespace

TEST_CASE("a Lua script profiles the sample model and commits its units to the store", "[plugins][sample]") {
  TempDir dir;
  const auto outcome = run_lua(dir, {"script=" + (kExamples / "batch_profile.lua").string(), "args=lengths=128:256"});
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  const auto db = store::Database::open(dir / "store.db", store::OpenMode::ReadOnly);
  const auto run = store::get_run(db, outcome.runs.at(0));
  CHECK(run.task == "lua.run");
  CHECK(run.stored_status == store::RunStatus::Complete);
  const auto units = store::list_units(db, run.id);
  REQUIRE(units.size() == 2);
  CHECK(units[0].ordinal == 1);
  CHECK(units[1].parameters["length"] == 256);
  CHECK(units[1].outcome["units_done"] == 3);  // the profile's summary (depths 0, 0.5, 1), as the script committed it
  int retrieval = 0, sinks = 0;
  for (const auto& m : store::read_head_metrics(db, run.id, units[1].id)) {
    retrieval += m.name == "retrieval_score" ? 1 : 0;
    sinks += m.name == "sink_mass" ? 1 : 0;
  }
  CHECK(retrieval == 64);
  CHECK(sinks == 64);
  // Read back through attnscope.store.read: the model card's retrieval head first at both lengths.
  const auto rows = attnscope::testing::csv_rows(dir / "out" / "retrieval_heads.csv");
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].at("layer") == "7");
  CHECK(rows[0].at("head") == "2");
  CHECK(rows[3].at("layer") == "7");
  CHECK(rows[3].at("head") == "2");
}

TEST_CASE("the needle sweep example script answers its grid and writes its CSV", "[plugins][sample]") {
  TempDir dir;
  const auto outcome = run_lua(dir, {"script=" + (kExamples / "needle_sweep.lua").string(), "args=lengths=128:256,depths=0:1"});
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  const auto rows = attnscope::testing::csv_rows(dir / "out" / "needle_sweep.csv");
  CHECK(rows.size() == 4);
  const auto db = store::Database::open(dir / "store.db", store::OpenMode::ReadOnly);
  CHECK(store::list_units(db, outcome.runs.at(0)).size() == 4);
}

TEST_CASE("the mask comparison example script evaluates five families end to end", "[plugins][sample]") {
  TempDir dir;
  const auto outcome = run_lua(dir, {"script=" + (kExamples / "mask_comparison.lua").string(), "args=density=0.2,length=256"});
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  const auto report = nlohmann::json::parse(attnscope::testing::file_text(dir / "out" / "mask_comparison.json"));
  REQUIRE(report["families"].size() == 5);
  for (const auto& [family, summary] : report["families"].items()) {
    CAPTURE(family);
    CHECK(summary["recall"].get<double>() > 0);
    CHECK(summary["recall"].get<double>() <= 1.0 + 1e-12);
    CHECK(summary.contains("kl_mean"));
  }
}

TEST_CASE("a Lua error fails the job with the script's file, line and the service's message", "[plugins][sample]") {
  TempDir dir;
  const std::string param = script(dir, "local model = attnscope.load_model()\n"
                                        "-- the next line asks for a task kind that does not exist\n"
                                        "local p = attnscope.task(model, {kind = 'haystack', length = 64})\n");
  const auto outcome = run_lua(dir, {param});
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK(outcome.error == (dir / "script.lua").string() + ":3: task: kind is needle, passkey or repeat, not 'haystack'");
}

TEST_CASE("a failing host service is a Lua error a script can catch with pcall", "[plugins]") {
  TempDir dir;
  const auto outcome = run_lua(dir, {"code=local ok, e = pcall(attnscope.load_model, '/no/such/model') "
                                     "attnscope.write_file('e.txt', tostring(ok) .. ' ' .. e)"});
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK_THAT(attnscope::testing::file_text(dir / "out" / "e.txt"), Contains("false ") && Contains("/no/such/model"));
}

TEST_CASE("a syntax error names the script's file and line", "[plugins]") {
  TempDir dir;
  const auto outcome = run_lua(dir, {script(dir, "print('fine')\nlocal x = = 2\n")});
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains((dir / "script.lua").string() + ":2:"));
}

TEST_CASE("the sandbox refuses processes, native code, the debug library and files outside the output folder",
          "[plugins]") {
  TempDir dir;
  TempDir outside;
  attnscope::testing::write_bytes(outside / "secret.txt", "secret");
  std::filesystem::create_directories(dir / "out");
  std::filesystem::create_symlink(outside.path(), dir / "out" / "link");
  // Each probe writes "name=refused" unless it reached what it tried.
  const std::string code = R"(
local out = {}
local function probe(name, f)
  local ok, result = pcall(f)
  out[#out + 1] = name .. "=" .. ((ok and result ~= nil) and "REACHED" or "refused")
end
probe("os.execute", function() return os.execute end)
probe("os.getenv", function() return os.getenv end)
probe("os.remove", function() return os.remove end)
probe("io.popen", function() return io.popen end)
probe("io.input", function() return io.input end)
probe("package", function() return package end)
probe("require", function() return require end)
probe("loadfile", function() return loadfile end)
probe("dofile", function() return dofile end)
probe("debug", function() return debug end)
probe("string.dump", function() return string.dump end)
probe("binary chunk", function() return load("\27Lua\84\0", "x", "b") end)
probe("absolute path", function() return io.open("/etc/passwd") end)
probe("parent folder", function() return io.open("../escape.txt", "w") end)
probe("io.lines outside", function() return io.lines("/etc/passwd") end)
probe("symbolic link out", function() return io.open("link/secret.txt") end)
local f = assert(io.open("inside/ok.txt", "w"))
f:write("written inside")
f:close()
out[#out + 1] = "inside=" .. io.open("inside/ok.txt"):read("a")
attnscope.write_file("probes.txt", table.concat(out, "\n"))
)";
  const auto outcome = run_lua(dir, {"code=" + code});
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK(attnscope::testing::file_text(dir / "out" / "probes.txt") ==
        "os.execute=refused\nos.getenv=refused\nos.remove=refused\nio.popen=refused\nio.input=refused\n"
        "package=refused\nrequire=refused\nloadfile=refused\ndofile=refused\ndebug=refused\nstring.dump=refused\n"
        "binary chunk=refused\nabsolute path=refused\nparent folder=refused\nio.lines outside=refused\n"
        "symbolic link out=refused\ninside=written inside");
  CHECK_FALSE(std::filesystem::exists(dir / "escape.txt"));
}

TEST_CASE("a script that outgrows its memory cap fails the job and names the cap", "[plugins]") {
  TempDir dir;
  const auto outcome =
      run_lua(dir, {"memory_mb=8", "code=local t = {} while true do t[#t + 1] = string.rep('x', 4096) .. #t end"});
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK(outcome.error == "lua: the script needed more than its 8 MiB (memory_mb)");
}

TEST_CASE("cancelling stops a script that never calls a service", "[plugins]") {
  TempDir dir;
  std::atomic<bool> cancel{false};
  plugins::JobCallbacks callbacks;
  callbacks.cancel = &cancel;
  callbacks.on_progress = [&](const plugins::JobProgress& p) {
    if (p.message == "spinning") cancel.store(true);
  };
  const auto outcome = run_lua(dir, {"code=attnscope.progress(0, 'spinning') local n = 0 while true do n = n + 1 end"}, callbacks);
  CHECK(outcome.status == store::RunStatus::Interrupted);
}

TEST_CASE("a script that catches the cancellation with pcall is stopped all the same", "[plugins]") {
  TempDir dir;
  std::atomic<bool> cancel{false};
  plugins::JobCallbacks callbacks;
  callbacks.cancel = &cancel;
  callbacks.on_progress = [&](const plugins::JobProgress& p) {
    if (p.message == "spinning") cancel.store(true);
  };
  const auto outcome = run_lua(dir,
                               {"code=attnscope.progress(0, 'spinning') "
                                "while true do pcall(function() local n = 0 while true do n = n + 1 end end) end"},
                               callbacks);
  CHECK(outcome.status == store::RunStatus::Interrupted);
  cancel.store(false);
  const auto caught = run_lua(dir, {"code=attnscope.progress(0, 'spinning') pcall(function() while true do end end)"}, callbacks);
  CHECK(caught.status == store::RunStatus::Interrupted);  // caught to the script's end: not complete either
}

TEST_CASE("a job without a script or code, or with both, is refused", "[plugins]") {
  TempDir dir;
  for (const auto& params : {std::vector<std::string>{}, std::vector<std::string>{"script=x.lua", "code=print(1)"}}) {
    const auto outcome = run_lua(dir, params);
    CHECK(outcome.status == store::RunStatus::Failed);
    CHECK_THAT(outcome.error, Contains("give a script file (script=FILE) or Lua code (code=...), one of them"));
  }
}

#endif  // ATTNSCOPE_LUA_PLUGIN_BUILT
