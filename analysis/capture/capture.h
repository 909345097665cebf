#pragma once
// The attention statistics recorded during one run, for the requested layers and heads.
#include <memory>
#include <optional>
#include <vector>

#include "analysis/capture/capture_request.h"
#include "analysis/model/model_spec.h"
#include "kernels/attention_capture.h"

namespace attnscope::capture {

// Per-head scalars derived from the accumulated rows (NaN where undefined, e.g. local
// mass when no row is past the window).
struct HeadSummary {
  int layer = 0;
  int head = 0;
  int64_t rows = 0;
  double sink_mass = 0;          // mean mass on the first sink_tokens keys
  double local_mass = 0;         // mean mass on the last local_window keys
  double entropy = 0;            // mean row entropy, nats
  double top1_sink_fraction = 0; // share of rows whose maximum is a sink key
  double top1_mean_distance = 0; // mean q - argmax key
  int64_t heaviest_key = 0;      // key receiving the most attention (column sums)
  double heaviest_key_share = 0; // its mean probability over the rows that see it
};

class Capture {
 public:
  // Validates the request against the model; throws attnscope::Error on bad indices.
  Capture(const CaptureRequest& request, const model::ModelSpec& spec);

  const CaptureRequest& request() const { return request_; }
  // The per-layer view handed to the backend; nullptr when the layer is not captured.
  kernels::AttentionCapture* for_layer(int layer);

  const std::vector<kernels::HeadAccumulator>& heads() const { return heads_; }
  HeadSummary summary(const kernels::HeadAccumulator& head) const;
  std::vector<HeadSummary> summaries() const;

 private:
  CaptureRequest request_;
  std::vector<kernels::HeadAccumulator> heads_;              // layer-major, then head
  std::vector<std::optional<kernels::AttentionCapture>> by_layer_;
};

}  // namespace attnscope::capture
