#pragma once
// Per-head scalars derived from a head's accumulated rows (definitions: docs/metrics.md).
// Separate from Capture so that a capture loaded from a file summarises exactly as a
// live one does.
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/attention_capture.h"

namespace attnscope::capture {

// NaN where a statistic is undefined: sink mass with no row at position >= sink_tokens,
// local mass with no row at position >= local_window, everything with no rows.
struct HeadSummary {
  int layer = 0;
  int head = 0;
  int64_t rows = 0;
  double sink_mass = 0;          // mean mass on the first sink_tokens keys
  double local_mass = 0;         // mean mass on the last local_window keys
  double entropy = 0;            // mean row entropy, nats
  double top1_sink_fraction = 0; // share of rows whose maximum is a sink key
  double top1_mean_distance = 0; // mean q - argmax key, in tokens
  int64_t heaviest_key = -1;     // key receiving the most attention (lowest on ties); -1: no rows
  double heaviest_key_share = 0; // its column sum / (rows - key), the rows that can see it
};

// Assumes the rows are positions 0..rows-1 (a run from an empty KV cache), which is how
// "rows that can see key k" becomes rows - k.
HeadSummary summarize_head(const kernels::HeadAccumulator& head, const kernels::CaptureOptions& options);
std::vector<HeadSummary> summarize_heads(std::span<const kernels::HeadAccumulator> heads,
                                         const kernels::CaptureOptions& options);

}  // namespace attnscope::capture
