#pragma once
// The MoA span a head needs: the fewest tokens S = sink + w such that a streaming mask of
// the first `sink` keys and the w most recent keys (distances 0..w-1) provably keeps a
// share `target` of the head's attention (docs/metrics.md, span_90). "Provably": the
// lower bound of line_mask_recall (mask_recall.h) from the column and diagonal sums,
// since the sums do not say how much attention lies where the sink columns cross the
// recent diagonals. MoA's sink is 64 tokens, so span_90 uses 64.
#include <cstdint>
#include <optional>

#include "analysis/profile/capture_rows.h"
#include "kernels/attention_capture.h"

namespace attnscope::profile {

struct RecallSpanOptions {
  int64_t sink_tokens = 64;  // MoA's static sink
  double target = 0.9;
};

// sink + w, at most the row count (a span of every row keeps everything); nullopt for a
// head without rows. w is found by bisection: the lower bound grows with w, so the
// result keeps >= target and one token less does not prove it. attnscope::Error for a
// target outside (0, 1] or a negative sink.
std::optional<int64_t> recall_span(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                   const RecallSpanOptions& options = {});

}  // namespace attnscope::profile
