#include "analysis/capture/capture.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::capture {

Capture::Capture(const CaptureRequest& request, const model::ModelSpec& spec) : request_(request) {
  request_.layers = resolve_indices(request.layers, spec.num_layers, "--layers");
  request_.heads = resolve_indices(request.heads, spec.num_heads, "--heads");

  heads_.reserve(request_.layers.size() * request_.heads.size());
  for (int layer : request_.layers)
    for (int head : request_.heads) {
      kernels::HeadAccumulator acc;
      acc.layer = layer;
      acc.head = head;
      acc.pooled.block = request_.options.pool_block;
      heads_.push_back(std::move(acc));
    }
  // Pointers into heads_ stay valid: the vector is never resized after this.
  by_layer_.resize(size_t(spec.num_layers));
  size_t index = 0;
  for (int layer : request_.layers) {
    kernels::AttentionCapture per_layer;
    per_layer.options = request_.options;
    per_layer.heads.assign(size_t(spec.num_heads), nullptr);
    for (int head : request_.heads) per_layer.heads[size_t(head)] = &heads_[index++];
    by_layer_[size_t(layer)] = std::move(per_layer);
  }
}

kernels::AttentionCapture* Capture::for_layer(int layer) {
  auto& slot = by_layer_.at(size_t(layer));
  return slot ? &*slot : nullptr;
}

HeadSummary Capture::summary(const kernels::HeadAccumulator& acc) const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  HeadSummary s;
  s.layer = acc.layer;
  s.head = acc.head;
  s.rows = acc.rows;
  s.sink_mass = acc.sink_rows ? acc.sink_mass_sum / double(acc.sink_rows) : nan;
  s.local_mass = acc.local_rows ? acc.local_mass_sum / double(acc.local_rows) : nan;
  s.entropy = acc.rows ? acc.entropy_sum / double(acc.rows) : nan;
  int64_t sink_top1 = 0;
  double distance = 0;
  for (size_t r = 0; r < acc.top1.size(); ++r) {
    sink_top1 += acc.top1[r] < request_.options.sink_tokens;
    distance += double(acc.positions[r] - acc.top1[r]);
  }
  s.top1_sink_fraction = acc.rows ? double(sink_top1) / double(acc.rows) : nan;
  s.top1_mean_distance = acc.rows ? distance / double(acc.rows) : nan;
  if (!acc.column_sums.empty()) {
    const auto heaviest = std::max_element(acc.column_sums.begin(), acc.column_sums.end());
    s.heaviest_key = heaviest - acc.column_sums.begin();
    // Rows are positions 0..rows-1, so rows - k of them can see key k.
    s.heaviest_key_share = *heaviest / double(acc.rows - s.heaviest_key);
  }
  return s;
}

std::vector<HeadSummary> Capture::summaries() const {
  std::vector<HeadSummary> out;
  out.reserve(heads_.size());
  for (const auto& acc : heads_) out.push_back(summary(acc));
  return out;
}

}  // namespace attnscope::capture
