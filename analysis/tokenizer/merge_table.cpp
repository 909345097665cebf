// Open-addressing table of BPE merges (see merge_table.h).
#include "analysis/tokenizer/merge_table.h"

namespace attnscope::tokenizer::detail {

void MergeTable::reserve(size_t count) {
  // At most half full keeps linear probes short.
  size_t slot_count = 16;
  while (slot_count < 2 * count) slot_count *= 2;
  if (slot_count > slots_.size()) rehash(slot_count);
}

void MergeTable::rehash(size_t slot_count) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(slot_count, Slot{kEmpty, Merge{0, 0}});
  shift_ = 64;
  for (size_t n = slot_count; n > 1; n /= 2) --shift_;
  size_ = 0;
  for (const Slot& slot : old) {
    if (slot.key != kEmpty) {
      insert_or_assign(static_cast<int32_t>(slot.key >> 32), static_cast<int32_t>(slot.key & 0xFFFFFFFFu), slot.merge);
    }
  }
}

void MergeTable::insert_or_assign(int32_t left, int32_t right, Merge merge) {
  if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
  const uint64_t key = key_of(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.key == key) {
      slot.merge = merge;
      return;
    }
    if (slot.key == kEmpty) {
      slot = Slot{key, merge};
      ++size_;
      return;
    }
  }
}

const MergeTable::Merge* MergeTable::find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const uint64_t key = key_of(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot_of(key);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.key == key) return &slot.merge;
    if (slot.key == kEmpty) return nullptr;
  }
}

}  // namespace attnscope::tokenizer::detail
