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
// A call may run a range of the heads under one attention rule (kernels/attention_rules.h);
// flash_attention_forward_with_rules runs each head under its own.
//
// Two kernels compute this: the portable one (mma.sync, sm_80 and newer, every head dim)
// and the Hopper one (wgmma + TMA, sm_90a, head dims 64 and 128). flash_attention_forward
// picks the Hopper kernel where it can run; the environment variable
// ATTNSCOPE_FLASH_KERNEL=portable|hopper forces one (comparisons, tests). Decode steps
// (at most 16 rows, Dense, a decode_workspace given) take the split-KV path instead
// (split_decode.h) unless the caller names a kernel or ATTNSCOPE_DECODE_KERNEL=rows.
//
// Pure C++ header: the stream is CUDA's cudaStream_t (a CUstream_st*), nullptr for the
// default stream. Design and measurements: docs/cuda-attention.md.
#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/backend.h"
#include "kernels/dtype.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

struct DeviceKeptKeys;  // block_sparse_attention.h
class SplitDecodeWorkspace;  // split_decode.h

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
  // Optional, device, laid out as lse (which they need): each row's entropy (nats) and
  // top-1 key position, the capture's definitions, computed inside the forward so that the
  // capture pass need not (attention_capture_pass.h). Only the Hopper kernel writes them;
  // flash_attention_forward says whether it did. Both or neither.
  float* row_entropy = nullptr;
  int32_t* row_top1 = nullptr;
  int64_t n = 0;  // query rows of this call (1 for a decode step)
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int64_t first_position = 0;
  int64_t sliding_window = 0;  // 0: none
  float scale = 1.0f;          // must be positive
  // Heads [head_begin, head_begin + head_count) run (head_count 0: every head from
  // head_begin on); the other heads' columns of out and lse are not written.
  int head_begin = 0;
  int head_count = 0;
  // The rule of every running head. Dense runs on either kernel; ZeroQuery and SinkWindow
  // on the portable one (a zero Q tile; sink key tiles besides the window's); Ablated
  // writes zeros to the heads' output columns and no lse.
  HeadRule rule;
  // Device memory for the split-KV decode path (split_decode.h), which calls of at most 16
  // rows take when it is given; nullptr keeps them on the one-CTA-per-head kernels.
  SplitDecodeWorkspace* decode_workspace = nullptr;
  int heads_run() const { return head_count > 0 ? head_count : num_heads - head_begin; }
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

// The checks every attention kernel here makes of a call (the forward, the block-sparse
// kernel): dtype, head dim, head counts, positions, scale and, for n > 0, the pointers
// (out only when `needs_out`), 16-byte alignment and strides. Throws
// attnscope::Error(where, ...).
void check_attention_call(const FlashAttentionParams& params, const char* where, bool needs_out = true);

// Which kernel runs a call. Automatic: the Hopper kernel where
// flash_attention_hopper_unavailable is empty, else the portable one.
enum class FlashKernel { Automatic, Portable, Hopper };

// "auto" (or empty), "portable", "hopper"; throws attnscope::Error for anything else.
FlashKernel parse_flash_kernel(std::string_view name);

// ATTNSCOPE_FLASH_KERNEL parsed (Automatic when unset); throws for an unknown value.
FlashKernel flash_kernel_from_environment();

// Why the Hopper kernel cannot take these params on any device (dtype, head dim, TMA's
// alignment of base addresses and row strides, a rule or a subset of the heads), or ""
// when it can.
std::string flash_attention_hopper_limitation(const FlashAttentionParams& params);

// Why the Hopper kernel cannot run these params here: not compiled in (no 90 in
// ATTNSCOPE_CUDA_ARCHITECTURES), the current device is not compute capability 9.0, or
// the limitation above; "" when it can.
std::string flash_attention_hopper_unavailable(const FlashAttentionParams& params);
// Why sm_90a kernels cannot run on the current device (not compiled for sm_90a, no device,
// compute capability other than 9.0); empty when they can. Shared by the forward's and the
// capture pass's kernel choice.
std::string hopper_device_unavailable();

// The kernel a call with `requested` runs (Portable or Hopper; the environment is not
// read here). Throws attnscope::Error when Hopper is requested and unavailable.
FlashKernel choose_flash_kernel(const FlashAttentionParams& params, FlashKernel requested);

// Launches the forward on `stream` (asynchronous) and returns whether it wrote
// params.row_entropy and row_top1 (asked for, and the Hopper kernel ran). `kernel` Automatic runs the split-KV
// decode path where split_decode_chosen (split_decode.h), else defers to
// ATTNSCOPE_FLASH_KERNEL, then to choose_flash_kernel; Portable or Hopper run that kernel. Throws attnscope::Error for an
// unsupported dtype or head dim, inconsistent head counts, a pointer not 16-byte aligned
// or a stride not a multiple of 8 elements, a forced kernel that cannot run the call, and
// for a launch failure.
bool flash_attention_forward(const FlashAttentionParams& params, CUstream_st* stream,
                             FlashKernel kernel = FlashKernel::Automatic);

// The forward with each head under its own rule (rules.heads: one per query head; params
// must leave head_begin, head_count and rule at their defaults). Dense heads run on the
// kernel `kernel` picks as above (the split-KV decode path included, run by run); the
// Hopper kernel takes all heads or none, so where it
// runs it also computes the rule heads, which are then overwritten (same stream, in
// order). Runs of consecutive heads with equal rules are one portable launch each;
// Ablated runs are zeroed. Selected heads run in one block-sparse launch over `selected`
// (block_sparse_attention.h; its sets must be exactly the Selected heads, uploaded on the
// same stream); without it a Selected head is refused. Throws like
// flash_attention_forward, and for rules that do not fit the heads or the sets. Returns
// whether the row statistics were written (for the Dense heads: the Hopper kernel ran).
bool flash_attention_forward_with_rules(const FlashAttentionParams& params, const AttentionRules& rules,
                                        CUstream_st* stream, FlashKernel kernel = FlashKernel::Automatic,
                                        const DeviceKeptKeys* selected = nullptr);

}  // namespace attnscope::kernels::cuda
