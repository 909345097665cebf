#include "analysis/capture/capture.h"

#include <algorithm>
#include <string>

#include "kernels/error.h"

namespace attnscope::capture {
namespace {

// The accumulators would fail on the first row (pool block) or record nonsense (negative
// windows); refuse such options before a run starts.
void check_options(const kernels::CaptureOptions& o) {
  const auto bad = [](const std::string& what, int64_t value, const std::string& rule) {
    throw Error("capture options", what + " is " + std::to_string(value) + "; it must be " + rule);
  };
  if (o.sink_tokens < 0) bad("sink_tokens", o.sink_tokens, "0 or more");
  if (o.local_window < 1) bad("local_window", o.local_window, "1 or more");
  if (o.pool_block < 1) bad("pool_block", o.pool_block, "1 or more");
  if (o.exact_limit < 0) bad("exact_limit", o.exact_limit, "0 or more");
}

}  // namespace

Capture::Capture(const CaptureRequest& request, const model::ModelSpec& spec) : request_(request) {
  check_options(request.options);
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
  if (layer < 0 || size_t(layer) >= by_layer_.size())
    throw Error("capture", "layer " + std::to_string(layer) + " is out of range: the capture was made for " +
                               std::to_string(by_layer_.size()) + " layers");
  auto& slot = by_layer_[size_t(layer)];
  return slot ? &*slot : nullptr;
}

void Capture::reserve(int64_t rows) {
  if (rows < 0) throw Error("capture", "cannot make room for " + std::to_string(rows) + " rows");
  require_complete();
  const kernels::CaptureOptions& o = request_.options;
  const auto blocks = size_t((rows + o.pool_block - 1) / o.pool_block);
  const int64_t exact = o.exact_probabilities ? std::min(rows, o.exact_limit) : 0;
  for (kernels::HeadAccumulator& acc : heads_) {
    acc.positions.reserve(size_t(rows));
    acc.top1.reserve(size_t(rows));
    acc.row_entropy.reserve(size_t(rows));
    acc.column_sums.reserve(size_t(rows));
    acc.diagonal_sums.reserve(size_t(rows));
    acc.pooled.sums.reserve(blocks);
    acc.pooled.rows_in_block.reserve(blocks);
    acc.exact.reserve(size_t(exact * (exact + 1) / 2));
  }
}

void Capture::finish() {
  for (auto& layer : by_layer_)
    if (layer) kernels::finish_capture(*layer);
}

bool Capture::complete() const {
  return std::none_of(by_layer_.begin(), by_layer_.end(), [](const auto& layer) { return layer && layer->held; });
}

void Capture::require_complete() const {
  for (std::size_t layer = 0; layer < by_layer_.size(); ++layer)
    if (by_layer_[layer] && by_layer_[layer]->held)
      throw Error("capture", "the statistics of layer " + std::to_string(layer) +
                                 " are not complete: the backend still holds part of them; call Capture::finish() "
                                 "after the run (generate_greedy and prompt_logits do) before reading them");
}

const std::vector<kernels::HeadAccumulator>& Capture::heads() const {
  require_complete();
  return heads_;
}

HeadSummary Capture::summary(const kernels::HeadAccumulator& acc) const {
  require_complete();
  return summarize_head(acc, request_.options);
}

std::vector<HeadSummary> Capture::summaries() const {
  require_complete();
  return summarize_heads(heads_, request_.options);
}

}  // namespace attnscope::capture
