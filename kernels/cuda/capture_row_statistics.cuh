#pragma once
// A query row's own statistics in the portable and split-KV capture kernels: what one lane
// holds of the row, summed across the lanes that share it (top-1 by score, then the lowest
// key), and written to the capture pass's per-row outputs.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/attention_operands.h"

namespace attnscope::kernels::cuda::detail {

// Higher score, or the same score at a lower key.
__device__ __forceinline__ bool better_top1(float score, int key, float best, int best_key) {
  return score > best || (score == best && key < best_key);
}

struct RowStatistics {
  float entropy;  // sum of p log2 p (the stored entropy is -entropy ln 2)
  float sink, local;
  float best;  // top-1: its score and key
  int best_key;
};

// Adds lane (lane ^ mask)'s part of the same row; every lane of the warp must call it.
__device__ __forceinline__ void combine_with_lane(RowStatistics& r, int mask) {
  r.entropy += __shfl_xor_sync(0xffffffffu, r.entropy, mask);
  r.sink += __shfl_xor_sync(0xffffffffu, r.sink, mask);
  r.local += __shfl_xor_sync(0xffffffffu, r.local, mask);
  const float other = __shfl_xor_sync(0xffffffffu, r.best, mask);
  const int other_key = __shfl_xor_sync(0xffffffffu, r.best_key, mask);
  if (better_top1(other, other_key, r.best, r.best_key)) {
    r.best = other;
    r.best_key = other_key;
  }
}

// Element `at` of the pass's per-row outputs (sink and local mass only with statistics on).
__device__ __forceinline__ void store_row_statistics(const CaptureArgs& c, int64_t at, const RowStatistics& r) {
  c.row_entropy[at] = -r.entropy * kLn2;
  c.row_top1[at] = r.best_key;
  if (c.statistics) {
    c.row_sink[at] = r.sink;
    c.row_local[at] = r.local;
  }
}

}  // namespace attnscope::kernels::cuda::detail
