#pragma once
// The attention statistics recorded during one run, for the requested layers and heads.
#include <optional>
#include <vector>

#include "analysis/capture/capture_request.h"
#include "analysis/capture/head_summary.h"
#include "analysis/model/model_spec.h"
#include "kernels/attention_capture.h"

namespace attnscope::capture {

class Capture {
 public:
  // Validates the request against the model (layer and head indices) and its options;
  // throws attnscope::Error naming what is wrong.
  Capture(const CaptureRequest& request, const model::ModelSpec& spec);

  // Not copyable or movable: the per-layer views point into heads_.
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // The request with its layer and head lists resolved (sorted, unique, never empty).
  const CaptureRequest& request() const { return request_; }
  // The per-layer view handed to the backend: one slot per query head of the model,
  // null where the head is not captured. nullptr when the layer is not captured;
  // attnscope::Error for a layer the model does not have.
  kernels::AttentionCapture* for_layer(int layer);

  // Makes room for `rows` query rows in every accumulator (per-row records, per-key sums,
  // pooled rows, exact rows within the options' limit) before a run, so that a long run's
  // records never move while a backend fills them: at 32K rows and 1024 heads, growing by
  // doubling copied and mapped again hundreds of megabytes on the backend's merge threads.
  // attnscope::Error for a negative count or while a backend holds statistics.
  void reserve(int64_t rows);

  // Completes the accumulators: a backend may still hold part of the statistics after a
  // run (kernels::AttentionCapture::held; the CUDA backend keeps per-key sums on the
  // device and merges rows on threads). generate_greedy and prompt_logits call it at
  // their end; code that runs Transformer::forward itself calls it before reading.
  // Throws attnscope::Error for a failure the backend met while holding them.
  void finish();
  // True when no backend holds any of the statistics (always, on the CPU backend).
  bool complete() const;

  // Layer-major, then head, in the order of request().layers and request().heads.
  // These three throw attnscope::Error while !complete(): the accumulators would lag.
  const std::vector<kernels::HeadAccumulator>& heads() const;
  HeadSummary summary(const kernels::HeadAccumulator& head) const;
  std::vector<HeadSummary> summaries() const;

 private:
  void require_complete() const;

  CaptureRequest request_;
  // Before by_layer_: held statistics (in by_layer_) go first and may still write here.
  std::vector<kernels::HeadAccumulator> heads_;
  std::vector<std::optional<kernels::AttentionCapture>> by_layer_;
};

}  // namespace attnscope::capture
