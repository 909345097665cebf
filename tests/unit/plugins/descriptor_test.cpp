// The checks of a plugin's descriptor (read_descriptor): what a plugin declares wrongly is
// refused with the file and the fault named, before any job can run.
#include <catch2/catch.hpp>

#include "kernels/error.h"
#include "plugins/host/plugin_info.h"

using attnscope::plugins::read_descriptor;
using Catch::Contains;

namespace {

attnscope_status noop(const attnscope_host_services*, attnscope_job*, void*) { return ATTNSCOPE_OK; }

const std::filesystem::path kPath = "/plugins/test.so";

attnscope_plugin_descriptor descriptor_of(const attnscope_job_spec* jobs, uint32_t count) {
  return {ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "test", "1.0", "summary", jobs, count};
}

}  // namespace

TEST_CASE("a descriptor with a parameter of every type is read whole", "[plugins]") {
  const attnscope_param_spec params[] = {{"n", ATTNSCOPE_PARAM_INT, 0, "2", "help"},
                                         {"names", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_STRING, "a,b", nullptr}};
  const attnscope_job_spec jobs[] = {{"job", "does it", params, 2, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  const auto info = read_descriptor(&d, kPath);
  REQUIRE(info.jobs.size() == 1);
  CHECK(info.jobs[0].parameters[1].type_text() == "list of string");
  CHECK(info.jobs[0].parameters[1].help.empty());
  CHECK(info.jobs[0].run == &noop);
}

TEST_CASE("no descriptor from the entry point is refused", "[plugins]") {
  REQUIRE_THROWS_WITH(read_descriptor(nullptr, kPath), Contains(kPath.string()) && Contains("returned no descriptor"));
}

TEST_CASE("two jobs of one name are refused", "[plugins]") {
  const attnscope_job_spec jobs[] = {{"job", "", nullptr, 0, 0, noop, nullptr}, {"job", "", nullptr, 0, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 2);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("declares job 'job' twice"));
}

TEST_CASE("two parameters of one name are refused", "[plugins]") {
  const attnscope_param_spec params[] = {{"n", ATTNSCOPE_PARAM_INT, 0, "1", ""}, {"n", ATTNSCOPE_PARAM_FLOAT, 0, "1", ""}};
  const attnscope_job_spec jobs[] = {{"job", "", params, 2, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("declares parameter 'n' twice"));
}

TEST_CASE("a parameter of an unknown type is refused naming it", "[plugins]") {
  const attnscope_param_spec params[] = {{"n", 9, 0, "1", ""}};
  const attnscope_job_spec jobs[] = {{"job", "", params, 1, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("parameter 'n' of job 'job' has type 9"));
}

TEST_CASE("a list whose elements are lists or bools is refused", "[plugins]") {
  const attnscope_param_spec params[] = {{"n", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_BOOL, "", ""}};
  const attnscope_job_spec jobs[] = {{"job", "", params, 1, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("is a list of element type 4"));
}

TEST_CASE("a default that does not parse as its type is refused", "[plugins]") {
  const attnscope_param_spec params[] = {{"n", ATTNSCOPE_PARAM_INT, 0, "many", ""}};
  const attnscope_job_spec jobs[] = {{"job", "", params, 1, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("default of parameter 'n'") && Contains("'many' is not an integer"));
}

TEST_CASE("a job without a run function is refused", "[plugins]") {
  const attnscope_job_spec jobs[] = {{"job", "", nullptr, 0, 0, nullptr, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("job 'job' has no run function"));
}

TEST_CASE("names outside a-z 0-9 _ - are refused", "[plugins]") {
  const attnscope_job_spec jobs[] = {{"Run Job", "", nullptr, 0, 0, noop, nullptr}};
  const auto d = descriptor_of(jobs, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("a job without a valid name ('Run Job'"));
  attnscope_plugin_descriptor unnamed = descriptor_of(jobs, 1);
  unnamed.name = "a.b";  // the dot separates plugin and job
  REQUIRE_THROWS_WITH(read_descriptor(&unnamed, kPath), Contains("no valid name ('a.b'"));
}

TEST_CASE("a plugin without jobs is refused", "[plugins]") {
  const auto d = descriptor_of(nullptr, 0);
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("declares no jobs"));
}

TEST_CASE("a version, summary or help that is not UTF-8 is refused naming it", "[plugins]") {
  // Runs record the plugin's version as JSON: a stray byte would fail every run it begins
  // (a fuzz finding, fuzz/findings/plugin_descriptor/version_not_utf8).
  const attnscope_job_spec jobs[] = {{"job", "", nullptr, 0, 0, noop, nullptr}};
  attnscope_plugin_descriptor d = descriptor_of(jobs, 1);
  d.version = "1.\xe1" "9";
  REQUIRE_THROWS_WITH(read_descriptor(&d, kPath), Contains("the version of plugin 'test' is not UTF-8 text"));
  d.version = "1.0";
  const attnscope_param_spec params[] = {{"n", ATTNSCOPE_PARAM_INT, 0, "1", "caf\xe9"}};
  const attnscope_job_spec with_help[] = {{"job", "", params, 1, 0, noop, nullptr}};
  const auto helped = descriptor_of(with_help, 1);
  REQUIRE_THROWS_WITH(read_descriptor(&helped, kPath), Contains("the help of parameter 'n' of job 'job' is not UTF-8"));
  const attnscope_param_spec utf8[] = {{"n", ATTNSCOPE_PARAM_INT, 0, "1", "caf\xc3\xa9, \xe6\xbc\xa2"}};
  const attnscope_job_spec good[] = {{"job", "d\xc3\xa9j\xc3\xa0", utf8, 1, 0, noop, nullptr}};
  const auto fine = descriptor_of(good, 1);
  CHECK(read_descriptor(&fine, kPath).jobs[0].parameters[0].help == "caf\xc3\xa9, \xe6\xbc\xa2");
}
