#pragma once
// One head's exact (dense) attention over one call's rows, the reference every mask is
// built from and evaluated against. It holds views of the head's q rows and of the keys
// and values it sees, and computes on first use, in one pass over the keys (scores in
// float by BLAS, sums in double): each row's log-sum-exp, the dense output, the column
// and diagonal sums of the probabilities, and block masses per block size. Nothing of
// size rows x keys is kept except the optional per-row ranking of the probabilities
// (sorted_rows.h), which is built only under a memory bound (sorted_rows).
//
// Not thread-safe: one HeadAttention per thread (heads run in parallel, each with its own).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "kernels/attention_rules.h"

namespace attnscope::masks {

// Views of one head in one attention call (kernels/attention_rules.h).
using HeadInputs = kernels::HeadAttentionView;

class SortedRows;  // sorted_rows.h

class HeadAttention {
 public:
  // Throws attnscope::Error for a missing view or sizes out of range. All three views
  // null make a shape-only head (rows, positions, window): what families that read no
  // scores (streaming, window) need; anything that computes attention on it throws.
  explicit HeadAttention(const HeadInputs& inputs);
  ~HeadAttention();
  HeadAttention(const HeadAttention&) = delete;
  HeadAttention& operator=(const HeadAttention&) = delete;

  const HeadInputs& inputs() const { return in_; }
  int64_t rows() const { return in_.rows; }
  int64_t position(int64_t row) const { return in_.first_position + row; }
  int64_t first_visible(int64_t row) const;
  int64_t visible(int64_t row) const { return position(row) - first_visible(row) + 1; }
  int64_t visible_entries() const;

  const std::vector<double>& lse() const;            // [rows]: log sum_k exp(scale q.k)
  const std::vector<float>& output() const;          // [rows, head_dim]: dense output
  const std::vector<double>& column_sums() const;    // [keys]: sum over rows of p(row, key)
  const std::vector<double>& diagonal_sums() const;  // [keys]: by distance position - key
  // [query blocks * key blocks] exact attention mass of each block (rows of the call in
  // blocks of `block`, keys in blocks of `block` from key 0).
  const std::vector<double>& block_mass(int64_t block) const;

  // f(row, first_key, p, count): every row in order, p = the exact probabilities of its
  // visible keys [first_key, first_key + count). Recomputes the scores (one dense pass).
  void for_each_row(const std::function<void(int64_t, int64_t, const float*, int64_t)>& f) const;

  // The exact probabilities of one row's visible keys into `p` (resized); returns its
  // first visible key.
  int64_t row_probabilities(int64_t row, std::vector<float>& p) const;

  // The rows ranked by probability, or null when they would take more than `max_entries`
  // visible entries (then callers scan with for_each_row).
  const SortedRows* sorted_rows(int64_t max_entries = int64_t(1) << 23) const;

  // Frees the sorted rows (they are rebuilt on the next use).
  void release_sorted_rows() const;

  // S[r, j] = scale q_row . k_(key0 + j) for `count` rows from `row` and `keys` keys (float,
  // row pitch ld).
  void scores(int64_t row, int64_t count, int64_t key0, int64_t keys, float* S, int64_t ld) const;

 private:
  void compute_dense() const;
  void require_views() const;  // throws for a shape-only head

  HeadInputs in_;
  mutable bool dense_done_ = false;
  mutable std::vector<double> lse_;
  mutable std::vector<float> output_;
  mutable std::vector<double> column_sums_, diagonal_sums_;
  mutable std::map<int64_t, std::vector<double>> block_mass_;
  mutable std::unique_ptr<SortedRows> sorted_;
  mutable bool sorted_tried_ = false;
};

}  // namespace attnscope::masks
