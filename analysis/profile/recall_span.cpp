#include "analysis/profile/recall_span.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "analysis/profile/mask_recall.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

// line_mask_recall's lower bound for the sink columns [0, sinks) and the diagonals
// [0, w), for any w, on a head without exact rows: one pass over the diagonals, then
// O(sinks) a window instead of a pass over the rows. The same sums in the same order as
// line_mask_recall (with nothing exact: no crossing mass is known), so the same values,
// bit for bit; the bisection asks for about log2(rows) windows.
class StreamingLowerBound {
 public:
  StreamingLowerBound(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry, int64_t sinks)
      : rows_(geometry.rows), diagonals_mass_(size_t(rows_) + 1, 0.0), diagonals_bound_(size_t(rows_) + 1, 0.0) {
    const double exact_mass = 0;
    for (int64_t k = 0; k < sinks; ++k) {
      columns_mass_ += head.column_sums[size_t(k)];
      column_rest_.push_back(std::max(0.0, head.column_sums[size_t(k)] - exact_mass));
      column_length_.push_back(geometry.column_length(k));
    }
    for (int64_t d = 0; d < rows_; ++d) {
      const double sum = d < int64_t(head.diagonal_sums.size()) ? head.diagonal_sums[size_t(d)] : 0.0;
      const int64_t crossing = std::min(sinks, rows_ - d);  // sink columns k with k + d < rows
      diagonals_mass_[size_t(d) + 1] = diagonals_mass_[size_t(d)] + sum;
      diagonals_bound_[size_t(d) + 1] =
          diagonals_bound_[size_t(d)] + std::min(std::max(0.0, sum - exact_mass), double(crossing));
    }
  }

  double recall_low(int64_t window) const {
    double columns_bound = 0;
    for (size_t k = 0; k < column_rest_.size(); ++k)
      columns_bound += std::min(column_rest_[k], double(std::min(window, column_length_[k])));
    const double crossings_exact = 0;
    const double diagonals_mass = diagonals_mass_[size_t(window)];
    const double high = columns_mass_ + diagonals_mass - crossings_exact;
    const double low =
        std::max({high - std::min(columns_bound, diagonals_bound_[size_t(window)]), columns_mass_, diagonals_mass});
    return std::clamp(std::min(low, high) / double(rows_), 0.0, 1.0);
  }

 private:
  int64_t rows_;
  double columns_mass_ = 0;
  std::vector<double> column_rest_;
  std::vector<int64_t> column_length_;
  std::vector<double> diagonals_mass_, diagonals_bound_;  // [w]: over diagonals [0, w)
};

}  // namespace

std::optional<int64_t> recall_span(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                   const RecallSpanOptions& options) {
  if (!(options.target > 0 && options.target <= 1))
    throw Error("recall span", "the target " + std::to_string(options.target) + " is outside (0, 1]");
  if (options.sink_tokens < 0) throw Error("recall span", "the sink is negative");
  const int64_t rows = geometry.rows;
  if (rows == 0) return std::nullopt;
  const int64_t sinks = std::min(options.sink_tokens, rows);
  std::optional<StreamingLowerBound> streaming;
  if (head.exact_rows == 0) streaming.emplace(head, geometry, sinks);
  LineMask mask;
  mask.columns.resize(size_t(sinks));
  std::iota(mask.columns.begin(), mask.columns.end(), int64_t(0));
  const auto proves = [&](int64_t window) {
    if (streaming) return streaming->recall_low(window) >= options.target;
    mask.diagonals.resize(size_t(window));
    std::iota(mask.diagonals.begin(), mask.diagonals.end(), int64_t(0));
    return line_mask_recall(head, geometry, mask).recall.low >= options.target;
  };
  // Every diagonal (w = rows) keeps every entry; rounding may still leave the bound a hair
  // under a target of 1, so the search is over [0, rows] with rows as the answer of last resort.
  int64_t lo = 0, hi = rows;
  if (proves(0)) return std::min(options.sink_tokens, rows);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (proves(mid)) hi = mid;
    else lo = mid;
  }
  return std::min(options.sink_tokens + hi, rows);
}

}  // namespace attnscope::profile
