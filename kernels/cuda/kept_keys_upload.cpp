// Packing kept-key sets into the block-sparse kernel's device layout and copying them.
#include "kernels/cuda/kept_keys_upload.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "kernels/cuda/cuda_context.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "kept keys upload";
constexpr int64_t kBlock = DeviceKeptKeys::kBlock;
// Uploads from this size on are written by several threads.
constexpr std::size_t kParallelBytes = std::size_t(1) << 20;

std::size_t align_to(std::size_t bytes, std::size_t alignment) { return (bytes + alignment - 1) / alignment * alignment; }

int64_t first_visible(int64_t position, int64_t window) {
  return window > 0 ? std::max<int64_t>(0, position - window + 1) : 0;
}

void check_ascending(const std::vector<int32_t>& heads) {
  for (std::size_t i = 1; i < heads.size(); ++i)
    if (heads[i] <= heads[i - 1])
      throw Error(kWhere, "head " + std::to_string(heads[i]) + " follows head " + std::to_string(heads[i - 1]) +
                              ": heads must ascend");
}

// The key blocks query block qb of a call sees: [first visible block of its first row,
// block of its last row].
std::pair<int64_t, int64_t> visible_key_blocks(const KeptKeysCall& call, int64_t qb) {
  const int64_t top = call.first_position + std::min(call.rows, (qb + 1) * kBlock) - 1;
  return {first_visible(call.first_position + qb * kBlock, call.model_window) / kBlock, top / kBlock};
}

// The key blocks a call's rows see, summed over its query blocks.
int64_t visible_blocks(const KeptKeysCall& call) {
  int64_t blocks = 0;
  for (int64_t qb = 0; qb * kBlock < call.rows; ++qb) {
    const auto [first, last] = visible_key_blocks(call, qb);
    blocks += last - first + 1;
  }
  return blocks;
}

}  // namespace

KeptKeys reblocked_to_64(const KeptKeys& kept) {
  KeptKeysBuilder builder(kept.first_position(), kept.rows(), kept.model_window(), kBlock);
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t r = 0; r < kept.rows(); ++r) {
    ranges.clear();
    kept.row_ranges(r, ranges);
    for (const auto& [begin, end] : ranges) builder.keep(r, begin, end);
  }
  return builder.finish();
}

KeptKeysPacking::KeptKeysPacking(std::span<const HeadKeptKeys> sets, const KeptKeysCall& call) {
  query_blocks_ = (call.rows + kBlock - 1) / kBlock;
  reblocked_.reserve(sets.size());  // pointers into it stay valid
  for (const HeadKeptKeys& set : sets) {
    const KeptKeys* kept = set.kept;
    const std::string name = "head " + std::to_string(set.head);
    if (kept == nullptr) throw Error(kWhere, name + " has no set");
    if (kept->rows() != call.rows || kept->first_position() != call.first_position ||
        kept->model_window() != call.model_window)
      throw Error(kWhere, name + ": its kept set covers " + std::to_string(kept->rows()) + " rows from position " +
                              std::to_string(kept->first_position()) + " under window " +
                              std::to_string(kept->model_window()) + "; the call has " + std::to_string(call.rows) +
                              " rows from position " + std::to_string(call.first_position) + " under window " +
                              std::to_string(call.model_window));
    if (kept->block() != kBlock) {
      reblocked_.push_back(reblocked_to_64(*kept));
      kept = &reblocked_.back();
    }
    heads_.push_back(set.head);
    sets_.push_back(kept);
    set_entries_.push_back(entries_);
    set_masks_.push_back(masks_);
    entries_ += kept->kept_blocks();
    masks_ += kept->partial_blocks();
  }
  check_ascending(heads_);
  // Blocks are distinct and visible (KeptKeys' invariants): as many whole blocks as the
  // call has visible ones is every entry.
  every_visible_block_kept_ = masks_ == 0 && entries_ == int64_t(sets_.size()) * visible_blocks(call);
  lay_out();
}

KeptKeysPacking KeptKeysPacking::dense(std::span<const int> heads, const KeptKeysCall& call) {
  KeptKeysPacking p;
  p.heads_.assign(heads.begin(), heads.end());
  check_ascending(p.heads_);
  p.query_blocks_ = (call.rows + kBlock - 1) / kBlock;
  for (int64_t qb = 0; qb < p.query_blocks_; ++qb) {  // every visible block of each query block
    const auto [first, last] = visible_key_blocks(call, qb);
    p.dense_first_.push_back(first);
    p.dense_last_.push_back(last);
    p.entries_ += last - first + 1;
  }
  p.every_visible_block_kept_ = true;
  p.lay_out();
  return p;
}

void KeptKeysPacking::lay_out() {
  const int64_t sets = int64_t(heads_.size());
  if (entries_ >= (int64_t(1) << 31) || masks_ >= (int64_t(1) << 31) || sets * (query_blocks_ + 1) >= (int64_t(1) << 31))
    throw Error(kWhere, std::to_string(entries_) + " kept blocks (" + std::to_string(masks_) + " partial) of " +
                            std::to_string(sets) + " sets do not fit the layout's 32-bit indices");
  offsets_at_ = align_to(std::size_t(sets) * 4, 8);
  blocks_at_ = align_to(offsets_at_ + std::size_t(sets * (query_blocks_ + 1)) * 4, 8);
  words_at_ = align_to(blocks_at_ + std::size_t(entries_) * 8, 16);
  bytes_ = std::max<std::size_t>(16, words_at_ + std::size_t(masks_ * kBlock) * 8);
}

