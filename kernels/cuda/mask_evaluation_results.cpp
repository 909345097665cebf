// Per-head results of the GPU mask evaluation from the masked-recall kernel's sums and rows.
#include "kernels/cuda/mask_evaluation_results.h"

#include <algorithm>
#include <cmath>

#include "kernels/cuda/mask_metrics.h"

namespace attnscope::kernels::cuda {
namespace {

// Larger relative L2 first; ties: the lower row.
bool worse(const DeviceRowError& a, const DeviceRowError& b) {
  return a.output_rel_l2 > b.output_rel_l2 || (a.output_rel_l2 == b.output_rel_l2 && a.row < b.row);
}

}  // namespace

std::vector<DeviceHeadEvaluation> head_evaluations(std::span<const HeadKeptKeys> sets,
                                                   std::span<const int64_t> first_rows, int64_t n,
                                                   const double* sums, const float* row_recall,
                                                   const float* row_error, int worst_rows) {
  std::vector<DeviceHeadEvaluation> out(sets.size());
  for (std::size_t i = 0; i < sets.size(); ++i) {
    DeviceHeadEvaluation& e = out[i];
    const KeptKeys& set = *sets[i].kept;
    const double* sum = sums + i * kMaskSums;
    e.head = sets[i].head;
    e.first_row = first_rows[i];
    e.rows = n - e.first_row;
    e.kept_entries = set.kept_entries_from(e.first_row);
    e.visible_entries = set.visible_entries_from(e.first_row);
    e.density = e.visible_entries == 0 ? 0.0 : double(e.kept_entries) / double(e.visible_entries);
    if (e.rows > 0) {
      e.recall = sum[kRecallSum] / double(e.rows);
      e.min_recall = sum[kMinRecall];
      e.output_cosine = sum[kCosineSum] / double(e.rows);
      e.output_rel_l2 = sum[kFull2] > 0 ? std::sqrt(sum[kDiff2] / sum[kFull2]) : std::sqrt(sum[kDiff2]);
    }
    if (worst_rows <= 0 || e.rows == 0) continue;
    // The worst rows so far, worst first: a row enters only if it beats the last of them.
    const auto worst = std::size_t(worst_rows);
    std::vector<DeviceRowError> rows;
    rows.reserve(worst + 1);
    for (int64_t r = e.first_row; r < n; ++r) {
      const std::size_t at = i * std::size_t(n) + std::size_t(r);
      const DeviceRowError row{r, row_recall[at], row_error[at]};
      if (rows.size() == worst && !worse(row, rows.back())) continue;
      rows.insert(std::upper_bound(rows.begin(), rows.end(), row, worse), row);
      if (rows.size() > worst) rows.pop_back();
    }
    e.worst_rows = std::move(rows);
  }
  return out;
}

}  // namespace attnscope::kernels::cuda
