#include "analysis/export/retrieval_head_scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/export/format_text.h"
#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

std::string key_text(int layer, int head) { return std::to_string(layer) + "-" + std::to_string(head); }

void check_scores(const RetrievalHeadScores& scores, const ModelShape& shape, const std::string& where) {
  check_dimension(where, scores.layers, "layers", shape.layers, "layers", shape);
  check_dimension(where, scores.heads, "heads in a layer", shape.heads, "query heads", shape);
  check_dimension(where, int64_t(scores.tests.size()), "head lists", int64_t(shape.layers) * shape.heads,
                  "layers x query heads", shape);
  for (int layer = 0; layer < scores.layers; ++layer)
    for (int h = 0; h < scores.heads; ++h)
      for (double v : scores.at(layer, h))
        if (!std::isfinite(v) || v < 0)
          throw Error(where, "\"" + key_text(layer, h) + "\" has the score " + std::to_string(v) +
                                 "; scores are finite and not negative");
}

}  // namespace

double RetrievalHeadScores::mean(int layer, int head) const {
  const auto& list = at(layer, head);
  if (list.empty()) return 0;
  const double n = double(list.size());
  const double sum = std::accumulate(list.begin(), list.end(), 0.0);
  if (std::isfinite(sum)) return sum / n;
  // Finite scores whose sum overflows: the mean is still finite, summed as v / n.
  return std::accumulate(list.begin(), list.end(), 0.0, [n](double a, double v) { return a + v / n; });
}

std::string retrieval_head_text(const RetrievalHeadScores& scores, const ModelShape& shape) {
  check_scores(scores, shape, "Retrieval_Head scores");
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (int layer = 0; layer < scores.layers; ++layer)
    for (int h = 0; h < scores.heads; ++h) doc[key_text(layer, h)] = scores.at(layer, h);
  return python_json(doc);
}

RetrievalHeadScores parse_retrieval_head(std::string_view text, const ModelShape& shape, const std::string& file) {
  const size_t line_break = text.find('\n');
  if (line_break != std::string_view::npos &&
      text.find_first_not_of(" \t\r\n", line_break) != std::string_view::npos)
    throw Error(file, "has more than one line: Retrieval_Head and HeadKV read only the first line, so the whole "
                      "JSON object must be on it");
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_object()) throw Error(file, "must hold one JSON object of \"layer-head\" keys, not " + io::json_kind(doc));
  RetrievalHeadScores scores;
  scores.layers = shape.layers;
  scores.heads = shape.heads;
  scores.tests.resize(size_t(shape.layers) * size_t(shape.heads));
  std::vector<bool> seen(scores.tests.size(), false);
  for (const auto& [key, value] : doc.items()) {
    const size_t dash = key.find('-');
    const auto layer = dash == std::string::npos ? std::nullopt : parse_index(std::string_view(key).substr(0, dash), shape.layers);
    const auto head = dash == std::string::npos ? std::nullopt : parse_index(std::string_view(key).substr(dash + 1), shape.heads);
    if (!layer || !head)
      throw Error(file, "the key \"" + key.substr(0, 40) + "\" is not \"layer-head\" of a layer below " +
                            std::to_string(shape.layers) + " and a query head below " + std::to_string(shape.heads) +
                            " (" + shape.describe() + ")");
    const std::string where = "\"" + key + "\"";
    const nlohmann::json& list = json_list(value, file, where);
    const size_t i = size_t(*layer) * size_t(shape.heads) + size_t(*head);
    seen[i] = true;
    for (size_t t = 0; t < list.size(); ++t) {
      const double v = json_number(list[t], file, where + "[" + std::to_string(t) + "]");
      if (v < 0) throw Error(file, where + "[" + std::to_string(t) + "] is negative; scores are not");
      scores.tests[i].push_back(v);
    }
  }
  const auto missing = std::find(seen.begin(), seen.end(), false);
  if (missing != seen.end()) {
    const size_t i = size_t(missing - seen.begin());
    throw Error(file, "has " + std::to_string(std::count(seen.begin(), seen.end(), true)) + " of the " +
                          std::to_string(seen.size()) + " heads; \"" +
                          key_text(int(i / size_t(shape.heads)), int(i % size_t(shape.heads))) + "\" is missing (" +
                          shape.describe() + ")");
  }
  return scores;
}

