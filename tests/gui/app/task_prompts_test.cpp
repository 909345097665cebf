// Generated prompts of the prompt panel on the sample model: made as the profile job
// makes its grid's prompts, the needle and passkey where asked, errors naming the field.
#include <catch2/catch.hpp>

#include "analysis/model/checkpoint.h"
#include "analysis/profile/profile_prompts.h"
#include "app/gui/task_prompts.h"
#include "kernels/error.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const std::filesystem::path kSamples = ATTNSCOPE_SAMPLE_DATA_DIR;

struct Sample {
  model::Checkpoint checkpoint = model::Checkpoint::open(kSamples / "sample-llama");
  tokenizer::Tokenizer tokenizer = tokenizer::Tokenizer::from_file(kSamples / "sample-llama" / "tokenizer.json");
};

Sample& sample() {
  static Sample s;
  return s;
}

tasks::TaskPrompt make(const TaskChoice& c) {
  return make_task_prompt(c, kSamples / "prompts", sample().tokenizer, sample().checkpoint.spec());
}

}  // namespace

TEST_CASE("a generated needle prompt is the profile job's prompt for the same cell", "[gui][tasks]") {
  TaskChoice c;
  c.length = 512;
  c.depth = 0.25;
  c.seed = 3;
  const tasks::TaskPrompt p = make(c);
  // The job's own grid for --task needle --lengths 512 --depths 25 --seed 3.
  profile::ProfileJobSpec spec = task_spec(c, kSamples / "prompts");
  const auto job = profile::make_profile_prompts(spec, tasks::make_task_model(sample().tokenizer, sample().checkpoint.spec()));
  REQUIRE(job.size() == 1);
  REQUIRE(p.ids == job.front().prompt.ids);
  REQUIRE(int64_t(p.ids.size()) <= 512);
  REQUIRE(int64_t(p.ids.size()) >= 500);  // short of the length by less than a haystack word or two
  REQUIRE(p.needles.size() == 1);
  REQUIRE(p.needles.front().requested_depth == 0.25);
  REQUIRE(p.expected_answer == "saffron");  // needles.jsonl's first needle
}

TEST_CASE("the needle number picks that needle of the file", "[gui][tasks]") {
  TaskChoice c;
  c.length = 256;
  c.needle = 1;
  const tasks::TaskPrompt p = make(c);
  REQUIRE(p.expected_answer == "Biscuit");  // the second line of needles.jsonl
}

TEST_CASE("a passkey prompt holds its key and asks for it", "[gui][tasks]") {
  TaskChoice c;
  c.task = profile::ProfileTask::Passkey;
  c.length = 300;
  const tasks::TaskPrompt p = make(c);
  REQUIRE(p.expected_answer.size() == 5);
  REQUIRE(p.text.find("The pass key is " + p.expected_answer) != std::string::npos);
  REQUIRE(p.text.find("What is the pass key?") != std::string::npos);
}

TEST_CASE("repeated random tokens are copies of one random sequence", "[gui][tasks]") {
  TaskChoice c;
  c.task = profile::ProfileTask::RepeatedTokens;
  c.length = 201;
  c.copies = 4;
  const tasks::TaskPrompt p = make(c);
  REQUIRE(p.copies.size() == 4);
  REQUIRE(p.period == 50);  // (201 - BOS) / 4
  for (int64_t i = 0; i < p.period; ++i)
    REQUIRE(p.ids[size_t(p.copies[3].begin + i)] == p.ids[size_t(p.copies[0].begin + i)]);
}

TEST_CASE("a task the model cannot take names the field", "[gui][tasks]") {
  TaskChoice c;
  c.length = 4096;  // the sample model's context is 2112
  try {
    (void)make(c);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.where() == "length");
  }
  c.length = 256;
  c.needle = 999;
  try {
    (void)make(c);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.where() == "needle");
  }
}
