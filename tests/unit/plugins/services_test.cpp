// The services' boundary: every entry of the table is set, bad handles and arguments
// come back as statuses with a message (never a crash or an exception into the plugin),
// files stay inside the output folder, and a job runs on a worker thread with cancel.
#include <cmath>
#include <cstring>
#include <fstream>

#include <catch2/catch.hpp>

#include "plugins/host/host_services.h"
#include "plugins/host/job_runner.h"
#include "plugins/host/job_thread.h"
#include "plugins/host/plugin_library.h"
#include "tests/unit/plugins/plugin_test_support.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
using attnscope::testing::TempDir;
using attnscope::testing::test_plugin;
using Catch::Contains;

namespace {

plugins::JobEnvironment environment(const TempDir& dir) {
  plugins::JobEnvironment env;
  env.sample_data = ATTNSCOPE_SAMPLE_DATA_DIR;
  env.database = dir / "store.db";
  env.output_folder = dir / "out";
  env.device.cpu_threads = 1;
  return env;
}

// A job written here in C++ against the table, as a plugin would call it; what it saw is
// kept in `seen`.
struct Seen {
  std::vector<std::pair<attnscope_status, std::string>> calls;
};
Seen seen;

void record(const attnscope_host_services* host, attnscope_job* job, attnscope_status status) {
  seen.calls.emplace_back(status, host->last_error(job));
}

attnscope_status misuse(const attnscope_host_services* host, attnscope_job* job, void*) {
  attnscope_model* model = nullptr;
  attnscope_prompt* prompt = nullptr;
  attnscope_result* result = nullptr;
  attnscope_model_info info{};
  int64_t number = 0;
  record(host, job, host->model_info(job, nullptr, &info));
  record(host, job, host->model_info(job, reinterpret_cast<attnscope_model*>(&number), &info));
  record(host, job, host->param_int(job, "missing", &number));
  record(host, job, host->param_int(job, nullptr, &number));
  record(host, job, host->load_model(job, "/no/such/model", &model));
  record(host, job, host->text_prompt(job, model, "text", 1, &prompt));
  record(host, job, host->result_view(job, result, nullptr));
  record(host, job, host->write_file(job, "../escape.txt", "x", 1));
  record(host, job, host->write_file(job, "/tmp/absolute.txt", "x", 1));
  record(host, job, host->write_file(job, "sub/inside.txt", "inside", 6));
  record(host, job, host->read_values(job, 42, -1, &result));
  record(host, job, host->commit_unit(job, nullptr, nullptr));
  host->release_model(job, model);  // NULL: nothing happens
  return ATTNSCOPE_OK;
}

const plugins::JobInfo misuse_job{"misuse", "", {}, misuse, nullptr};

attnscope_status prompt_and_masks(const attnscope_host_services* host, attnscope_job* job, void*) {
  attnscope_model* model = nullptr;
  attnscope_prompt* prompt = nullptr;
  attnscope_result* result = nullptr;
  attnscope_prompt_info info{};
  attnscope_result_view view{};
  attnscope_task_request task{};
  task.kind = ATTNSCOPE_TASK_PASSKEY;
  task.length = 160;
  task.depth = 0.5;
  task.seed = 58319;
  const char* params[] = {"window=32"};
  attnscope_mask_request mask{};
  mask.method = "streaming";
  mask.params = params;
  mask.param_count = 1;
  mask.end_to_end = 1;
  if (host->load_model(job, host->model_path(job, 0), &model) || host->task_prompt(job, model, &task, &prompt) ||
      host->prompt_info(job, prompt, &info) || host->evaluate_masks(job, model, prompt, &mask, &result) ||
      host->result_view(job, result, &view)) {
    host->set_error(job, host->last_error(job));
    return ATTNSCOPE_ERROR;
  }
  const bool key_in_prompt = std::strstr(info.text, info.expected_answer) != nullptr;
  seen.calls.emplace_back(ATTNSCOPE_OK, std::string(key_in_prompt ? info.expected_answer : "not in the prompt") + "|" + std::to_string(info.tokens) + "|" +
                                            std::to_string(view.value_count) + "|" + view.summary_json);
  return ATTNSCOPE_OK;
}

const plugins::JobInfo masks_job{"masks", "", {}, prompt_and_masks, nullptr};

}  // namespace

TEST_CASE("every service of the host's table is set and the table names its ABI version and size", "[plugins]") {
  const attnscope_host_services& t = plugins::host_services();
  CHECK(t.abi_version == ATTNSCOPE_PLUGIN_ABI_VERSION);
  CHECK(t.struct_size == sizeof(attnscope_host_services));
  CHECK(ATTNSCOPE_HAS_SERVICE(&t, write_file));
  // After the two 32-bit fields the table is function pointers only.
  const size_t first = offsetof(attnscope_host_services, last_error);
  for (size_t offset = first; offset < sizeof t; offset += sizeof(void*)) {
    void* entry = nullptr;
    std::memcpy(&entry, reinterpret_cast<const char*>(&t) + offset, sizeof entry);
    CAPTURE(offset);
    CHECK(entry != nullptr);
  }
}

