#pragma once
// Internal to analysis/tokenizer: the BPE merges, keyed by the (left id, right id) pair, in an
// open-addressing table with linear probing. Looking pairs up is most of the time BPE spends on
// a word it has not seen before (a few lookups per character); std::unordered_map's node chase
// and prime modulo made that about twice as slow.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnscope::tokenizer::detail {

class MergeTable {
 public:
  struct Merge {
    int32_t rank;    // position in the merges list: lower merges first
    int32_t new_id;  // id of the merged token
  };

  // Sizes the table for `count` pairs so that filling it never rehashes.
  void reserve(size_t count);
  // Ids are non-negative. A pair inserted again takes the new value, as tokenizers' map does.
  void insert_or_assign(int32_t left, int32_t right, Merge merge);
  const Merge* find(int32_t left, int32_t right) const;
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t key;  // kEmpty when free
    Merge merge;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of non-negative int32 ids has it

  static uint64_t key_of(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const {
    // Fibonacci hashing: the high bits of key * 2^64/phi spread consecutive ids well.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void rehash(size_t slot_count);

  std::vector<Slot> slots_;
  size_t size_ = 0;
  unsigned shift_ = 64;
};

}  // namespace attnscope::tokenizer::detail
