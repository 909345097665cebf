#pragma once
// How much memory a run will need, before it starts: weights, KV cache, the
// activations of one prefill chunk, and the attention-capture buffers.
#include <cstdint>
#include <string>

#include "analysis/model/model_spec.h"
#include "kernels/attention_capture.h"

namespace attnscope::model {

// Where a run computes. Cpu: float32, one head's score rows in memory at a time, all in
// host memory. Cuda: bf16 on the device, flash attention (no score rows; each row's
// log-sum-exp), the capture pipeline's device buffers (staging sets and fp64 per-key
// sums, kernels/cuda/capture_pipeline.h); the capture accumulators and the pinned
// staging buffers are host memory.
enum class ComputeTarget { Cpu, Cuda };

struct MemoryEstimateOptions {
  int64_t context_length = 0;        // tokens held in the KV cache (prompt + generated)
  ComputeTarget target = ComputeTarget::Cpu;
  int64_t prefill_chunk = 512;       // tokens run per forward pass
  int64_t captured_heads = 0;        // (layer, head) pairs captured
  kernels::CaptureOptions capture;   // pool_block, exact_probabilities, exact_limit are used
  bool logits_of_every_row = false;  // true: a chunk's logits for every row, not just the last
};

struct MemoryEstimate {
  ComputeTarget target = ComputeTarget::Cpu;
  uint64_t weights = 0;            // parameters in the compute dtype
  uint64_t kv_cache = 0;           // 2 * layers * kv_heads * head_dim * context * dtype
  uint64_t activations = 0;        // one chunk's layer buffers, attention scratch, logits (Cuda: split-KV partials)
  // Cuda: the capture's device buffers: the capture pass's results of one layer's call
  // in each staging set, and the fp64 column and diagonal sums of every captured head.
  uint64_t capture_workspace = 0;
  uint64_t capture = 0;            // accumulators of every captured head (host memory)
  // Cuda: pinned host memory the capture's results pass through (each staging set's copy
  // of one call's rows and pooled map; one layer's per-key sums at the end).
  uint64_t capture_staging = 0;
  uint64_t total() const { return weights + kv_cache + activations + capture_workspace + capture + capture_staging; }
  // What the compute device must hold: everything on Cpu, all but host buffers on Cuda.
  uint64_t device() const { return target == ComputeTarget::Cpu ? total() : total() - host(); }
  // What host memory must hold: everything on Cpu, the accumulators and staging on Cuda.
  uint64_t host() const { return target == ComputeTarget::Cpu ? total() : capture + capture_staging; }
};

// Cuda: the split-KV decode path's device buffers (kernels/cuda/split_decode.h), which
// grow to their largest call and do not depend on the context. Bounds, not the device's
// exact figures: the splits are those of the largest GPU this backend runs on
// (kLargestSmCount). The forward's partials: kMaxRows rows of every query head, split for
// two CTAs on each SM (one buffer, counted in the activations). The capture's partials
// of every head of a layer (one in each capture staging set's workspace).
constexpr int kLargestSmCount = 144;  // H100 SXM/H200 132, L40S 142, A100 108
uint64_t split_decode_forward_bytes(const ModelSpec& spec);
uint64_t split_decode_capture_bytes(const ModelSpec& spec);

// Bytes the accumulators of one captured head hold after `context` tokens.
uint64_t capture_bytes_per_head(int64_t context, const kernels::CaptureOptions& options);

MemoryEstimate estimate_memory(const ModelSpec& spec, const MemoryEstimateOptions& options);

// The longest context_length in [1, limit] whose estimate fits both budgets (bytes of
// device and of host memory; on Cpu both are host memory: pass the same number twice);
// 0 when not even one token fits. Other options as given.
int64_t largest_context_that_fits(const ModelSpec& spec, MemoryEstimateOptions options, uint64_t device_budget,
                                  uint64_t host_budget, int64_t limit);

// "512 B", "12.0 KiB", "1.23 GiB" (binary units, three significant digits).
std::string format_bytes(uint64_t bytes);

// One line per part and the total, e.g. "weights   14.96 GiB\n..."; on Cuda also the
// device's part and the host's part.
std::string describe(const MemoryEstimate& estimate);

}  // namespace attnscope::model
