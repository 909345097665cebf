#pragma once
// What one launch of the capture kernel reads and writes (device pointers). Filled by
// attention_capture_pass.cu; plain C++ so that host code can hold it.
#include <cstdint>

#include "kernels/cuda/attention_operands.h"

namespace attnscope::kernels::cuda::detail {

constexpr int kMaxCapturedHeads = 256;  // query heads captured in one launch (grid.y)

// The operands as every attention kernel reads them (fill_attention_operands): q, k, the
// forward's lse (natural log, lse[head * lse_stride + row]), positions, group, scale; v
// and out unused.
struct CaptureArgs : AttentionOperands {
  int heads[kMaxCapturedHeads] = {};  // query head of captured slot y
  // The rows' entropy and top-1 as the forward computed them ([head][forward_stride],
  // FlashAttentionParams::row_entropy), or nullptr. Set: the Hopper kernel copies them into
  // row_entropy and row_top1 instead of computing them; the other kernels compute them.
  const float* forward_entropy = nullptr;
  const int32_t* forward_top1 = nullptr;
  int64_t forward_stride = 0;

  bool statistics = true;  // false: only the probability window
  int sink_tokens = 0, local_window = 0, pool_block = 64;

  // Per row, [slot][row_stride]: rows of this call.
  float* row_sink = nullptr;
  float* row_local = nullptr;
  float* row_entropy = nullptr;  // nats
  int32_t* row_top1 = nullptr;   // key position
  int64_t row_stride = 0;
  // Per key position / distance, [slot][key_stride], summed with atomics (zeroed first).
  float* column_sums = nullptr;
  float* diagonal_sums = nullptr;
  int64_t key_stride = 0;
  // Or, set by the split-KV decode capture only, fp64 sums it adds to (column_sums and
  // diagonal_sums unused): CapturePassRequest::add_key_sums_to.
  double* fp64_columns = nullptr;
  double* fp64_diagonals = nullptr;
  int64_t fp64_stride = 0;
  int key_count = 0;  // first_position + n: keys [0, key_count), distances [0, key_count)
  // Pooled map rows [pooled_row0, pooled_row0 + pooled_rows) x key blocks [0, pooled_cols),
  // [slot][row][col], summed with atomics (zeroed first).
  float* pooled = nullptr;
  int pooled_row0 = 0, pooled_rows = 0, pooled_cols = 0;
  int64_t pooled_stride = 0;
  // Probabilities of query positions [window_q0, window_q1) x keys [window_k0, window_k1),
  // [slot][query][key] (zeroed first: entries no tile visits stay 0).
  float* window_probs = nullptr;
  int window_q0 = 0, window_q1 = 0, window_k0 = 0, window_k1 = 0;
  int64_t window_stride = 0;
};

}  // namespace attnscope::kernels::cuda::detail
