#pragma once
// The (row, key) entries one head keeps in one attention call, block-sparse so that it
// never needs rows x keys memory at long context: query blocks of `block` rows of the call
// by key blocks of `block` keys (absolute key positions). Each query block lists its kept
// key blocks in ascending order; a kept block either keeps every entry the model lets its
// rows see (causal, and the model's own sliding window) or carries a bit mask of
// block x block bits (row-major: bit r * block + c for row r of the query block and key c
// of the key block). This is the layout a block-sparse kernel walks: skip absent blocks,
// run full blocks unmasked, apply the bits inside partial ones.
//
// Invariants (KeptKeysBuilder::finish makes them): bits are set only on visible entries;
// a partial block has at least one bit and is not every visible entry; every row keeps at
// least one key (its own when nothing else).
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace attnscope::kernels {

struct KeptKeyBlock {
  int64_t key_block = 0;
  int64_t mask = -1;  // -1: every visible entry of the block; else an index into the masks
  bool operator==(const KeptKeyBlock&) const = default;
};

class KeptKeys {
 public:
  static constexpr int64_t kDefaultBlock = 64;

  KeptKeys() = default;

  int64_t first_position() const { return first_position_; }
  int64_t rows() const { return rows_; }
  int64_t block() const { return block_; }
  int64_t model_window() const { return model_window_; }  // 0: none
  int64_t query_blocks() const { return int64_t(block_offsets_.size()) - 1; }

  std::span<const KeptKeyBlock> blocks_of(int64_t query_block) const;
  // The bits of mask `mask`: block * block / 64 words (rounded up).
  const uint64_t* mask_words(int64_t mask) const { return masks_.data() + mask * words_per_mask_; }
  int64_t words_per_mask() const { return words_per_mask_; }
  int64_t partial_blocks() const { return words_per_mask_ == 0 ? 0 : int64_t(masks_.size()) / words_per_mask_; }
  int64_t kept_blocks() const { return int64_t(entries_.size()); }

  // Whether the model lets call row `row` (position first_position + row) see `key`.
  bool visible(int64_t row, int64_t key) const;
  // Whether the set keeps (row, key); false for invisible entries.
  bool kept(int64_t row, int64_t key) const;
  // The row's kept keys as ascending, disjoint [begin, end) ranges (appended to `out`).
  void row_ranges(int64_t row, std::vector<std::pair<int64_t, int64_t>>& out) const;

  int64_t kept_entries() const;
  int64_t visible_entries() const;
  // kept / visible entries of rows [row_begin, rows()). Kept entries are counted once, by
  // finish(), so that a density costs nothing per call (budget bisections ask often).
  int64_t kept_entries_from(int64_t row_begin) const;
  int64_t visible_entries_from(int64_t row_begin) const;
  double density() const;

  bool operator==(const KeptKeys&) const = default;

 private:
  friend class KeptKeysBuilder;
  int64_t first_position_ = 0;
  int64_t rows_ = 0;
  int64_t block_ = kDefaultBlock;
  int64_t model_window_ = 0;
  int64_t words_per_mask_ = 0;
  std::vector<int64_t> block_offsets_{0};  // [query blocks + 1] into entries_
  std::vector<KeptKeyBlock> entries_;
  std::vector<uint64_t> masks_;
  std::vector<int64_t> kept_before_{0};  // [rows + 1]: kept entries of the rows before each row
};

// Collects kept entries in any order, then packs them (finish). Keys outside a row's
// visible keys are ignored, so families can add whole ranges without clipping.
class KeptKeysBuilder {
 public:
  // attnscope::Error for rows < 0, first_position < 0, block < 1 or model_window < 0.
  KeptKeysBuilder(int64_t first_position, int64_t rows, int64_t model_window,
                  int64_t block = KeptKeys::kDefaultBlock);

  int64_t rows() const { return rows_; }
  int64_t first_position() const { return first_position_; }

  // Keeps keys [key_begin, key_end) of call row `row` (clipped to the visible keys).
  void keep(int64_t row, int64_t key_begin, int64_t key_end);
  // Keeps every visible entry of (query_block, key_block).
  void keep_block(int64_t query_block, int64_t key_block);
  // Keeps every visible key of `row` (a dense row).
  void keep_row(int64_t row);

  // The packed set; rows that kept nothing keep their own key.
  KeptKeys finish();

 private:
  // The slot of (query_block, key_block), made empty on first use.
  int32_t slot(int64_t query_block, int64_t key_block);

  int64_t first_position_, rows_, model_window_, block_, words_;
  int64_t key_blocks_;
  std::vector<int32_t> slot_index_;  // [query block * key_blocks_ + key block] -> slot, -1 none
  std::vector<uint8_t> slot_full_;   // [slot]
  std::vector<uint64_t> slot_bits_;  // [slot][words_]: one pool, not one allocation per slot
  std::vector<uint8_t> row_kept_;
};

}  // namespace attnscope::kernels
