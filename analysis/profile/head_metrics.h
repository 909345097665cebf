#pragma once
// Everything the profile computes from one head's capture of one prompt, without
// knowing the prompt's task: sink and local mass, entropy, hidden sinks, the pattern
// class and the density at recall targets. Definitions: docs/metrics.md.
//
// Task metrics live beside it: retrieval_score.h (needle prompts),
// repetition_scores.h (repeated random tokens).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/profile/attention_density.h"
#include "analysis/profile/hidden_sinks.h"
#include "analysis/profile/pattern_class.h"
#include "analysis/profile/recall_span.h"
#include "kernels/attention_capture.h"

namespace attnscope::profile {

struct HeadMetricsOptions {
  int64_t sliding_window = 0;                           // the model's (ModelSpec::sliding_window)
  HiddenSinkOptions hidden_sinks;
  PatternOptions pattern;
  std::array<double, 3> density_targets{0.9, 0.95, 0.99};  // "density_90", "density_95", "density_99"
  RecallSpanOptions span;                                  // "span_90": MoA's sink, 90%
};

// One (layer, query head). nullopt where a metric is undefined for this capture.
struct HeadMetrics {
  int layer = 0;
  int head = 0;
  int64_t rows = 0;
  std::optional<double> sink_mass;           // rows past the sink tokens
  std::optional<double> local_mass;          // rows past the local window
  std::optional<double> entropy;             // nats, mean over rows
  std::optional<double> entropy_normalized;  // mean of H / ln(keys seen), rows seeing 2+ keys
  std::vector<HiddenSink> hidden_sinks;
  std::optional<PatternResult> pattern;      // nullopt for too few rows
  std::optional<AttentionDensity> density;   // nullopt without rows
  std::optional<double> span_90;             // tokens (sink + recent window); nullopt without rows
};

// attnscope::Error when the head's records are inconsistent (check_head_rows) or the
// options or tokens are bad. `options` are the capture's options.
HeadMetrics measure_head(const kernels::HeadAccumulator& head, const kernels::CaptureOptions& capture_options,
                         std::span<const int32_t> tokens, const HeadMetricsOptions& options);

// Every captured head, in the capture's order (layer-major).
std::vector<HeadMetrics> measure_heads(const capture::Capture& capture, std::span<const int32_t> tokens,
                                       const HeadMetricsOptions& options);

}  // namespace attnscope::profile
