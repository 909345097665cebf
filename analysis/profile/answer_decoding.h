#pragma once
// Greedy decoding of a task prompt's answer as Retrieval_Head runs it: the prompt is
// prefilled chunk by chunk from an empty KV cache, then one token at a time is chosen
// (argmax, lowest id on ties) and fed back, up to 50 tokens or the first token whose
// text holds a line break. The capture (optional) sees every prompt row and the row of
// every fed-back token, so the row at position prompt.size() - 1 + i is the one that
// chose generated[i] (what retrieval_score.h reads).
//
// Differs from runtime::generate_greedy in the stop rule (a line break, checked on each
// token's own text) and in reporting progress per token for the profile job.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/runtime/generation.h"
#include "analysis/runtime/transformer.h"
#include "analysis/tokenizer/tokenizer.h"

namespace attnscope::profile {

struct AnswerOptions {
  int64_t max_new_tokens = 50;   // Retrieval_Head's decoding limit
  bool stop_at_newline = true;   // Retrieval_Head stops at the newline token
  bool stop_at_eos = true;
  int64_t prefill_chunk = 512;
  const runtime::HeadRulePlan* rules = nullptr;  // optional: ablations of the causality check
  runtime::RuleScope rule_scope = runtime::RuleScope::AllRows;
  const std::atomic<bool>* cancel = nullptr;     // checked between chunks and between tokens
  std::function<void(int64_t tokens_done)> on_tokens;  // prompt and generated tokens run so far
};

struct DecodedAnswer {
  std::vector<int32_t> generated;  // the stopping token (line break, EOS) included
  std::string response;            // decoded without special tokens, surrounding whitespace cut
  bool cancelled = false;          // stopped by AnswerOptions::cancel; the rest is partial
  // Wall time of the prompt's chunks, up to its last row's logits on the host (without
  // tokens to generate nothing waits for the device there), and of the answer's steps with
  // the capture's completion: where a profiled prompt's model time goes.
  double prefill_seconds = 0;
  double answer_seconds = 0;
};

// Resets `model`'s KV cache. attnscope::Error for an empty prompt or one that with the
// tokens to generate exceeds the model's KV cache.
DecodedAnswer decode_answer(runtime::Transformer& model, const tokenizer::Tokenizer& tokenizer,
                            std::span<const int32_t> prompt, capture::Capture* capture, const AnswerOptions& options);

// The response as Retrieval_Head compares it: decoded without special tokens, stripped.
std::string answer_text(const tokenizer::Tokenizer& tokenizer, std::span<const int32_t> generated);

}  // namespace attnscope::profile
