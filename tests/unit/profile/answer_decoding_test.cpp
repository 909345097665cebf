// Greedy answer decoding as Retrieval_Head runs it (analysis/profile/answer_decoding.h),
// on the sample model answering a 256-token needle prompt ("... is saffron.\n").
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include "analysis/profile/answer_decoding.h"
#include "analysis/runtime/generation.h"
#include "analysis/tasks/haystack.h"
#include "analysis/tasks/needle_file.h"
#include "analysis/tasks/needle_in_haystack.h"
#include "analysis/tasks/task_model.h"
#include "kernels/error.h"
#include "tests/unit/profile/profile_job_test_support.h"

using namespace attnscope;
using namespace attnscope::testing;
using Catch::Contains;

namespace {

const JobModel& sample_model() {
  static const JobModel m = open_job_model("sample-llama");
  return m;
}

std::vector<int32_t> needle_prompt() {
  const JobModel& m = sample_model();
  const auto model = tasks::make_task_model(m.tokenizer, m.checkpoint.spec());
  const auto needles = tasks::read_needles(sample_prompt("needles.jsonl"));
  const auto haystack = tasks::Haystack::from_file(sample_prompt("haystack.txt"));
  const auto t = tasks::PromptTemplate::from_file(sample_prompt("needle.txt"));
  return tasks::make_needle_prompt(model, haystack, t, needles[0], {256, 0.5}).ids;
}

bool has_line_break(const tokenizer::Tokenizer& tok, int32_t id) {
  const int32_t one[1] = {id};
  return tok.decode(one, false).find('\n') != std::string::npos;
}

}  // namespace

TEST_CASE("decoding stops at the first token holding a line break, which it keeps", "[profile][decode]") {
  const JobModel& m = sample_model();
  runtime::Transformer model(m.checkpoint, *m.backend, 0);
  const auto prompt = needle_prompt();
  profile::AnswerOptions options;
  const auto answer = profile::decode_answer(model, m.tokenizer, prompt, nullptr, options);
  REQUIRE(answer.generated.size() >= 2);
  CHECK(answer.generated.size() < 50);
  CHECK(has_line_break(m.tokenizer, answer.generated.back()));
  for (size_t i = 0; i + 1 < answer.generated.size(); ++i) CHECK_FALSE(has_line_break(m.tokenizer, answer.generated[i]));
  CHECK(answer.response == "saffron.");  // stripped, as Retrieval_Head compares it
  // The same tokens as the plain greedy continuation.
  runtime::GenerationOptions greedy;
  greedy.max_new_tokens = int64_t(answer.generated.size());
  CHECK(runtime::generate_greedy(model, prompt, nullptr, greedy).continuation == answer.generated);
}

TEST_CASE("the capture holds the prompt rows and the row of every token fed back", "[profile][decode]") {
  const JobModel& m = sample_model();
  runtime::Transformer model(m.checkpoint, *m.backend, 0);
  const auto prompt = needle_prompt();
  capture::CaptureRequest request;
  request.layers = {7};
  request.heads = {2};
  capture::Capture capture(request, m.checkpoint.spec());
  profile::AnswerOptions options;
  options.stop_at_newline = false;
  options.max_new_tokens = 6;
  const auto answer = profile::decode_answer(model, m.tokenizer, prompt, &capture, options);
  REQUIRE(answer.generated.size() == 6);
  // The last token chose nothing, so it is not run: prompt + 5 rows.
  CHECK(capture.heads()[0].rows == int64_t(prompt.size()) + 5);
}

TEST_CASE("a cancelled decoding returns at once, marked cancelled", "[profile][decode]") {
  const JobModel& m = sample_model();
  runtime::Transformer model(m.checkpoint, *m.backend, 0);
  std::atomic<bool> cancel{true};
  profile::AnswerOptions options;
  options.cancel = &cancel;
  const auto answer = profile::decode_answer(model, m.tokenizer, needle_prompt(), nullptr, options);
  CHECK(answer.cancelled);
  CHECK(answer.generated.empty());
}

TEST_CASE("a prompt and answer beyond the model's cache are refused", "[profile][decode]") {
  const JobModel& m = sample_model();
  runtime::Transformer model(m.checkpoint, *m.backend, 300);
  profile::AnswerOptions options;
  options.max_new_tokens = 50;
  const std::vector<int32_t> prompt(256, 5);
  CHECK_THROWS_WITH(profile::decode_answer(model, m.tokenizer, prompt, nullptr, options),
                    Contains("256 tokens and up to 50") && Contains("300 tokens"));
  CHECK_THROWS_WITH(profile::decode_answer(model, m.tokenizer, {}, nullptr, options), Contains("empty"));
}

TEST_CASE("an answer's prompt and its steps are timed apart", "[profile][decode]") {
  const JobModel& m = sample_model();
  runtime::Transformer model(m.checkpoint, *m.backend, 0);
  const auto prompt = needle_prompt();
  profile::AnswerOptions options;
  options.prefill_chunk = 64;  // four chunks, three of them without logits
  const auto start = std::chrono::steady_clock::now();
  const auto answer = profile::decode_answer(model, m.tokenizer, prompt, nullptr, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(answer.generated.size() >= 2);
  CHECK(answer.prefill_seconds > 0);
  CHECK(answer.answer_seconds > 0);
  CHECK(answer.prefill_seconds + answer.answer_seconds <= wall);  // both inside the call
  CHECK(answer.response == "saffron.");  // chunks without logits answer the same
}
