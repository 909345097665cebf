#pragma once
// Chunked prefill and greedy decoding over a Transformer.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "analysis/runtime/transformer.h"

namespace attnscope::runtime {

struct Progress {
  int64_t done = 0;   // tokens processed (prompt, then generated)
  int64_t total = 0;
  bool decoding = false;
};

struct GenerationOptions {
  int64_t max_new_tokens = 0;
  int64_t prefill_chunk = 512;       // bounds activation memory at any prompt length
  bool stop_at_eos = true;
  std::function<void(const Progress&)> on_progress;  // optional
  const std::atomic<bool>* cancel = nullptr;          // optional; checked between chunks/steps
};

struct GenerationResult {
  std::vector<int32_t> continuation;  // generated ids (eos included when it stopped there)
  std::vector<float> last_logits;     // logits that chose the last token (or of the prompt's end)
  bool cancelled = false;
};

// Greedy (argmax, lowest id on ties) continuation of `prompt`, starting from an empty
// KV cache. `capture` (may be null) sees every prompt row and every decode row.
GenerationResult generate_greedy(Transformer& model, std::span<const int32_t> prompt,
                                 capture::Capture* capture, const GenerationOptions& options);

// Logits of every prompt position ([rows, vocab]), prefilled chunk by chunk.
std::vector<float> prompt_logits(Transformer& model, std::span<const int32_t> prompt,
                                 capture::Capture* capture, int64_t prefill_chunk);

int32_t argmax_token(std::span<const float> logits);

}  // namespace attnscope::runtime
