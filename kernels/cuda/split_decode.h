#pragma once
// Split-KV ("flash-decoding") attention for decode steps on the GPU: the forward and the
// capture pass for calls of at most split_decode::kMaxRows query rows. The one-CTA-per-head
// kernels give such a call one CTA per query head (32 CTAs on 132 SMs for a Llama-3-8B
// layer), each streaming every key alone and each KV head read again by every query head
// of its group. Here a CTA takes all query heads of a GQA group (and all rows) over one
// split of the keys, so K and V are read once, and the grid has about two CTAs per SM;
// a second small kernel merges the splits' partials. Design, choice and measurements:
// docs/cuda-attention.md, "Split-KV decode".
//
// Which path runs: flash_attention_forward (flash_attention.h) takes the split path when
// the caller asks for FlashKernel::Automatic, ATTNSCOPE_DECODE_KERNEL is not "rows", and
// split_decode_limitation is empty (n <= kMaxRows, rule Dense, a workspace in the params);
// run_capture_pass (attention_capture_pass.h) when ATTNSCOPE_DECODE_KERNEL is not "rows"
// and n <= kMaxRows. ATTNSCOPE_DECODE_KERNEL=rows keeps the one-CTA-per-head kernels for
// comparisons; "split" (the default) takes the split path wherever it applies.
//
// Pure C++ header.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "kernels/cuda/flash_attention.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

enum class DecodeKernel { Split, Rows };

// "split" (or empty) and "rows"; throws attnscope::Error naming ATTNSCOPE_DECODE_KERNEL for
// anything else.
DecodeKernel parse_decode_kernel(std::string_view name);
// ATTNSCOPE_DECODE_KERNEL parsed (Split when unset); read per call.
DecodeKernel decode_kernel_from_environment();

// Device memory for the forward's per-split partials (unnormalised output, running max
// and sum per row and split), grown to the largest call and reused: one per stream (calls
// on one stream run in order, so they may share it). A few MB at most: the splits are
// bounded by the SM count, not by the keys (split_decode_plan.h).
class SplitDecodeWorkspace {
 public:
  SplitDecodeWorkspace();
  ~SplitDecodeWorkspace();
  SplitDecodeWorkspace(const SplitDecodeWorkspace&) = delete;
  SplitDecodeWorkspace& operator=(const SplitDecodeWorkspace&) = delete;

  // Room for `floats` floats on the device (throws OutOfMemory when it does not fit).
  float* reserve(std::size_t floats);
  // Bytes held now.
  std::size_t bytes() const;

 private:
  struct Buffer;
  std::unique_ptr<Buffer> buffer_;
};

// Why the split forward cannot run these params ("" when it can): no rows or more than
// split_decode::kMaxRows, a rule other than Dense, or no workspace (params.decode_workspace).
std::string split_decode_limitation(const FlashAttentionParams& params);

// Whether flash_attention_forward runs these params on the split path when asked for
// `requested`: Automatic, ATTNSCOPE_DECODE_KERNEL not "rows" and no limitation.
bool split_decode_chosen(const FlashAttentionParams& params, FlashKernel requested);

// Whether run_capture_pass runs a capture of these params on the split path:
// ATTNSCOPE_DECODE_KERNEL not "rows" and 1 <= n <= split_decode::kMaxRows.
bool split_decode_capture_chosen(const FlashAttentionParams& params);

// Launches the split forward (asynchronous, on `stream`). The caller has validated the
// call (check_attention_call); throws attnscope::Error naming the limitation when the
// split path cannot take it, and for a failed launch.
void split_decode_forward(const FlashAttentionParams& params, CUstream_st* stream);

// Streaming multiprocessors of the current device, asked once per device and kept.
int current_device_sm_count();

}  // namespace attnscope::kernels::cuda
