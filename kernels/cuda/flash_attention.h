#pragma once
// Flash-attention forward on the GPU (sm_80 and newer): causal attention of a chunk of
// query rows over all earlier keys of the KV cache, GQA, optional sliding window, bf16
// or fp16 in and out, fp32 accumulation. Returns the output and, when asked, each row's
// log-sum-exp (natural log), which the capture pass (attention_capture_pass.h) needs.
//
// Layout (as kernels/backend.h's Backend::attention): q [n, num_heads * head_dim] with
// row stride q_stride (a column slice of a fused qkv tensor); k and v caches
// [capacity, num_kv_heads * head_dim] with their own strides, rows
// [0, first_position + n) filled; out [n, num_heads * head_dim] with out_stride.
// Query row r is at position first_position + r and sees keys
// [max(0, pos - sliding_window + 1) or 0, pos]; query head h reads KV head
// h / (num_heads / num_kv_heads); scores are scale * q.k. All strides are in elements.
//
// Pure C++ header: the stream is CUDA's cudaStream_t (a CUstream_st*), nullptr for the
// default stream. Design and measurements: docs/cuda-attention.md.
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/dtype.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

struct FlashAttentionParams {
  DType dtype = DType::BF16;  // of q, k, v and out: BF16 or F16
  const void* q = nullptr;
  int64_t q_stride = 0;
  const void* k = nullptr;
  int64_t k_stride = 0;
  const void* v = nullptr;
  int64_t v_stride = 0;
  void* out = nullptr;
  int64_t out_stride = 0;
  float* lse = nullptr;  // optional, device: lse[h * lse_stride + r]; nullptr skips it
  int64_t lse_stride = 0;
  int64_t n = 0;  // query rows of this call (1 for a decode step)
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int64_t first_position = 0;
  int64_t sliding_window = 0;  // 0: none
  float scale = 1.0f;          // must be positive
};

// The shape fields of the params from a Backend call; pointers and strides are the caller's.
inline FlashAttentionParams flash_attention_params(const AttentionShape& shape, int64_t n, DType dtype) {
  FlashAttentionParams p;
  p.dtype = dtype;
  p.n = n;
  p.num_heads = shape.num_heads;
  p.num_kv_heads = shape.num_kv_heads;
  p.head_dim = shape.head_dim;
  p.first_position = shape.first_position;
  p.sliding_window = shape.sliding_window;
  p.scale = shape.scale;
  return p;
}

// Head dims with a compiled kernel: 16, 32, 64, 80, 96, 128.
bool flash_attention_supports_head_dim(int head_dim);

// Launches the forward on `stream` (asynchronous). Throws attnscope::Error for an
// unsupported dtype or head dim, inconsistent head counts, a pointer not 16-byte aligned
// or a stride not a multiple of 8 elements, and for a launch failure.
void flash_attention_forward(const FlashAttentionParams& params, CUstream_st* stream);

}  // namespace attnscope::kernels::cuda
