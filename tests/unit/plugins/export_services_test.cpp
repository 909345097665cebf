// The services added to ABI 1 for the length-scaling job: fit_span_rules (MoA's span
// rule per head) and export_profile (profile files from per-head values), called from a
// job written here against the table as a plugin would, on the tiny random Llama's shape
// (2 layers, 4 query heads, 1 KV head).
#include <cstring>

#include <catch2/catch.hpp>

#include "analysis/export/duo_attention.h"
#include "analysis/export/model_shape.h"
#include "analysis/export/moa_plan_file.h"
#include "plugins/host/host_services.h"
#include "plugins/host/job_runner.h"
#include "plugins/host/plugin_library.h"
#include "plugins/support/plugin_job.h"
#include "tests/unit/plugins/bundled_plugin_support.h"
#include "tests/unit/plugins/plugin_test_support.h"

namespace plugins = attnscope::plugins;
namespace store = attnscope::store;
namespace ex = attnscope::exports;
namespace ps = attnscope::plugin_support;
using attnscope::testing::TempDir;
using Catch::Contains;

namespace {

const std::filesystem::path kTiny = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "tiny-random-llama";

// What the job body does, set by each test; it runs with the job's PluginJob.
std::function<void(ps::PluginJob&)> body;

attnscope_status run_body(const attnscope_host_services* host, attnscope_job* job, void*) {
  return ps::run_job_body(host, job, "test", body);
}

const plugins::JobInfo body_job{"body", "", {}, run_body, nullptr};

plugins::JobOutcome run(const TempDir& dir) {
  const auto library = plugins::PluginLibrary::load(attnscope::testing::test_plugin("minimal_plugin"));
  auto env = attnscope::testing::bundled_environment(dir.path());
  env.models = {kTiny};
  return plugins::run_job({library, &body_job}, plugins::JobParameters::parse("minimal.body", body_job, std::vector<std::string>{}),
                          env);
}

std::vector<ps::HeadValue> every_head(const std::string& metric, double (*value)(int layer, int head)) {
  std::vector<ps::HeadValue> out;
  for (int layer = 0; layer < 2; ++layer)
    for (int head = 0; head < 4; ++head) out.push_back({layer, head, metric, value(layer, head), std::nullopt});
  return out;
}

}  // namespace

TEST_CASE("the host's table offers the span fit and the export within ABI 1", "[plugins]") {
  const attnscope_host_services& t = plugins::host_services();
  CHECK(t.abi_version == 1u);
  CHECK(ATTNSCOPE_HAS_SERVICE(&t, fit_span_rules));
  CHECK(ATTNSCOPE_HAS_SERVICE(&t, export_profile));
  // A table that ends at write_png (a host before these services) does not offer them.
  attnscope_host_services older = t;
  older.struct_size = uint32_t(offsetof(attnscope_host_services, write_png) + sizeof(older.write_png));
  CHECK_FALSE(ATTNSCOPE_HAS_SERVICE(&older, fit_span_rules));
}

TEST_CASE("span rules are fitted per head by least squares with beta clamped to [0, 1]", "[plugins]") {
  TempDir dir;
  ps::ResultData fit;
  body = [&](ps::PluginJob& job) {
    std::vector<attnscope_span_sample> samples;
    for (double n : {100.0, 200.0, 400.0}) {
      samples.push_back({0, 0, n, 64 + 0.5 * n});  // on the line alpha 64, beta 0.5
      samples.push_back({1, 3, n, 80});             // constant: beta 0
      samples.push_back({0, 2, n, 900 - n});        // shrinking: beta clamped to 0, alpha the mean span
      samples.push_back({1, 1, n, 2 * n});          // steeper than the sequence: beta clamped to 1
    }
    fit = job.fit_span_rules(samples);
  };
  const auto outcome = run(dir);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK(fit.values.size() == 4 * 3);
  CHECK(fit.summary["heads"] == 4);
  CHECK(fit.summary["samples"] == 12);
  CHECK(*fit.number(0, 0, "span_alpha") == Approx(64).margin(1e-9));
  CHECK(*fit.number(0, 0, "span_beta") == Approx(0.5).margin(1e-12));
  CHECK(*fit.number(0, 0, "span_samples") == 3);
  CHECK(*fit.number(1, 3, "span_alpha") == Approx(80).margin(1e-9));
  CHECK(*fit.number(1, 3, "span_beta") == 0);
  CHECK(*fit.number(0, 2, "span_beta") == 0);
  CHECK(*fit.number(0, 2, "span_alpha") == Approx(900 - 700.0 / 3).margin(1e-9));
  CHECK(*fit.number(1, 1, "span_beta") == 1);
  CHECK(*fit.number(1, 1, "span_alpha") == Approx(700.0 / 3).margin(1e-9));  // mean of 2N - N
}

