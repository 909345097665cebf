#pragma once
// Selected rules on the CUDA backend (kernels/attention_rules.h): per attention call, each
// Selected head's KeySelector runs on the host, as on the CPU backend (heads in parallel),
// and the kept sets go to the device for the block-sparse kernel
// (block_sparse_attention.h), which then runs those heads in one launch.
//
// What a selector reads: one that reads the call's q, k and v (KeySelector::reads_views)
// gets host float32 copies. This first version downloads them per call: the head's q
// columns ([n, D]) and its KV head's k and v rows [0, keys) (each KV head once), as
// bf16/fp16 by one strided copy each into pinned memory, converted to float on the host:
// 2 (H_sel n D + 2 H_kv keys D) bytes a call. A prefill of 8K rows with every head of a
// Llama-3-8B layer selecting moves 96 MiB a layer (about 4 ms at 25 GB/s, plus the
// selectors' own host work); a decode step downloads its KV heads' whole cache every
// step (4 keys D bytes each: 32 MiB a layer of 8 KV heads at 8K). A selector that reads
// only the shape (streaming and window spans: reads_views false) moves nothing. What a
// device-side selector would need instead: docs/cuda-attention.md, "Block-sparse attention".
//
// Pure C++ header. Not thread-safe (one backend call at a time).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/attention_rules.h"
#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/capture_staging.h"
#include "kernels/cuda/kept_keys_upload.h"

namespace attnscope::kernels::cuda {

class KeySelection {
 public:
  // Runs the selectors of `rules`' Selected heads for the call `params` (device q, k, v as
  // the forward takes them; the caches must hold the call's keys, queued earlier on
  // `stream`), uploads their kept sets on `stream` and returns the rules to run: a Selected
  // head whose selector answered dense becomes Dense. The rules and sets() stay valid
  // until the next call. Throws attnscope::Error (naming the head and its selector) for a
  // set built for another call, and for CUDA failures.
  const AttentionRules& select(const FlashAttentionParams& params, const AttentionRules& rules, CUstream_st* stream);

  // The kept sets of the last call's Selected heads, on the device.
  const DeviceKeptKeys& sets() const { return sets_; }

  // What the last call moved: bytes downloaded for the selectors, bytes of kept sets uploaded.
  std::size_t last_download_bytes() const { return download_bytes_; }
  std::size_t last_upload_bytes() const { return upload_.last_bytes(); }

 private:
  // Host float copies of the views the reading selectors need.
  void download_views(const FlashAttentionParams& params, const std::vector<int>& heads, CUstream_st* stream);

  PinnedBuffer staging_;
  std::vector<int> q_slot_, kv_slot_;  // [head] / [kv head] -> slot in the copies below, -1 none
  std::vector<float> q_, k_, v_;
  std::vector<std::optional<KeptKeys>> kept_;
  AttentionRules run_rules_;
  KeptKeysUpload upload_;
  DeviceKeptKeys sets_;
  std::size_t download_bytes_ = 0;
};

}  // namespace attnscope::kernels::cuda