masks::MaskPlan retrieval_head_to_plan(const RetrievalHeadScores& scores, const ModelShape& shape,
                                       const RetrievalPlanOptions& options) {
  const std::string where = "Retrieval_Head plan";
  check_scores(scores, shape, where);
  masks::MaskPlan plan(shape.layers, shape.heads, {masks::DenseMask{}, std::nullopt});
  const size_t n = scores.tests.size();
  std::vector<double> means(n);
  for (size_t i = 0; i < n; ++i) means[i] = scores.mean(int(i / size_t(shape.heads)), int(i % size_t(shape.heads)));

  if (options.rule == RetrievalPlanOptions::Rule::TopDense) {
    const size_t top = options.top_heads > 0 ? size_t(options.top_heads)
                                             : std::max<size_t>(1, size_t(std::ceil(0.05 * double(n))));
    if (top > n) throw Error(where, "top_heads " + std::to_string(top) + " is more than the model's " + std::to_string(n) + " heads");
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return means[a] > means[b]; });
    masks::StreamingMask streaming;
    streaming.sink_tokens = options.sink_tokens;
    streaming.window = {double(options.recent_tokens), 0};
    std::vector<bool> dense(n, false);
    for (size_t i = 0; i < top; ++i) dense[order[i]] = true;
    for (size_t i = 0; i < n; ++i)
      if (!dense[i]) plan.set({int(i / size_t(shape.heads)), int(i % size_t(shape.heads))}, {streaming, std::nullopt});
    plan.name = "retrieval heads: top " + std::to_string(top) + " dense";
    return plan;
  }

  if (!(options.beta >= 1) || !std::isfinite(options.beta))
    throw Error(where, "HeadKV's beta must be a finite number of 1 or more");
  if (!std::isfinite(options.temperature) || options.temperature <= 0)
    throw Error(where, "HeadKV's temperature must be a positive number");
  if (options.window < 1 || options.base_capacity <= options.window)
    throw Error(where, "HeadKV's base capacity must be larger than its window");
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(means[i]))
      throw Error(where, key_text(int(i / size_t(shape.heads)), int(i % size_t(shape.heads))) +
                             ": the mean of its scores is not a finite number (the scores are too large)");
  // Shares of the largest mean first, so that the sum of large scores cannot overflow.
  const double largest = *std::max_element(means.begin(), means.end());
  if (!(largest > 0)) throw Error(where, "no head has a score above 0, so HeadKV has no distribution to share by");
  double total = 0;
  for (const double m : means) total += m / largest;
  std::vector<double> shares(n);
  for (size_t i = 0; i < n; ++i) shares[i] = std::pow(means[i] / largest / total, options.temperature);
  const double share_total = std::accumulate(shares.begin(), shares.end(), 0.0);
  const double base = double(options.base_capacity - options.window);
  const double pooled = std::floor(base / options.beta);  // Python's //
  const double pool = pooled * double(n);
  for (size_t i = 0; i < n; ++i) {
    // torch.round rounds half to even, as std::nearbyint does in the default mode.
    // At least one earlier key: HeadKV gives 0 to a head of score 0 at beta 1; our
    // snapkv family needs a capacity above its window.
    const int64_t kept = std::max<int64_t>(1, int64_t(std::nearbyint(shares[i] / share_total * pool + (base - pooled))));
    masks::SnapKVMask m;
    m.observation_window = options.window;
    m.capacity = kept + options.window;
    m.kernel = options.kernel;
    m.pooling = masks::Pooling::Max;
    plan.set({int(i / size_t(shape.heads)), int(i % size_t(shape.heads))}, {m, std::nullopt});
  }
  plan.name = "headkv base " + std::to_string(options.base_capacity) + " beta " + nlohmann::json(options.beta).dump();
  return plan;
}

}  // namespace attnscope::exports
