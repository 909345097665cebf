#pragma once
// The mask lab's per-head evaluation on the GPU: the heads of one attention call (one
// layer's q, k, v on the device) under kept-key sets against their dense attention, with
// the definitions of analysis/masks/head_evaluation.h (recall, min recall, relative L2 and
// cosine of the output, worst rows, density).
//
// The dense side is computed once, when the evaluator is made: every head through the
// block-sparse kernel with every visible block kept (fp32 output and lse, kept on the
// device). Each evaluate() is then what a budget change costs: packing and uploading the
// sets (one pinned buffer, one copy, kept_keys_upload.h), one block-sparse launch over the
// sets' kept blocks (fp32 output, lse), the masked-recall kernel (mask_metrics.h), one
// download each of the per-head sums and the per-row recalls and errors (for the worst
// rows) into pinned memory reused across calls, and the results made on the host
// (mask_evaluation_results.h). Both sides run the same kernel, so a set that
// keeps every visible entry gives recall 1 and error 0 exactly; otherwise the outputs
// carry the kernel's rounding of P to bf16/fp16 before P V (docs/cuda-attention.md).
//
// Device memory: two fp32 outputs [n, heads * head_dim], two lse [heads, n], per-row
// recall and error [heads, n]: 8 n heads (head_dim + 2) bytes (8K rows, 32 heads of 128:
// 270 MB). Pure C++ header. Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/cuda/capture_staging.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/kept_keys_upload.h"
#include "kernels/cuda/mask_evaluation_results.h"

namespace attnscope::kernels::cuda {

class MaskEvaluator {
 public:
  // `call`: one attention call's device q, k, v and shape as the forward takes them (out,
  // lse, head range and rule are not used). Computes the dense side of every head on
  // `stream` (queued; evaluate() waits). Throws attnscope::Error like the forward, and for
  // device memory it cannot get.
  MaskEvaluator(const FlashAttentionParams& call, CUstream_st* stream);
  ~MaskEvaluator();
  MaskEvaluator(const MaskEvaluator&) = delete;
  MaskEvaluator& operator=(const MaskEvaluator&) = delete;

  // Each set's head under its kept set (heads ascending, each set built for the call),
  // rows [first_rows[i], n) evaluated (first_rows empty: all rows; the decode-time
  // families' simulated decode rows otherwise). Synchronises the stream.
  std::vector<DeviceHeadEvaluation> evaluate(std::span<const HeadKeptKeys> sets,
                                             std::span<const int64_t> first_rows = {}, int worst_rows = 5);

  const FlashAttentionParams& call() const { return call_; }

 private:
  struct Buffers;
  FlashAttentionParams call_;
  CUstream_st* stream_;
  std::unique_ptr<Buffers> buffers_;
  KeptKeysUpload upload_;
  PinnedBuffer transfers_;  // [first rows][sums][row recalls][row errors] of the last call
  bool transfers_queued_ = false;  // copies of transfers_ may be in flight (a call that threw)
};

}  // namespace attnscope::kernels::cuda