TEST_CASE("a head with spans at one length only is refused naming it", "[plugins]") {
  TempDir dir;
  attnscope_status status = ATTNSCOPE_OK;
  std::string message;
  body = [&](ps::PluginJob& job) {
    const attnscope_span_sample samples[] = {{0, 0, 100, 70}, {0, 0, 200, 90}, {1, 2, 100, 70}, {1, 2, 100, 75}};
    attnscope_result* result = nullptr;
    status = job.host().fit_span_rules(job.job(), samples, 4, &result);
    message = job.host().last_error(job.job());
  };
  REQUIRE(run(dir).status == store::RunStatus::Complete);
  CHECK(status == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(message, Contains("layer 1 head 2") && Contains("two or more prompt lengths"));
}

TEST_CASE("a MoA plan exported from fitted rules is MoA's file for the model's shape", "[plugins]") {
  TempDir dir;
  body = [&](ps::PluginJob& job) {
    const ps::ModelHandle model = job.load_model(kTiny.string());
    std::vector<ps::HeadValue> values = every_head("span_alpha", [](int l, int h) { return 64.0 + 10 * l + h; });
    for (const auto& v : every_head("span_beta", [](int l, int h) { return 0.125 * (l + h); })) values.push_back(v);
    job.export_profile(model, "moa", "plans/moa.json", values);
  };
  const auto outcome = run(dir);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  CHECK(outcome.files == std::vector<std::filesystem::path>{dir / "out" / "plans" / "moa.json"});
  const ex::ModelShape shape = ex::read_model_shape(kTiny);
  ex::MoaRules expected;
  expected.alphas = {{64, 65, 66, 67}, {74, 75, 76, 77}};
  expected.betas = {{0, 0.125, 0.25, 0.375}, {0.125, 0.25, 0.375, 0.5}};
  CHECK(attnscope::testing::file_text(dir / "out" / "plans" / "moa.json") == ex::moa_text(expected, shape));
}

TEST_CASE("a DuoAttention export from gates writes its folder of two files with the options", "[plugins]") {
  TempDir dir;
  body = [&](ps::PluginJob& job) {
    const ps::ModelHandle model = job.load_model(kTiny.string());
    job.export_profile(model, "duo", "duo", every_head("streaming_gate", [](int l, int h) { return 0.1 * (l + h); }),
                       {"kv_reduction=mean", "sink=64", "recent=128"});
  };
  const auto outcome = run(dir);
  INFO(outcome.error);
  REQUIRE(outcome.status == store::RunStatus::Complete);
  const ex::ModelShape shape = ex::read_model_shape(kTiny);
  const ex::DuoPattern p = ex::read_duo_directory(dir / "out" / "duo", shape);
  REQUIRE(p.gates.size() == 2);
  CHECK(p.gates[0][0] == Approx(0.15).margin(1e-15));  // mean of 0, 0.1, 0.2, 0.3: one KV head
  CHECK(p.gates[1][0] == Approx(0.25).margin(1e-15));
  CHECK(p.sink_size == 64);
  CHECK(p.recent_size == 128);
}

TEST_CASE("exports refuse a missing head, an unknown format or option and a name outside the output folder",
          "[plugins]") {
  TempDir dir;
  std::vector<std::pair<attnscope_status, std::string>> seen;
  body = [&](ps::PluginJob& job) {
    const ps::ModelHandle model = job.load_model(kTiny.string());
    auto values = every_head("span_alpha", [](int, int) { return 64.0; });
    for (const auto& v : every_head("span_beta", [](int, int) { return 0.5; })) values.push_back(v);
    const auto attempt = [&](const char* format, const char* name, std::vector<ps::HeadValue> given,
                             std::vector<const char*> options) {
      const auto views = ps::head_value_views(given);
      attnscope_export_request r{};
      r.format = format;
      r.name = name;
      r.values = views.data();
      r.value_count = views.size();
      r.options = options.data();
      r.option_count = uint32_t(options.size());
      const attnscope_status s = job.host().export_profile(job.job(), model.get(), &r);
      seen.emplace_back(s, job.host().last_error(job.job()));
    };
    auto missing = values;
    missing.erase(missing.begin() + 5);  // span_alpha of layer 1 head 1
    attempt("moa", "a.json", missing, {});
    attempt("parquet", "a.json", values, {});
    attempt("moa", "a.json", values, {"alpha=1"});
    attempt("moa", "../a.json", values, {});
    auto outside = values;
    outside.push_back({2, 0, "span_alpha", 1, std::nullopt});
    attempt("moa", "a.json", outside, {});
  };
  REQUIRE(run(dir).status == store::RunStatus::Complete);
  REQUIRE(seen.size() == 5);
  for (const auto& [status, message] : seen) CHECK(status == ATTNSCOPE_INVALID_ARGUMENT);
  CHECK_THAT(seen[0].second, Contains("needs span_alpha of every head; layer 1 head 1 has none"));
  CHECK_THAT(seen[1].second, Contains("format 'parquet' is none of moa, duo, minference, razor, csv"));
  CHECK_THAT(seen[2].second, Contains("has no option 'alpha=1'"));
  CHECK_THAT(seen[3].second, Contains("must stay inside the output folder"));
  CHECK_THAT(seen[4].second, Contains("layer 2 head 0, outside"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "a.json"));
}
