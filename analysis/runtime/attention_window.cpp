#include "analysis/runtime/attention_window.h"

#include <algorithm>
#include <string>

#include "kernels/error.h"

namespace attnscope::runtime {
namespace {

std::string describe(const AttentionWindow& w) {
  return "window rows [" + std::to_string(w.query_begin) + ", " + std::to_string(w.query_end) + ") keys [" +
         std::to_string(w.key_begin) + ", " + std::to_string(w.key_end) + ")";
}

int64_t last_row(std::span<const AttentionWindow> windows) {
  int64_t end = 0;
  for (const auto& w : windows) end = std::max(end, w.query_end);
  return end;
}

}  // namespace

uint64_t recompute_bytes(std::span<const AttentionWindow> windows) {
  const uint64_t rows = uint64_t(last_row(windows));
  return rows * (rows + 1) / 2 * sizeof(float);
}

std::optional<std::vector<WindowProbabilities>> recompute_windows(Transformer& model, std::span<const int32_t> tokens,
                                                                  const WindowRequest& request) {
  const int64_t n = int64_t(tokens.size());
  for (const auto& w : request.windows) {
    if (w.query_begin < 0 || w.query_end <= w.query_begin || w.key_begin < 0 || w.key_end <= w.key_begin)
      throw Error("attention " + describe(w), "is empty");
    if (w.query_end > n || w.key_end > n)
      throw Error("attention " + describe(w), "reaches past the run's " + std::to_string(n) + " tokens");
  }
  const int64_t rows = last_row(request.windows);
  if (rows > model.max_context())
    throw Error("attention windows", "need " + std::to_string(rows) + " tokens; the model's KV cache holds " +
                                         std::to_string(model.max_context()));
  if (request.prefill_chunk <= 0) throw Error("attention windows", "prefill chunk must be positive");

  capture::CaptureRequest capture_request;
  capture_request.layers = {request.layer};
  capture_request.heads = {request.head};
  capture_request.options = request.options;
  capture_request.options.exact_probabilities = true;
  capture_request.options.exact_limit = rows;
  // One pooled block for the whole run: the pooled map is not wanted here.
  capture_request.options.pool_block = std::max<int64_t>(rows, 1);
  capture::Capture capture(capture_request, model.spec());  // validates layer and head

  model.reset();
  for (int64_t begin = 0; begin < rows; begin += request.prefill_chunk) {
    if (request.cancel != nullptr && request.cancel->load()) {
      capture.finish();
      return std::nullopt;
    }
    const int64_t end = std::min(rows, begin + request.prefill_chunk);
    model.forward(tokens.subspan(size_t(begin), size_t(end - begin)), &capture, Logits::None);
  }
  capture.finish();

  const kernels::HeadAccumulator& head = capture.heads().front();
  std::vector<WindowProbabilities> out;
  out.reserve(request.windows.size());
  for (const auto& w : request.windows) {
    WindowProbabilities result{w, {}};
    const int64_t width = w.key_end - w.key_begin;
    result.values.assign(size_t((w.query_end - w.query_begin) * width), 0.0f);
    for (int64_t q = w.query_begin; q < w.query_end; ++q) {
      const int64_t last = std::min(w.key_end, q + 1);
      const size_t row = size_t(q * (q + 1) / 2);
      float* to = result.values.data() + (q - w.query_begin) * width;
      for (int64_t k = w.key_begin; k < last; ++k) to[k - w.key_begin] = head.exact[row + size_t(k)];
    }
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace attnscope::runtime
