#include "analysis/runtime/generation.h"

#include <algorithm>

#include "kernels/error.h"

namespace attnscope::runtime {
namespace {

void check_prompt(const Transformer& model, std::span<const int32_t> prompt, int64_t new_tokens) {
  if (prompt.empty()) throw Error("prompt", "the prompt is empty");
  const int64_t needed = int64_t(prompt.size()) + new_tokens;
  if (needed > model.max_context())
    throw Error("prompt", "the prompt has " + std::to_string(prompt.size()) + " tokens" +
                              (new_tokens ? " and " + std::to_string(new_tokens) + " are to be generated" : "") +
                              ", more than the model's context of " + std::to_string(model.max_context()));
}

// The backend may still hold part of the captured statistics (kernels::AttentionCapture::held).
void finish_capture(capture::Capture* capture) {
  if (capture != nullptr) capture->finish();
}

}  // namespace

int32_t argmax_token(std::span<const float> logits) {
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

GenerationResult generate_greedy(Transformer& model, std::span<const int32_t> prompt,
                                 capture::Capture* capture, const GenerationOptions& options) {
  check_prompt(model, prompt, options.max_new_tokens);
  model.reset();
  GenerationResult result;
  const int64_t chunk = std::max<int64_t>(1, options.prefill_chunk);
  const int64_t total = int64_t(prompt.size()) + options.max_new_tokens;
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };

  // Under FromLastPromptToken the last prompt token runs on its own, with the rules.
  const int64_t prompt_size = int64_t(prompt.size());
  const int64_t dense_end = options.rules != nullptr && options.rule_scope == RuleScope::FromLastPromptToken
                                ? prompt_size - 1
                                : 0;
  for (int64_t begin = 0; begin < prompt_size;) {
    if (cancelled()) {
      finish_capture(capture);
      return result.cancelled = true, result;
    }
    const int64_t end = begin < dense_end ? std::min(begin + chunk, dense_end) : std::min(begin + chunk, prompt_size);
    const HeadRulePlan* rules = begin < dense_end ? nullptr : options.rules;
    // Only the prompt's last row's logits are read: the chunks before it run without any.
    result.last_logits = model.forward(prompt.subspan(size_t(begin), size_t(end - begin)), capture,
                                       end == prompt_size ? Logits::LastRow : Logits::None, rules);
    if (options.on_progress) options.on_progress({end, total, false});
    begin = end;
  }
  const auto& eos = model.spec().eos_token_ids;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int32_t next = argmax_token(result.last_logits);
    result.continuation.push_back(next);
    if (options.stop_at_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
    if (step + 1 == options.max_new_tokens) break;  // no need to run the last token
    if (cancelled()) {
      finish_capture(capture);
      return result.cancelled = true, result;
    }
    result.last_logits = model.forward(std::span<const int32_t>(&next, 1), capture, Logits::LastRow, options.rules);
    if (options.on_progress) options.on_progress({int64_t(prompt.size()) + step + 1, total, true});
  }
  finish_capture(capture);
  return result;
}

std::vector<float> prompt_logits(Transformer& model, std::span<const int32_t> prompt,
                                 capture::Capture* capture, int64_t prefill_chunk, const HeadRulePlan* rules) {
  check_prompt(model, prompt, 0);
  model.reset();
  std::vector<float> all;
  const int64_t chunk = std::max<int64_t>(1, prefill_chunk);
  for (int64_t begin = 0; begin < int64_t(prompt.size()); begin += chunk) {
    const int64_t count = std::min<int64_t>(chunk, int64_t(prompt.size()) - begin);
    std::vector<float> part =
        model.forward(prompt.subspan(size_t(begin), size_t(count)), capture, Logits::AllRows, rules);
    all.insert(all.end(), part.begin(), part.end());
  }
  finish_capture(capture);
  return all;
}

std::vector<float> prompt_hidden_states(Transformer& model, std::span<const int32_t> prompt,
                                        const HeadRulePlan* rules, int64_t prefill_chunk, int64_t first_position) {
  check_prompt(model, prompt, 0);
  if (first_position < 0 || first_position > int64_t(prompt.size()))
    throw Error("prompt_hidden_states", "first position " + std::to_string(first_position) +
                                            " is outside the prompt of " + std::to_string(prompt.size()) + " tokens");
  model.reset();
  std::vector<float> all;
  const int64_t chunk = std::max<int64_t>(1, prefill_chunk);
  for (int64_t begin = 0; begin < int64_t(prompt.size()); begin += chunk) {
    const int64_t count = std::min<int64_t>(chunk, int64_t(prompt.size()) - begin);
    const int64_t first_row = std::clamp<int64_t>(first_position - begin, 0, count);
    std::vector<float> part =
        model.forward_hidden(prompt.subspan(size_t(begin), size_t(count)), nullptr, rules, first_row);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

}  // namespace attnscope::runtime
