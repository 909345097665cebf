#pragma once
// Kept-key sets of one call (kernels/kept_keys.h), one per head, packed into the layout the
// block-sparse kernel walks (DeviceKeptKeys, block_sparse_attention.h) and copied to the
// device: packed into one pinned host buffer (sets in parallel), one asynchronous copy on
// the caller's stream.
// The sets' offsets are rebased into one array of blocks and one of masks. A set built
// with a block other than 64 (the mask families all use 64) is re-blocked on the host
// first, from its rows' kept ranges.
//
// Cost per call: the packing (host, proportional to the kept blocks: 8 bytes per block,
// 512 per partial block) and its copy; nothing proportional to rows x keys.
//
// Pure C++ header (streams are CUstream_st*). Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/capture_staging.h"
#include "kernels/kept_keys.h"

struct CUevent_st;

namespace attnscope::kernels::cuda {

struct HeadKeptKeys {
  int head = 0;
  const KeptKeys* kept = nullptr;
};

// The call a set must have been built for.
struct KeptKeysCall {
  int64_t first_position = 0;
  int64_t rows = 0;
  int64_t model_window = 0;  // 0: none
};

// Where a call's sets lie in one upload, and the packing itself (host only, so that it
// can be checked without a device): [heads][offsets][blocks, 8-byte aligned][mask words,
// 16-byte aligned, as the kernel copies them].
class KeptKeysPacking {
 public:
  // `sets`: ascending, distinct heads, each built for `call` (checked, naming the head).
  // Throws attnscope::Error for a set of another call, heads out of order, a missing set,
  // and more blocks than 32-bit indices hold. The sets must outlive the packing.
  KeptKeysPacking(std::span<const HeadKeptKeys> sets, const KeptKeysCall& call);
  // Every visible block of the call kept, full, for each of `heads` (one shared block list).
  static KeptKeysPacking dense(std::span<const int> heads, const KeptKeysCall& call);
  KeptKeysPacking(const KeptKeysPacking&) = delete;  // it points into its own re-blocked sets
  KeptKeysPacking& operator=(const KeptKeysPacking&) = delete;
  KeptKeysPacking(KeptKeysPacking&&) = default;
  KeptKeysPacking& operator=(KeptKeysPacking&&) = default;

  std::size_t bytes() const { return bytes_; }
  // Writes the upload into `host` (bytes() bytes, 16-byte aligned).
  void write(void* host) const;
  // The device view of a copy of the upload at `device` (16-byte aligned).
  DeviceKeptKeys view(const void* device) const;

 private:
  KeptKeysPacking() = default;
  void lay_out();

  std::vector<int32_t> heads_;
  int64_t query_blocks_ = 0, entries_ = 0, masks_ = 0;
  std::vector<const KeptKeys*> sets_;  // empty for the dense layout
  std::vector<int64_t> set_entries_, set_masks_;  // [set]: its first block entry and mask
  std::vector<KeptKeys> reblocked_;    // sets of another block size, re-blocked
  std::vector<int64_t> dense_first_, dense_last_;  // dense: per query block its key blocks
  bool every_visible_block_kept_ = false;
  std::size_t offsets_at_ = 0, blocks_at_ = 0, words_at_ = 0, bytes_ = 0;
};

class KeptKeysUpload {
 public:
  KeptKeysUpload();
  ~KeptKeysUpload();
  KeptKeysUpload(const KeptKeysUpload&) = delete;
  KeptKeysUpload& operator=(const KeptKeysUpload&) = delete;

  // Packs `sets` (KeptKeysPacking's rules) and queues their copy on `stream`. The view
  // stays valid until the next upload of this object; kernels reading it must run on
  // `stream`. Throws like KeptKeysPacking, and for CUDA failures.
  DeviceKeptKeys upload(std::span<const HeadKeptKeys> sets, const KeptKeysCall& call, CUstream_st* stream);

  // KeptKeysPacking::dense uploaded: dense attention through the block-sparse kernel (the
  // mask lab's dense side, a benchmark's 100%).
  DeviceKeptKeys upload_dense(std::span<const int> heads, const KeptKeysCall& call, CUstream_st* stream);

  // Bytes of the last upload (what crossed to the device).
  std::size_t last_bytes() const { return last_bytes_; }

 private:
  DeviceKeptKeys send(const KeptKeysPacking& packing, CUstream_st* stream);

  PinnedBuffer host_;
  void* device_ = nullptr;
  std::size_t device_bytes_ = 0;
  CUevent_st* copied_ = nullptr;  // recorded after the last copy out of host_
  std::size_t last_bytes_ = 0;
};

// The same set with 64-row, 64-key blocks.
KeptKeys reblocked_to_64(const KeptKeys& kept);

}  // namespace attnscope::kernels::cuda
