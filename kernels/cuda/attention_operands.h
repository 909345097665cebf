#pragma once
// What every attention forward kernel of this folder reads the same way (the flash
// forward, its Hopper variant, the block-sparse forward and the split-KV decode): the
// tensors, their row strides and the call's positions, filled from FlashAttentionParams in
// one place. Each kernel's arguments derive from it and add their own fields. Plain C++
// (host code and kernels both include it).
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/flash_attention.h"

namespace attnscope::kernels::cuda::detail {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

struct AttentionOperands {
  const void* q;
  const void* k;
  const void* v;
  void* out;
  float* lse;
  int64_t q_stride, k_stride, v_stride, out_stride, lse_stride;
  int n, first_position, window;  // positions fit in 32 bits (checked by the dispatcher)
  int group;                      // query heads per KV head
  float scale_log2;               // scale * log2(e): the kernels' exp2 domain
};

// Fills the operands of a kernel's arguments (a, derived or not) from the call's params.
inline void fill_attention_operands(AttentionOperands& a, const FlashAttentionParams& p) {
  a.q = p.q;
  a.k = p.k;
  a.v = p.v;
  a.out = p.out;
  a.lse = p.lse;
  a.q_stride = p.q_stride;
  a.k_stride = p.k_stride;
  a.v_stride = p.v_stride;
  a.out_stride = p.out_stride;
  a.lse_stride = p.lse_stride;
  a.n = int(p.n);
  a.first_position = int(p.first_position);
  // A window past every position sees what no window sees; clamping keeps int sums in range.
  a.window = int(std::min<int64_t>(p.sliding_window, p.first_position + p.n + 1));
  a.group = p.num_heads / p.num_kv_heads;
  a.scale_log2 = p.scale * kLog2e;
}

}  // namespace attnscope::kernels::cuda::detail
