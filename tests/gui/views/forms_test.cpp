// The forms that start work: the profile job's fields to the engine's spec (errors name
// the field), the generated task's fields, and the run history's texts.
#include <catch2/catch.hpp>

#include "kernels/error.h"
#include "views/profile_job_form.h"
#include "views/run_history_model.h"
#include "views/task_prompt_form.h"

using namespace attnscope;
using namespace attnscope::views;

TEST_CASE("the profile form gives the CLI's grid for the same text", "[gui][forms]") {
  ProfileFormValues v;
  v.needle = true;
  v.repeat = true;
  v.lengths = "256, 1k";
  v.depths = "0:100:50";
  v.metrics = "sink_mass,density";
  const profile::ProfileJobSpec s = profile_spec_of(v, "/p");
  REQUIRE(s.tasks == std::vector<profile::ProfileTask>{profile::ProfileTask::Needle, profile::ProfileTask::RepeatedTokens});
  REQUIRE(s.lengths == std::vector<int64_t>{256, 1024});
  REQUIRE(s.depths == std::vector<double>{0.0, 0.5, 1.0});
  REQUIRE(s.metrics.count("density_95") == 1);  // "density" stands for the three
  REQUIRE(s.needles_file == std::filesystem::path("/p/needles.jsonl"));
  REQUIRE(s.pooled_maps);
}

TEST_CASE("a malformed profile field is refused naming the field", "[gui][forms]") {
  ProfileFormValues v;
  v.lengths = "1k,2q";
  try {
    (void)profile_spec_of(v, "/p");
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.where() == "lengths");
  }
  v = {};
  v.needle = false;
  REQUIRE_THROWS_AS(profile_spec_of(v, "/p"), Error);  // no task
  v = {};
  v.metrics = "sink_mass,nonsense";
  try {
    (void)profile_spec_of(v, "/p");
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.where() == "metrics");
  }
}

TEST_CASE("the task form gives back the values it was set to", "[gui][forms]") {
  TaskPromptForm form;
  TaskFormValues v;
  v.task = profile::ProfileTask::Passkey;
  v.length = 768;
  v.depth = 0.25;
  v.seed = 7;
  v.needle = 3;
  v.copies = 5;
  form.setValues(v);
  REQUIRE(form.values() == v);
}

TEST_CASE("run durations read in the unit that fits", "[gui][forms]") {
  REQUIRE(duration_text(850) == "850 ms");
  REQUIRE(duration_text(12340) == "12.3 s");
  REQUIRE(duration_text(245000) == "4 min 05 s");
  REQUIRE(duration_text(7380000) == "2 h 03 min");
  REQUIRE(duration_text(-1) == "-");
}
