#pragma once
// How much memory a run will need, before it starts: weights, KV cache, the
// activations of one prefill chunk, and the attention-capture buffers.
#include <cstdint>
#include <string>

#include "analysis/model/model_spec.h"
#include "kernels/attention_capture.h"

namespace attnscope::model {

struct MemoryEstimateOptions {
  int64_t context_length = 0;      // tokens held in the KV cache (prompt + generated)
  int compute_dtype_bytes = 4;     // 4: CPU backend (float32); 2: CUDA (bf16)
  int64_t prefill_chunk = 512;     // tokens run per forward pass
  int64_t captured_heads = 0;      // (layer, head) pairs captured
  kernels::CaptureOptions capture; // pool_block, exact_probabilities, exact_limit are used
};

struct MemoryEstimate {
  uint64_t weights = 0;      // parameters in the compute dtype
  uint64_t kv_cache = 0;     // 2 * layers * kv_heads * head_dim * context * dtype
  uint64_t activations = 0;  // one chunk's layer buffers, attention scores and logits
  uint64_t capture = 0;      // accumulators of every captured head
  uint64_t total() const { return weights + kv_cache + activations + capture; }
};

// Bytes the accumulators of one captured head hold after `context` tokens.
uint64_t capture_bytes_per_head(int64_t context, const kernels::CaptureOptions& options);

MemoryEstimate estimate_memory(const ModelSpec& spec, const MemoryEstimateOptions& options);

// "512 B", "12.0 KiB", "1.23 GiB" (binary units, three significant digits).
std::string format_bytes(uint64_t bytes);

// One line per part and the total, e.g. "weights   14.96 GiB\n...".
std::string describe(const MemoryEstimate& estimate);

}  // namespace attnscope::model
