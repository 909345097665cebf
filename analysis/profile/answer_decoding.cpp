#include "analysis/profile/answer_decoding.h"

#include <algorithm>
#include <chrono>

#include "kernels/error.h"

namespace attnscope::profile {
namespace {

bool cancelled(const AnswerOptions& options) { return options.cancel != nullptr && options.cancel->load(); }

}  // namespace

std::string answer_text(const tokenizer::Tokenizer& tokenizer, std::span<const int32_t> generated) {
  const std::string text = tokenizer.decode(generated, true);
  const char* space = " \t\n\r\f\v";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

DecodedAnswer decode_answer(runtime::Transformer& model, const tokenizer::Tokenizer& tokenizer,
                            std::span<const int32_t> prompt, capture::Capture* capture, const AnswerOptions& options) {
  const int64_t size = int64_t(prompt.size());
  if (size == 0) throw Error("answer decoding", "the prompt is empty");
  if (options.max_new_tokens < 0) throw Error("answer decoding", "the token limit is negative");
  // The last generated token is never fed back: the cache holds prompt + limit - 1 tokens.
  if (size + std::max<int64_t>(0, options.max_new_tokens - 1) > model.max_context())
    throw Error("answer decoding", "a prompt of " + std::to_string(size) + " tokens and up to " +
                                       std::to_string(options.max_new_tokens) + " generated tokens exceed the " +
                                       std::to_string(model.max_context()) + " tokens the model holds");
  const int64_t chunk = std::max<int64_t>(1, options.prefill_chunk);
  // Retrieval_Head's masked runs prefill prompt[:-1] dense and apply the rules from the last
  // prompt token on (runtime::RuleScope::FromLastPromptToken).
  const int64_t dense_end =
      options.rules != nullptr && options.rule_scope == runtime::RuleScope::FromLastPromptToken ? size - 1 : 0;
  DecodedAnswer out;
  const auto stop = [&] {
    if (capture != nullptr) capture->finish();
    out.cancelled = true;
    return out;
  };

  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  };
  const Clock::time_point started = Clock::now();
  model.reset();
  std::vector<float> logits;
  for (int64_t begin = 0; begin < size;) {
    if (cancelled(options)) return stop();
    const int64_t end = begin < dense_end ? std::min(begin + chunk, dense_end) : std::min(begin + chunk, size);
    const runtime::HeadRulePlan* rules = begin < dense_end ? nullptr : options.rules;
    // Only the last prompt row's logits are read (and only to answer): the chunks before it
    // neither run the LM head nor wait for the device (a download each was a
    // synchronisation per chunk).
    logits = model.forward(prompt.subspan(size_t(begin), size_t(end - begin)), capture,
                           end == size && options.max_new_tokens > 0 ? runtime::Logits::LastRow : runtime::Logits::None,
                           rules);
    if (options.on_tokens) options.on_tokens(end);
    begin = end;
  }

  const Clock::time_point prefilled = Clock::now();
  const auto& eos = model.spec().eos_token_ids;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int32_t next = runtime::argmax_token(logits);
    out.generated.push_back(next);
    if (options.stop_at_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
    if (options.stop_at_newline) {
      const int32_t one[1] = {next};
      if (tokenizer.decode(one, false).find('\n') != std::string::npos) break;
    }
    if (step + 1 == options.max_new_tokens) break;  // the last token's row is not needed
    if (cancelled(options)) return stop();
    logits = model.forward(std::span<const int32_t>(&next, 1), capture, runtime::Logits::LastRow, options.rules);
    if (options.on_tokens) options.on_tokens(size + step + 1);
  }
  if (capture != nullptr) capture->finish();
  out.prefill_seconds = seconds(started, prefilled);
  out.answer_seconds = seconds(prefilled, Clock::now());
  out.response = answer_text(tokenizer, out.generated);
  return out;
}

}  // namespace attnscope::profile
