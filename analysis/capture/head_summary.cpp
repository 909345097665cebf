#include "analysis/capture/head_summary.h"

#include <algorithm>
#include <limits>

namespace attnscope::capture {

HeadSummary summarize_head(const kernels::HeadAccumulator& acc, const kernels::CaptureOptions& options) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  HeadSummary s;
  s.layer = acc.layer;
  s.head = acc.head;
  s.rows = acc.rows;
  s.sink_mass = acc.sink_rows > 0 ? acc.sink_mass_sum / double(acc.sink_rows) : nan;
  s.local_mass = acc.local_rows > 0 ? acc.local_mass_sum / double(acc.local_rows) : nan;
  s.entropy = acc.rows > 0 ? acc.entropy_sum / double(acc.rows) : nan;
  int64_t sink_top1 = 0;
  double distance = 0;
  const size_t rows = std::min(acc.top1.size(), acc.positions.size());
  for (size_t r = 0; r < rows; ++r) {
    sink_top1 += acc.top1[r] < options.sink_tokens;
    distance += double(acc.positions[r] - acc.top1[r]);
  }
  s.top1_sink_fraction = rows > 0 ? double(sink_top1) / double(rows) : nan;
  s.top1_mean_distance = rows > 0 ? distance / double(rows) : nan;
  s.heaviest_key_share = nan;
  if (!acc.column_sums.empty() && acc.rows > 0) {
    // max_element keeps the first maximum: the lowest key on ties.
    const auto heaviest = std::max_element(acc.column_sums.begin(), acc.column_sums.end());
    s.heaviest_key = heaviest - acc.column_sums.begin();
    const int64_t seeing = acc.rows - s.heaviest_key;
    if (seeing > 0) s.heaviest_key_share = *heaviest / double(seeing);
  }
  return s;
}

std::vector<HeadSummary> summarize_heads(std::span<const kernels::HeadAccumulator> heads,
                                         const kernels::CaptureOptions& options) {
  std::vector<HeadSummary> out;
  out.reserve(heads.size());
  for (const auto& acc : heads) out.push_back(summarize_head(acc, options));
  return out;
}

}  // namespace attnscope::capture
