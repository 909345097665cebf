// Block-sparse kept-key sets: packing, lookup and counting.
#include "kernels/kept_keys.h"

#include <algorithm>
#include <bit>
#include <string>

#include "kernels/error.h"

namespace attnscope::kernels {
namespace {

constexpr const char* kWhere = "kept keys";

// Visible keys of a row at `position`: [first, position].
int64_t first_visible(int64_t position, int64_t window) {
  return window > 0 ? std::max<int64_t>(0, position - window + 1) : 0;
}

// Visible keys of `position` inside key block [k0, k0 + block): [lo, hi), possibly empty.
std::pair<int64_t, int64_t> visible_in_block(int64_t position, int64_t window, int64_t k0, int64_t block) {
  const int64_t lo = std::max(k0, first_visible(position, window));
  const int64_t hi = std::min(k0 + block, position + 1);
  return {lo, std::max(lo, hi)};
}

bool bit(const uint64_t* words, int64_t index) { return (words[index >> 6] >> (index & 63)) & 1u; }

// The bits of word `index >> 6` from bit `index & 63` on, at most `count` of them.
uint64_t word_mask(int64_t index, int64_t count) {
  const int64_t lo = index & 63, n = std::min<int64_t>(64 - lo, count);
  return (n == 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1) << lo;
}

// Bits [begin, end), a word at a time.
void set_bits(uint64_t* words, int64_t begin, int64_t end) {
  while (begin < end) {
    const uint64_t mask = word_mask(begin, end - begin);
    words[begin >> 6] |= mask;
    begin += std::popcount(mask);
  }
}

int64_t count_bits(const uint64_t* words, int64_t begin, int64_t end) {
  int64_t total = 0;
  while (begin < end) {
    const uint64_t mask = word_mask(begin, end - begin);
    total += std::popcount(words[begin >> 6] & mask);
    begin += std::popcount(mask);
  }
  return total;
}

}  // namespace

std::span<const KeptKeyBlock> KeptKeys::blocks_of(int64_t query_block) const {
  if (query_block < 0 || query_block >= query_blocks())
    throw Error(kWhere, "query block " + std::to_string(query_block) + " is outside the " +
                            std::to_string(query_blocks()) + " blocks of the call");
  const auto begin = std::size_t(block_offsets_[std::size_t(query_block)]);
  const auto end = std::size_t(block_offsets_[std::size_t(query_block) + 1]);
  return {entries_.data() + begin, end - begin};
}

bool KeptKeys::visible(int64_t row, int64_t key) const {
  const int64_t position = first_position_ + row;
  return row >= 0 && row < rows_ && key >= first_visible(position, model_window_) && key <= position;
}

bool KeptKeys::kept(int64_t row, int64_t key) const {
  if (!visible(row, key)) return false;
  const int64_t kb = key / block_;
  for (const KeptKeyBlock& b : blocks_of(row / block_)) {
    if (b.key_block != kb) continue;
    return b.mask < 0 || bit(mask_words(b.mask), (row % block_) * block_ + key % block_);
  }
  return false;
}

void KeptKeys::row_ranges(int64_t row, std::vector<std::pair<int64_t, int64_t>>& out) const {
  const int64_t position = first_position_ + row;
  const std::size_t first = out.size();
  auto add = [&](int64_t lo, int64_t hi) {
    if (out.size() > first && out.back().second == lo)
      out.back().second = hi;
    else
      out.push_back({lo, hi});
  };
  for (const KeptKeyBlock& b : blocks_of(row / block_)) {
    const int64_t k0 = b.key_block * block_;
    const auto [lo, hi] = visible_in_block(position, model_window_, k0, block_);
    if (b.mask < 0) {
      if (lo < hi) add(lo, hi);
      continue;
    }
    const uint64_t* words = mask_words(b.mask);
    const int64_t base = (row % block_) * block_ - k0;
    for (int64_t k = lo; k < hi; ++k) {
      if (!bit(words, base + k)) continue;
      int64_t e = k + 1;
      while (e < hi && bit(words, base + e)) ++e;
      add(k, e);
      k = e;
    }
  }
}

int64_t KeptKeys::kept_entries_from(int64_t row_begin) const {
  return kept_before_.back() - kept_before_[std::size_t(std::clamp<int64_t>(row_begin, 0, rows_))];
}

int64_t KeptKeys::visible_entries_from(int64_t row_begin) const {
  int64_t total = 0;
  for (int64_t r = std::max<int64_t>(0, row_begin); r < rows_; ++r) {
    const int64_t position = first_position_ + r;
    total += position - first_visible(position, model_window_) + 1;
  }
  return total;
}

int64_t KeptKeys::kept_entries() const { return kept_entries_from(0); }
int64_t KeptKeys::visible_entries() const { return visible_entries_from(0); }

double KeptKeys::density() const {
  const int64_t visible = visible_entries();
  return visible == 0 ? 0.0 : double(kept_entries()) / double(visible);
}

KeptKeysBuilder::KeptKeysBuilder(int64_t first_position, int64_t rows, int64_t model_window, int64_t block)
    : first_position_(first_position), rows_(rows), model_window_(model_window), block_(block) {
  if (rows < 0 || first_position < 0 || block < 1 || model_window < 0)
    throw Error(kWhere, "rows " + std::to_string(rows) + " from position " + std::to_string(first_position) +
                            ", block " + std::to_string(block) + ", model window " + std::to_string(model_window) +
                            ": rows and positions must be 0 or more, the block 1 or more");
  words_ = (block * block + 63) / 64;
  key_blocks_ = (first_position + rows + block - 1) / block;
  const int64_t query_blocks = (rows + block - 1) / block;
  slot_index_.assign(std::size_t(query_blocks * key_blocks_), -1);
  row_kept_.assign(std::size_t(rows), 0);
}

int32_t KeptKeysBuilder::slot(int64_t query_block, int64_t key_block) {
  int32_t& index = slot_index_[std::size_t(query_block * key_blocks_ + key_block)];
  if (index < 0) {
    index = int32_t(slot_full_.size());
    slot_full_.push_back(0);
    slot_bits_.resize(slot_bits_.size() + std::size_t(words_), 0);
  }
  return index;
}

void KeptKeysBuilder::keep(int64_t row, int64_t key_begin, int64_t key_end) {
  if (row < 0 || row >= rows_)
    throw Error(kWhere, "row " + std::to_string(row) + " is outside the " + std::to_string(rows_) + " rows of the call");
  const int64_t position = first_position_ + row;
  const int64_t lo = std::max(key_begin, first_visible(position, model_window_));
  const int64_t hi = std::min(key_end, position + 1);
  if (lo >= hi) return;
  row_kept_[std::size_t(row)] = 1;
  const int64_t qb = row / block_;
  const int64_t base_row = (row % block_) * block_;
  for (int64_t kb = lo / block_; kb * block_ < hi; ++kb) {
    const int32_t s = slot(qb, kb);
    if (slot_full_[std::size_t(s)]) continue;
    const int64_t k0 = kb * block_;
    const int64_t a = std::max(lo, k0) - k0 + base_row, b = std::min(hi, k0 + block_) - k0 + base_row;
    set_bits(slot_bits_.data() + int64_t(s) * words_, a, b);
  }
}

void KeptKeysBuilder::keep_block(int64_t query_block, int64_t key_block) {
  const int64_t query_blocks = (rows_ + block_ - 1) / block_;
  if (query_block < 0 || query_block >= query_blocks || key_block < 0 || key_block >= key_blocks_)
    throw Error(kWhere, "block (" + std::to_string(query_block) + ", " + std::to_string(key_block) +
                            ") is outside the call's " + std::to_string(query_blocks) + " x " +
                            std::to_string(key_blocks_) + " blocks");
  bool any = false;
  for (int64_t r = query_block * block_; r < std::min(rows_, (query_block + 1) * block_); ++r) {
    const auto [lo, hi] = visible_in_block(first_position_ + r, model_window_, key_block * block_, block_);
    if (lo < hi) row_kept_[std::size_t(r)] = 1, any = true;
  }
  if (any) slot_full_[std::size_t(slot(query_block, key_block))] = 1;
}

void KeptKeysBuilder::keep_row(int64_t row) { keep(row, 0, first_position_ + row + 1); }

KeptKeys KeptKeysBuilder::finish() {
  for (int64_t r = 0; r < rows_; ++r)
    if (!row_kept_[std::size_t(r)]) keep(r, first_position_ + r, first_position_ + r + 1);
  KeptKeys out;
  out.first_position_ = first_position_;
  out.rows_ = rows_;
  out.block_ = block_;
  out.model_window_ = model_window_;
  out.words_per_mask_ = words_;
  out.kept_before_.assign(std::size_t(rows_ + 1), 0);
  const int64_t query_blocks = (rows_ + block_ - 1) / block_;
  out.block_offsets_.assign(std::size_t(query_blocks + 1), 0);
  std::vector<int64_t> row_count(static_cast<std::size_t>(block_));
  for (int64_t qb = 0; qb < query_blocks; ++qb) {
    const int64_t r0 = qb * block_, r1 = std::min(rows_, r0 + block_);
    for (int64_t kb = 0; kb < key_blocks_; ++kb) {
      const int32_t index = slot_index_[std::size_t(qb * key_blocks_ + kb)];
      if (index < 0) continue;
      const bool full = slot_full_[std::size_t(index)] != 0;
      const uint64_t* bits = slot_bits_.data() + int64_t(index) * words_;
      // Each row's kept entries of the block; a mask that holds every visible entry is a
      // full block, one with no bits is dropped.
      bool every = true, none = true;
      for (int64_t r = r0; r < r1; ++r) {
        const auto [lo, hi] = visible_in_block(first_position_ + r, model_window_, kb * block_, block_);
        const int64_t base = (r - r0) * block_ - kb * block_;
        const int64_t count = full ? hi - lo : count_bits(bits, base + lo, base + hi);
        row_count[std::size_t(r - r0)] = count;
        every = every && count == hi - lo;
        none = none && count == 0;
      }
      if (!full && none) continue;
      for (int64_t r = r0; r < r1; ++r) out.kept_before_[std::size_t(r + 1)] += row_count[std::size_t(r - r0)];
      if (full || every) {
        out.entries_.push_back({kb, -1});
      } else {
        out.entries_.push_back({kb, out.partial_blocks()});
        out.masks_.insert(out.masks_.end(), bits, bits + words_);
      }
    }
    out.block_offsets_[std::size_t(qb + 1)] = int64_t(out.entries_.size());
  }
  for (int64_t r = 0; r < rows_; ++r) out.kept_before_[std::size_t(r + 1)] += out.kept_before_[std::size_t(r)];
  return out;
}

}  // namespace attnscope::kernels