TEST_CASE("bad handles and arguments come back as statuses with a message", "[plugins]") {
  TempDir dir;
  const auto library = plugins::PluginLibrary::load(test_plugin("minimal_plugin"));
  seen = {};
  const auto outcome =
      plugins::run_job({library, &misuse_job}, plugins::JobParameters::parse("minimal.misuse", misuse_job, std::vector<std::string>{}), environment(dir));
  REQUIRE(outcome.status == store::RunStatus::Complete);
  const auto& c = seen.calls;
  REQUIRE(c.size() == 12);
  CHECK(c[0].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(c[0].second, Contains("model: is NULL"));
  CHECK(c[1].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(c[1].second, Contains("not a live handle of this job"));
  CHECK(c[2].first == ATTNSCOPE_NOT_FOUND);
  CHECK_THAT(c[2].second, Contains("has no parameter 'missing'"));
  CHECK(c[3].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK(c[4].first == ATTNSCOPE_ERROR);
  CHECK_THAT(c[4].second, Contains("/no/such/model"));
  CHECK(c[5].first == ATTNSCOPE_INVALID_ARGUMENT);  // the model that did not load
  CHECK(c[6].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK(c[7].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(c[7].second, Contains("must stay inside the output folder"));
  CHECK(c[8].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(c[8].second, Contains("is not a relative file name"));
  CHECK(c[9].first == ATTNSCOPE_OK);
  CHECK(c[10].first == ATTNSCOPE_NOT_FOUND);
  CHECK_THAT(c[10].second, Contains("has no run 42"));
  CHECK(c[11].first == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK(outcome.files == std::vector<std::filesystem::path>{dir / "out" / "sub" / "inside.txt"});
  CHECK_FALSE(std::filesystem::exists(dir / "escape.txt"));
}

TEST_CASE("a passkey prompt is built and a streaming plan evaluated on it with end-to-end numbers", "[plugins][sample]") {
  TempDir dir;
  const auto library = plugins::PluginLibrary::load(test_plugin("minimal_plugin"));
  seen = {};
  const auto outcome =
      plugins::run_job({library, &masks_job}, plugins::JobParameters::parse("minimal.masks", masks_job, std::vector<std::string>{}), environment(dir));
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  REQUIRE(seen.calls.size() == 1);
  const std::string& text = seen.calls[0].second;
  const auto bar = text.find('|'), bar2 = text.find('|', bar + 1), bar3 = text.find('|', bar2 + 1);
  const std::string key = text.substr(0, bar);  // five digits drawn from the seed, inside the prompt
  CHECK(key.size() == 5);
  CHECK(key.find_first_not_of("0123456789") == std::string::npos);
  CHECK(std::stoi(text.substr(bar + 1, bar2 - bar - 1)) <= 160);
  CHECK(std::stoi(text.substr(bar + 1, bar2 - bar - 1)) > 140);  // at most one haystack word short
  CHECK(text.substr(bar2 + 1, bar3 - bar2 - 1) == std::to_string(64 * 6));
  const auto summary = nlohmann::json::parse(text.substr(bar3 + 1));
  CHECK_THAT(summary["plan"].get<std::string>(), Contains("streaming"));
  CHECK(summary["density"].get<double>() < 0.9);
  CHECK(summary["recall"].get<double>() > 0.5);
  CHECK(summary["recall"].get<double>() <= 1.0 + 1e-12);
  CHECK(summary.contains("kl_mean"));
  CHECK(summary["kl_mean"].get<double>() >= 0);
}

TEST_CASE("a job on a worker thread reports progress and stops when cancelled", "[plugins][sample]") {
  TempDir dir;
  const auto library = plugins::PluginLibrary::load(test_plugin("units_plugin"));
  const plugins::PluginCatalog::JobRef ref{library, library->info().find_job("units")};
  std::atomic<int> reports{0};
  plugins::JobCallbacks callbacks;
  callbacks.on_progress = [&](const plugins::JobProgress&) { ++reports; };
  plugins::JobThread thread(ref, plugins::JobParameters::parse("units.units", *ref.job, std::vector<std::string>{"count=200", "sleep_ms=20"}),
                            environment(dir), callbacks);
  while (reports.load() < 3 && !thread.finished()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK_FALSE(thread.finished());
  thread.cancel();
  const auto outcome = thread.wait();
  CHECK(outcome.status == store::RunStatus::Interrupted);
  REQUIRE(outcome.runs.size() == 1);
}

TEST_CASE("a job thread calls its end hook on the worker once the outcome is ready", "[plugins][sample]") {
  TempDir dir;
  const auto library = plugins::PluginLibrary::load(test_plugin("units_plugin"));
  const plugins::PluginCatalog::JobRef ref{library, library->info().find_job("units")};
  std::atomic<bool> ended{false};
  plugins::JobThread thread(ref, plugins::JobParameters::parse("units.units", *ref.job, std::vector<std::string>{"count=2"}),
                            environment(dir), {}, [&] { ended = true; });
  while (!ended.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(thread.finished());  // the outcome was ready before the hook ran
  CHECK(thread.wait().status == store::RunStatus::Complete);
}

TEST_CASE("a job thread whose resume does not fit ends failed with the reason", "[plugins]") {
  TempDir dir;
  const auto library = plugins::PluginLibrary::load(test_plugin("units_plugin"));
  const plugins::PluginCatalog::JobRef ref{library, library->info().find_job("units")};
  auto env = environment(dir);
  env.resume = store::RunId(3);
  plugins::JobThread thread(ref, plugins::JobParameters::parse("units.units", *ref.job, std::vector<std::string>{}), env, {});
  const auto outcome = thread.wait();
  CHECK(outcome.status == store::RunStatus::Failed);
  CHECK_THAT(outcome.error, Contains("has no run 3"));
}