void KeptKeysPacking::write(void* host) const {
  char* base = static_cast<char*>(host);
  std::memcpy(base, heads_.data(), heads_.size() * 4);
  auto* offsets = reinterpret_cast<int32_t*>(base + offsets_at_);
  auto* blocks = reinterpret_cast<int32_t*>(base + blocks_at_);
  auto* words = reinterpret_cast<uint64_t*>(base + words_at_);
  if (sets_.empty() && !heads_.empty()) {  // the dense layout: one list, every head's offsets alike
    int64_t entry = 0;
    for (int64_t qb = 0; qb < query_blocks_; ++qb) {
      offsets[qb] = int32_t(entry);
      for (int64_t kb = dense_first_[std::size_t(qb)]; kb <= dense_last_[std::size_t(qb)]; ++kb, ++entry) {
        blocks[2 * entry] = int32_t(kb);
        blocks[2 * entry + 1] = -1;
      }
    }
    offsets[query_blocks_] = int32_t(entry);
    for (std::size_t h = 1; h < heads_.size(); ++h)
      std::memcpy(offsets + h * std::size_t(query_blocks_ + 1), offsets, std::size_t(query_blocks_ + 1) * 4);
    return;
  }
  // Sets in parallel, each into its own part (the masks' copy is most of the work: 512 bytes
  // a partial block, 135 MB for 32 heads of 8K rows under a token-level mask).
  const auto sets = int64_t(sets_.size());
#pragma omp parallel for schedule(dynamic, 1) if (sets > 1 && bytes_ >= kParallelBytes)
  for (int64_t i = 0; i < sets; ++i) {
    const KeptKeys& kept = *sets_[std::size_t(i)];
    int32_t* set_offsets = offsets + i * (query_blocks_ + 1);
    int64_t entry = set_entries_[std::size_t(i)];
    const int64_t first_mask = set_masks_[std::size_t(i)];
    for (int64_t qb = 0; qb < query_blocks_; ++qb) {
      set_offsets[qb] = int32_t(entry);
      for (const KeptKeyBlock& b : kept.blocks_of(qb)) {
        blocks[2 * entry] = int32_t(b.key_block);
        blocks[2 * entry + 1] = b.mask < 0 ? -1 : int32_t(first_mask + b.mask);
        ++entry;
      }
    }
    set_offsets[query_blocks_] = int32_t(entry);
    const int64_t count = kept.partial_blocks();
    if (count > 0) std::memcpy(words + first_mask * kBlock, kept.mask_words(0), std::size_t(count * kBlock) * 8);
  }
}

DeviceKeptKeys KeptKeysPacking::view(const void* device) const {
  const char* base = static_cast<const char*>(device);
  DeviceKeptKeys d;
  d.sets = int(heads_.size());
  d.query_blocks = query_blocks_;
  d.entries = entries_;
  d.masks = masks_;
  d.heads = reinterpret_cast<const int32_t*>(base);
  d.block_offsets = reinterpret_cast<const int32_t*>(base + offsets_at_);
  d.blocks = reinterpret_cast<const int32_t*>(base + blocks_at_);
  d.mask_words = reinterpret_cast<const uint64_t*>(base + words_at_);
  d.host_heads = heads_;
  d.every_visible_block_kept = every_visible_block_kept_;
  return d;
}

KeptKeysUpload::KeptKeysUpload() {
  cudaEvent_t event = nullptr;
  check_cuda(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), kWhere, "cudaEventCreate");
  copied_ = event;
}

KeptKeysUpload::~KeptKeysUpload() {
  // A copy in flight reads host_ and writes device_: let it finish before they go.
  if (copied_ != nullptr) {
    cudaEventSynchronize(copied_);
    cudaEventDestroy(copied_);
  }
  if (device_ != nullptr) cudaFree(device_);
}

DeviceKeptKeys KeptKeysUpload::send(const KeptKeysPacking& packing, CUstream_st* stream) {
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  const std::size_t bytes = packing.bytes();
  check_cuda(cudaEventSynchronize(copied_), kWhere, "waiting for the last copy");  // host_ is free again
  host_.reserve(bytes, "kept-key sets");
  packing.write(host_.as<char>());
  if (bytes > device_bytes_) {
    // Kernels queued earlier may still read the old buffer.
    check_cuda(cudaStreamSynchronize(s), kWhere, "waiting before the device buffer grows");
    if (device_ != nullptr) cudaFree(device_);
    device_ = nullptr;
    device_bytes_ = 0;
    const std::size_t grown = std::max(bytes, std::size_t(1) << 16);
    check_cuda(cudaMalloc(&device_, grown), kWhere, "cudaMalloc of " + std::to_string(grown) + " bytes");
    device_bytes_ = grown;
  }
  check_cuda(cudaMemcpyAsync(device_, host_.as<char>(), bytes, cudaMemcpyHostToDevice, s), kWhere,
             "copy to the device");
  check_cuda(cudaEventRecord(copied_, s), kWhere, "cudaEventRecord");
  last_bytes_ = bytes;
  return packing.view(device_);
}

DeviceKeptKeys KeptKeysUpload::upload(std::span<const HeadKeptKeys> sets, const KeptKeysCall& call,
                                      CUstream_st* stream) {
  return send(KeptKeysPacking(sets, call), stream);
}

DeviceKeptKeys KeptKeysUpload::upload_dense(std::span<const int> heads, const KeptKeysCall& call,
                                            CUstream_st* stream) {
  return send(KeptKeysPacking::dense(heads, call), stream);
}

}  // namespace attnscope::kernels::cuda
