#include "analysis/profile/recall_span.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "analysis/profile/mask_recall.h"
#include "kernels/error.h"

namespace attnscope::profile {

std::optional<int64_t> recall_span(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                   const RecallSpanOptions& options) {
  if (!(options.target > 0 && options.target <= 1))
    throw Error("recall span", "the target " + std::to_string(options.target) + " is outside (0, 1]");
  if (options.sink_tokens < 0) throw Error("recall span", "the sink is negative");
  const int64_t rows = geometry.rows;
  if (rows == 0) return std::nullopt;
  LineMask mask;
  mask.columns.resize(size_t(std::min(options.sink_tokens, rows)));
  std::iota(mask.columns.begin(), mask.columns.end(), int64_t(0));
  const auto proves = [&](int64_t window) {
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
