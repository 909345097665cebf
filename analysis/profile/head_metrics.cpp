#include "analysis/profile/head_metrics.h"

#include <cmath>
#include <vector>

namespace attnscope::profile {
namespace {

// ln(n) for n = 0..count-1: the same numbers for every head of a run, so each thread
// keeps them (a 32K-row head took more time for its logarithms than for its sinks).
const std::vector<double>& natural_logs(int64_t count) {
  thread_local std::vector<double> logs;
  for (auto n = int64_t(logs.size()); n < count; ++n) logs.push_back(std::log(double(n)));
  return logs;
}

}  // namespace

HeadMetrics measure_head(const kernels::HeadAccumulator& head, const kernels::CaptureOptions& capture_options,
                         std::span<const int32_t> tokens, const HeadMetricsOptions& options) {
  const AttentionGeometry geometry = check_head_rows(head, options.sliding_window, "head metrics");
  HeadMetrics m;
  m.layer = head.layer;
  m.head = head.head;
  m.rows = geometry.rows;
  if (head.sink_rows > 0) m.sink_mass = head.sink_mass_sum / double(head.sink_rows);
  if (head.local_rows > 0) m.local_mass = head.local_mass_sum / double(head.local_rows);
  if (geometry.rows == 0) return m;
  m.entropy = head.entropy_sum / double(geometry.rows);

  // ln(keys seen) is the entropy of a uniform row: the ratio is 0 for a one-hot row and 1
  // for a uniform one, whatever the row's length. Rows seeing one key have no spread.
  double normalized = 0;
  int64_t counted = 0;
  const std::vector<double>& logs = natural_logs(geometry.rows + 1);
  for (int64_t q = 0; q < geometry.rows; ++q) {
    const int64_t keys = geometry.keys(q);
    if (keys < 2) continue;
    normalized += double(head.row_entropy[size_t(q)]) / logs[size_t(keys)];
    ++counted;
  }
  if (counted > 0) m.entropy_normalized = normalized / double(counted);

  m.hidden_sinks = find_hidden_sinks(head, geometry, tokens, capture_options.local_window, options.hidden_sinks);
  m.pattern = classify_pattern(head, geometry, capture_options.sink_tokens, options.pattern);
  m.density = attention_density(head, geometry, options.density_targets);
  if (const auto span = recall_span(head, geometry, options.span)) m.span_90 = double(*span);
  return m;
}

std::vector<HeadMetrics> measure_heads(const capture::Capture& capture, std::span<const int32_t> tokens,
                                       const HeadMetricsOptions& options) {
  std::vector<HeadMetrics> out;
  out.reserve(capture.heads().size());
  for (const auto& head : capture.heads()) out.push_back(measure_head(head, capture.request().options, tokens, options));
  return out;
}

}  // namespace attnscope::profile
