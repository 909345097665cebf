// Row-wise masks over the exact attention: top-k, top-p (Twilight) and threshold
// (Top-Theta). Each row's keys are ranked by probability (ties: lower key first,
// sorted_rows.h): from the head's kept ranking when it fits in memory, else row by row
// from the scores. The kept keys go to the builder as runs of a per-row bitmap.
#include <algorithm>
#include <bit>
#include <functional>

#include "analysis/masks/mask_builders.h"
#include "analysis/masks/sorted_rows.h"

namespace attnscope::masks {
namespace {

// How many of a row's heaviest keys to keep.
using KeepCount = std::function<int64_t(int64_t row, const RankedRow& ranked)>;

kernels::KeptKeys keep_heaviest(const HeadAttention& head, const KeepCount& how_many) {
  const HeadInputs& in = head.inputs();
  kernels::KeptKeysBuilder builder(in.first_position, in.rows, in.model_window);
  std::vector<uint64_t> marks;  // bit j: key first_key + j of the row
  auto keep = [&](int64_t row, int64_t first_key, const RankedRow& ranked) {
    const int64_t n = std::clamp<int64_t>(how_many(row, ranked), 1, ranked.count());
    marks.assign(std::size_t((ranked.count() + 63) / 64), 0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t j = ranked.key(i) - first_key;
      marks[std::size_t(j >> 6)] |= uint64_t(1) << (j & 63);
    }
    for (std::size_t w = 0; w < marks.size(); ++w)
      for (uint64_t bits = marks[w]; bits != 0;) {
        const int begin = std::countr_zero(bits), end = begin + std::countr_one(bits >> begin);
        const int64_t key0 = first_key + int64_t(w) * 64;
        builder.keep(row, key0 + begin, key0 + end);
        bits = end == 64 ? 0 : bits & (~uint64_t(0) << end);
      }
  };
  if (const SortedRows* sorted = head.sorted_rows()) {
    for (int64_t r = 0; r < in.rows; ++r) keep(r, head.first_visible(r), sorted->row(r));
  } else {
    std::vector<uint64_t> entries, scratch;
    std::vector<double> sums;
    head.for_each_row([&](int64_t row, int64_t first_key, const float* p, int64_t count) {
      entries.resize(std::size_t(count));
      scratch.resize(std::size_t(count));
      sums.resize(std::size_t(count / RankedRow::kSumStride + 1));
      for (int64_t j = 0; j < count; ++j) entries[std::size_t(j)] = RankedRow::entry(p[j], int32_t(first_key + j));
      RankedRow::rank(entries.data(), count, scratch.data(), sums.data());
      keep(row, first_key, RankedRow(entries.data(), count, sums.data()));
    });
  }
  return builder.finish();
}

}  // namespace

kernels::KeptKeys build_topk(const HeadAttention& head, const TopKMask& mask, const std::vector<int64_t>* keys_per_row) {
  return keep_heaviest(head, [&](int64_t row, const RankedRow&) {
    return keys_per_row != nullptr ? (*keys_per_row)[std::size_t(row)] : mask.keys;
  });
}

kernels::KeptKeys build_topp(const HeadAttention& head, const TopPMask& mask) {
  // keys_for_mass gives every key when rounding leaves the row short of p.
  return keep_heaviest(head, [&](int64_t, const RankedRow& ranked) { return ranked.keys_for_mass(mask.mass); });
}

kernels::KeptKeys build_threshold(const HeadAttention& head, const ThresholdMask& mask) {
  // At least 1: keep_heaviest keeps the heaviest key of every row.
  return keep_heaviest(head, [&](int64_t, const RankedRow& ranked) { return ranked.keys_at_least(mask.probability); });
}

}  // namespace attnscope::masks
