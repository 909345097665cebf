// Rows ranked by probability: packed entries, an LSD radix sort, running sums.
#include "analysis/masks/sorted_rows.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "analysis/masks/head_attention.h"

namespace attnscope::masks {
namespace {

constexpr int kDigitBits = 11;  // three passes over the 32 probability bits
constexpr int kPasses = 3;
constexpr uint32_t kDigits = 1u << kDigitBits;

// Float bits as an unsigned number that grows with the float (-0 folded into 0 first).
uint32_t order_bits(float p) {
  const auto bits = std::bit_cast<uint32_t>(p + 0.0f);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

float from_order_bits(uint32_t order) {
  return std::bit_cast<float>((order & 0x80000000u) != 0 ? order & 0x7fffffffu : ~order);
}

float probability_of(uint64_t entry) { return from_order_bits(~uint32_t(entry >> 32)); }

}  // namespace

uint64_t RankedRow::entry(float p, int32_t key) {
  // Ascending entries: heavier first, then the lower key.
  return uint64_t(~order_bits(p)) << 32 | uint32_t(key);
}

void RankedRow::rank(uint64_t* entries, int64_t count, uint64_t* scratch, double* sums) {
  // The three digits' counts in one read, then one scatter per digit that varies.
  std::array<std::array<uint32_t, kDigits>, kPasses> start{};
  for (int64_t i = 0; i < count; ++i)
    for (int d = 0; d < kPasses; ++d) ++start[std::size_t(d)][(entries[i] >> (32 + d * kDigitBits)) & (kDigits - 1)];
  for (int d = 0; d < kPasses && count > 0; ++d) {
    const int shift = 32 + d * kDigitBits;
    std::array<uint32_t, kDigits>& at = start[std::size_t(d)];
    if (at[(entries[0] >> shift) & (kDigits - 1)] == uint32_t(count)) continue;  // one digit: in order
    uint32_t sum = 0;
    for (uint32_t& s : at) sum += std::exchange(s, sum);
    for (int64_t i = 0; i < count; ++i) scratch[at[(entries[i] >> shift) & (kDigits - 1)]++] = entries[i];
    std::memcpy(entries, scratch, std::size_t(count) * sizeof(uint64_t));
  }
  double sum = 0;
  sums[0] = 0;
  for (int64_t i = 0; i < count; ++i) {
    sum += double(probability_of(entries[i]));
    if ((i + 1) % kSumStride == 0) sums[(i + 1) / kSumStride] = sum;
  }
}

float RankedRow::probability(int64_t i) const { return probability_of(entries_[i]); }

int64_t RankedRow::keys_for_mass(double mass) const {
  // The first stored sum that reaches the mass; walk on from the stored sum before it.
  const double* end = sums_ + count_ / kSumStride + 1;
  const double* hit = std::lower_bound(sums_ + 1, end, mass);
  const int64_t from = int64_t(hit - sums_) - 1;
  const int64_t to = hit == end ? count_ : (from + 1) * kSumStride;
  double sum = sums_[from];
  for (int64_t j = from * kSumStride; j < to; ++j)
    if ((sum += double(probability(j))) >= mass) return j + 1;
  return count_;
}

int64_t RankedRow::keys_at_least(double p) const {
  // Probabilities do not increase along the ranking.
  return std::partition_point(entries_, entries_ + count_, [&](uint64_t e) { return double(probability_of(e)) >= p; }) -
         entries_;
}

SortedRows::SortedRows(const HeadAttention& head) {
  const int64_t rows = head.rows();
  offsets_.assign(std::size_t(rows + 1), 0);
  sum_offsets_.assign(std::size_t(rows + 1), 0);
  int64_t longest = 0;
  for (int64_t r = 0; r < rows; ++r) {
    offsets_[std::size_t(r + 1)] = offsets_[std::size_t(r)] + head.visible(r);
    sum_offsets_[std::size_t(r + 1)] = sum_offsets_[std::size_t(r)] + head.visible(r) / RankedRow::kSumStride + 1;
    longest = std::max(longest, head.visible(r));
  }
  entries_.resize(std::size_t(offsets_.back()));
  sums_.resize(std::size_t(sum_offsets_.back()));
  std::vector<uint64_t> scratch(static_cast<std::size_t>(longest));
  head.for_each_row([&](int64_t row, int64_t first_key, const float* p, int64_t count) {
    uint64_t* out = entries_.data() + offsets_[std::size_t(row)];
    for (int64_t j = 0; j < count; ++j) out[j] = RankedRow::entry(p[j], int32_t(first_key + j));
    RankedRow::rank(out, count, scratch.data(), sums_.data() + sum_offsets_[std::size_t(row)]);
  });
}

RankedRow SortedRows::row(int64_t r) const {
  const auto i = std::size_t(r);
  return RankedRow(entries_.data() + offsets_[i], offsets_[i + 1] - offsets_[i], sums_.data() + sum_offsets_[i]);
}

}  // namespace attnscope::masks
