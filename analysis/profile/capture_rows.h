#pragma once
// How the profile reads a head's accumulated rows: the checks every metric relies on
// (the rows are positions 0..rows-1, a run from an empty KV cache, as Capture records
// it) and which keys each row sees, with or without a sliding window.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "kernels/attention_capture.h"

namespace attnscope::profile {

// The visible part of the causal matrix of `rows` query rows at positions 0..rows-1: row
// q sees keys (q - window, q], or every key up to q when window is 0.
struct AttentionGeometry {
  int64_t rows = 0;
  int64_t window = 0;

  int64_t first_key(int64_t q) const { return window > 0 && q >= window ? q - window + 1 : 0; }
  int64_t keys(int64_t q) const { return q - first_key(q) + 1; }
  // Rows that see key k (k < rows).
  int64_t column_length(int64_t k) const;
  // Rows that have a key at distance d = q - k; 0 past the window or the rows.
  int64_t diagonal_length(int64_t d) const;
  // Whether row q sees key k.
  bool visible(int64_t q, int64_t k) const { return k <= q && k >= first_key(q) && q < rows; }
  // Visible (row, key) pairs in all.
  int64_t entries() const;
  // Visible pairs with the row in query block i and the key in key block j (blocks of
  // `block` tokens, as the pooled map cuts them). Inline without a window: the metrics
  // ask for every block of a head (131K at 32K tokens) several times.
  int64_t block_entries(int64_t block, int64_t i, int64_t j) const {
    if (window > 0) return windowed_block_entries(block, i, j);
    if (j > i || i < 0 || j < 0) return 0;
    const int64_t q_begin = i * block, q_end = std::min(rows, (i + 1) * block);
    if (q_begin >= q_end) return 0;
    if (j < i) return (q_end - q_begin) * block;
    const int64_t m = q_end - q_begin;  // diagonal block: row q_begin + r sees r + 1 of its keys
    return m * (m + 1) / 2;
  }

 private:
  int64_t windowed_block_entries(int64_t block, int64_t i, int64_t j) const;
};

// "layer 3 head 5": how errors name a head.
std::string head_name(const kernels::HeadAccumulator& head);

// Checks that `head` holds rows 0..rows-1 in order with all the per-row and per-key
// records of kernels/attention_capture.h, and returns their geometry; attnscope::Error
// naming `where` and the head when a record disagrees (a capture that did not start
// from an empty cache, or a damaged file).
AttentionGeometry check_head_rows(const kernels::HeadAccumulator& head, int64_t sliding_window,
                                  const std::string& where);

// The exact probabilities of row q (q < head.exact_rows): keys 0..q.
std::span<const float> exact_row(const kernels::HeadAccumulator& head, int64_t q);

}  // namespace attnscope::profile
