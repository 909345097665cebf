#include "analysis/profile/capture_rows.h"

#include <algorithm>

#include "kernels/error.h"

namespace attnscope::profile {

int64_t AttentionGeometry::column_length(int64_t k) const {
  if (k < 0 || k >= rows) return 0;
  return (window > 0 ? std::min(rows, k + window) : rows) - k;
}

int64_t AttentionGeometry::diagonal_length(int64_t d) const {
  if (d < 0 || d >= rows || (window > 0 && d >= window)) return 0;
  return rows - d;
}

int64_t AttentionGeometry::entries() const {
  if (window <= 0 || window >= rows) return rows * (rows + 1) / 2;
  // Rows 0..window-1 see q + 1 keys, the others window keys.
  return window * (window + 1) / 2 + (rows - window) * window;
}

int64_t AttentionGeometry::windowed_block_entries(int64_t block, int64_t i, int64_t j) const {
  if (j > i || i < 0 || j < 0) return 0;
  const int64_t q_begin = i * block, q_end = std::min(rows, (i + 1) * block);
  const int64_t k_begin = j * block, k_last = (j + 1) * block - 1;
  if (q_begin >= q_end || k_last < first_key(q_begin)) return 0;  // every key of block j is behind every row's window
  int64_t n = 0;
  for (int64_t q = q_begin; q < q_end; ++q) {
    const int64_t lo = std::max(k_begin, first_key(q)), hi = std::min(k_last, q);
    if (hi >= lo) n += hi - lo + 1;
  }
  return n;
}

std::string head_name(const kernels::HeadAccumulator& head) {
  return "layer " + std::to_string(head.layer) + " head " + std::to_string(head.head);
}

AttentionGeometry check_head_rows(const kernels::HeadAccumulator& head, int64_t sliding_window,
                                  const std::string& where) {
  const auto fail = [&](const std::string& problem) { throw Error(where, head_name(head) + ": " + problem); };
  const int64_t rows = head.rows;
  if (rows < 0) fail("the row count is negative");
  if (sliding_window < 0) fail("sliding window " + std::to_string(sliding_window) + " is negative");
  const auto check_size = [&](size_t size, int64_t want, const std::string& what) {
    if (int64_t(size) != want)
      fail(what + " has " + std::to_string(size) + " entries for " + std::to_string(rows) + " rows");
  };
  check_size(head.positions.size(), rows, "the row position list");
  check_size(head.top1.size(), rows, "the top-1 key list");
  check_size(head.row_entropy.size(), rows, "the row entropy list");
  for (int64_t r = 0; r < rows; ++r)
    if (head.positions[size_t(r)] != r)
      fail("row " + std::to_string(r) + " is at position " + std::to_string(head.positions[size_t(r)]) +
           "; the profile needs rows 0, 1, 2, ... (a run from an empty KV cache)");
  check_size(head.column_sums.size(), rows, "the column sums");
  if (int64_t(head.diagonal_sums.size()) > rows)
    fail("the diagonal sums have " + std::to_string(head.diagonal_sums.size()) + " distances for " +
         std::to_string(rows) + " rows");
  const int64_t block = head.pooled.block;
  if (rows > 0) {
    if (block < 1) fail("the pooled map's block " + std::to_string(block) + " is not positive");
    const int64_t blocks = (rows + block - 1) / block;
    check_size(head.pooled.sums.size(), blocks, "the pooled map");
    check_size(head.pooled.rows_in_block.size(), blocks, "the pooled map's row counts");
    for (int64_t i = 0; i < blocks; ++i) {
      if (int64_t(head.pooled.sums[size_t(i)].size()) != i + 1)
        fail("pooled row " + std::to_string(i) + " has " + std::to_string(head.pooled.sums[size_t(i)].size()) +
             " key blocks instead of " + std::to_string(i + 1));
      const int64_t want = std::min(rows, (i + 1) * block) - i * block;
      if (head.pooled.rows_in_block[size_t(i)] != want)
        fail("pooled row " + std::to_string(i) + " counts " + std::to_string(head.pooled.rows_in_block[size_t(i)]) +
             " rows instead of " + std::to_string(want));
    }
  }
  if (head.exact_rows < 0 || head.exact_rows > rows)
    fail(std::to_string(head.exact_rows) + " exact rows for " + std::to_string(rows) + " rows");
  if (int64_t(head.exact.size()) < head.exact_rows * (head.exact_rows + 1) / 2)
    fail("the exact probabilities hold " + std::to_string(head.exact.size()) + " values for " +
         std::to_string(head.exact_rows) + " rows");
  return AttentionGeometry{rows, sliding_window};
}

std::span<const float> exact_row(const kernels::HeadAccumulator& head, int64_t q) {
  if (q < 0 || q >= head.exact_rows)
    throw Error("exact probabilities", head_name(head) + ": row " + std::to_string(q) + " is not kept (" +
                                           std::to_string(head.exact_rows) + " exact rows)");
  return {head.exact.data() + q * (q + 1) / 2, size_t(q + 1)};
}

}  // namespace attnscope::profile
