#pragma once
// Per row of one head, its visible keys ranked by decreasing exact probability (ties: lower
// key first): what top-k, top-p and threshold select from.
//
// A row's keys are 64-bit entries that sort in rank order (the probability's order bits
// inverted, then the key), ranked by an LSD radix sort on the probability bits: stable, so
// entries made in key order keep equal probabilities in key order. That is several times
// faster than a comparison sort of the row (the first top-k of a head sorted every row by
// comparison and was the mask lab's slowest step). Running sums of the probabilities (double,
// heaviest first, the order a sequential walk adds them in) are kept every kSumStride keys,
// so a top-p count is a binary search and a walk of at most kSumStride keys that gives the
// sequential walk's answer exactly, and a threshold count is a binary search.
#include <cstdint>
#include <vector>

namespace attnscope::masks {

class HeadAttention;

// One ranked row over storage it does not own (SortedRows', or a scan's buffers).
class RankedRow {
 public:
  static constexpr int64_t kSumStride = 16;

  // The entry of key `key` with probability `p` (-0 counts as 0).
  static uint64_t entry(float p, int32_t key);
  // Ranks `count` entries made in ascending key order, with `scratch` (count entries), and
  // writes their running sums into `sums` (count / kSumStride + 1 doubles).
  static void rank(uint64_t* entries, int64_t count, uint64_t* scratch, double* sums);

  RankedRow(const uint64_t* entries, int64_t count, const double* sums)
      : entries_(entries), count_(count), sums_(sums) {}

  int64_t count() const { return count_; }
  // The i-th heaviest key and its probability.
  int32_t key(int64_t i) const { return int32_t(entries_[i] & 0xffffffffu); }
  float probability(int64_t i) const;

  // The fewest heaviest keys whose probabilities sum (in double, heaviest first) to at
  // least `mass`; count() when the whole row falls short (rounding).
  int64_t keys_for_mass(double mass) const;
  // How many keys have a probability of at least `p`.
  int64_t keys_at_least(double p) const;

 private:
  const uint64_t* entries_;
  int64_t count_;
  const double* sums_;
};

// Every row of one head ranked (its exact probabilities in one pass of for_each_row):
// 8 bytes a visible entry, plus a double every kSumStride.
class SortedRows {
 public:
  explicit SortedRows(const HeadAttention& head);
  int64_t rows() const { return int64_t(offsets_.size()) - 1; }
  RankedRow row(int64_t r) const;

 private:
  std::vector<int64_t> offsets_;      // [rows + 1] into entries_
  std::vector<int64_t> sum_offsets_;  // [rows + 1] into sums_
  std::vector<uint64_t> entries_;
  std::vector<double> sums_;
};

}  // namespace attnscope::masks
