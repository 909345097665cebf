#pragma once
// Block-sparse attention forward on the GPU (sm_80 and newer): each head of a call attends
// only to the entries of its own kept-key set (kernels/kept_keys.h, a Selected rule or a
// mask-lab evaluation), softmax over the kept entries, output and log-sum-exp per row.
// bf16 or fp16 in, fp32 accumulation; head dims 16, 32, 64, 80, 96, 128; GQA; causal with
// first_position and the model's own sliding window, as flash_attention.h.
//
// The sets lie on the device in one block-sparse layout (DeviceKeptKeys: per set and
// 64-row query block the kept 64-key blocks in ascending order, each full or with its
// 64 x 64 bits); kept_keys_upload.h packs and uploads KeptKeys sets into it. The kernel
// (block_sparse_attention_forward.cuh) walks only the kept blocks of a query block: full
// blocks unmasked except where they cross the diagonal or the window edge, partial blocks
// with their bits. Design and measurements: docs/cuda-attention.md, "Block-sparse attention".
//
// Pure C++ header (the stream is a CUstream_st*, nullptr for the default stream).
#include <cstdint>
#include <vector>

#include "kernels/cuda/flash_attention.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

// The kept-key sets of `sets` heads of one call, on the device. Query block b of set s
// holds rows [64 b, 64 b + 64) of the call; its kept key blocks are entries
// [block_offsets[s * (query_blocks + 1) + b], ... + 1) (indices into the whole layout),
// entry e = {key block (keys [64 kb, 64 kb + 64), absolute positions), mask} with
// mask -1 for a full block, else the index of its 64 words in mask_words (word r holds
// row r of the query block, bit c key c of the key block).
struct DeviceKeptKeys {
  static constexpr int kBlock = 64;
  int sets = 0;
  int64_t query_blocks = 0;
  int64_t entries = 0;
  int64_t masks = 0;
  const int32_t* heads = nullptr;          // [sets]: the query head each set belongs to
  const int32_t* block_offsets = nullptr;  // [sets * (query_blocks + 1)]
  const int32_t* blocks = nullptr;         // [entries][2]: key block, mask
  const uint64_t* mask_words = nullptr;    // [masks][64]
  std::vector<int32_t> host_heads;         // the heads again, on the host (checks, messages)
  // Host: every set keeps every visible block of the call whole (no entry dropped), which is
  // the dense forward's work: block_sparse_attention_forward then runs that instead.
  bool every_visible_block_kept = false;
};

// One block-sparse call: the shape, q/k/v and strides of `attention` (as the flash forward
// takes them; its head range and rule are not used: the sets name their heads), out and
// lse of each set's head written as the forward writes them (either may be null), and
// optionally the output in fp32 (`out_f32`, [n, num_heads * head_dim] with its own
// stride): the mask lab compares sparse and dense outputs without a bf16 rounding.
struct BlockSparseParams {
  FlashAttentionParams attention;
  DeviceKeptKeys kept;
  float* out_f32 = nullptr;
  int64_t out_f32_stride = 0;
};

// Launches the block-sparse forward on `stream` (asynchronous). Sets of consecutive heads
// that keep every visible block, called with out and without out_f32, run on the dense
// flash forward instead (the Hopper kernel on sm_90, faster than this mma.sync kernel at
// full density). Throws attnscope::Error for the flash forward's shape and alignment problems, sets that do not cover the call's
// query blocks, a head outside the call, no output at all, and a launch failure.
void block_sparse_attention_forward(const BlockSparseParams& params, CUstream_st* stream);

}  // namespace attnscope::kernels::cuda
