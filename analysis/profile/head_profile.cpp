#include "analysis/profile/head_profile.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/error.h"

namespace attnscope::profile {

HeadProfile::HeadProfile(int layers, int heads, bool kv_heads) : layers_(layers), heads_(heads), kv_heads_(kv_heads) {
  if (layers < 0 || heads < 0)
    throw Error("head profile", "a profile of " + std::to_string(layers) + " layers and " + std::to_string(heads) +
                                    " heads is not possible");
}

size_t HeadProfile::index(std::string_view metric, int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_)
    throw Error("head profile", std::string(metric) + ": layer " + std::to_string(layer) + " head " +
                                    std::to_string(head) + " is outside the model's " + std::to_string(layers_) +
                                    " layers and " + std::to_string(heads_) + (kv_heads_ ? " KV heads" : " heads"));
  return size_t(layer) * size_t(heads_) + size_t(head);
}

void HeadProfile::set(std::string_view metric, int layer, int head, MetricValue value) {
  if (metric.empty()) throw Error("head profile", "a metric needs a name");
  const size_t i = index(metric, layer, head);
  auto it = values_.find(metric);
  if (it == values_.end())
    it = values_.emplace(std::string(metric), std::vector<std::optional<MetricValue>>(size_t(layers_) * size_t(heads_)))
             .first;
  it->second[i] = std::move(value);
}

std::optional<MetricValue> HeadProfile::get(std::string_view metric, int layer, int head) const {
  const size_t i = index(metric, layer, head);
  const auto it = values_.find(metric);
  if (it == values_.end()) return std::nullopt;
  return it->second[i];
}

std::optional<double> HeadProfile::number(std::string_view metric, int layer, int head) const {
  const auto v = get(metric, layer, head);
  if (!v || !std::holds_alternative<double>(*v)) return std::nullopt;
  return std::get<double>(*v);
}

std::vector<std::string> HeadProfile::metrics() const {
  std::vector<std::string> names;
  for (const auto& [name, values] : values_) names.push_back(name);
  return names;
}

void add_head_metrics(HeadProfile& profile, std::span<const HeadMetrics> heads, const HeadMetricsOptions& options) {
  const std::array<std::string_view, 3> density_names{metric::density_90, metric::density_95, metric::density_99};
  const std::array<double, 3> named_targets{0.9, 0.95, 0.99};
  if (options.density_targets != named_targets)
    throw Error("head profile", "the density targets are not 0.9, 0.95, 0.99, so they have no metric names");
  for (const HeadMetrics& m : heads) {
    if (m.sink_mass) profile.set(metric::sink_mass, m.layer, m.head, *m.sink_mass);
    if (m.local_mass) profile.set(metric::local_mass, m.layer, m.head, *m.local_mass);
    if (m.entropy) profile.set(metric::entropy, m.layer, m.head, *m.entropy);
    if (m.pattern) profile.set(metric::pattern, m.layer, m.head, pattern_name(m.pattern->pattern));
    if (m.span_90) profile.set(metric::span_90, m.layer, m.head, *m.span_90);
    if (m.density)
      for (size_t i = 0; i < density_names.size() && i < m.density->density.size(); ++i)
        profile.set(density_names[i], m.layer, m.head, m.density->density[i]);
  }
}

void add_retrieval_scores(HeadProfile& profile, const RetrievalScores& scores) {
  for (size_t h = 0; h < scores.heads.size(); ++h)
    if (const auto mean = scores.mean(h)) profile.set(metric::retrieval_score, scores.heads[h].layer, scores.heads[h].head, *mean);
}

std::optional<KvReduction> kv_reduction(std::string_view name) {
  // Max where a high value means the KV head must keep its full cache (one demanding
  // query head is enough), as RazorAttention reduces echo and induction scores; mean for
  // the descriptive statistics of how the group spreads its attention.
  if (name == metric::retrieval_score || name == metric::induction_score || name == metric::echo_score ||
      name == metric::streaming_gate || name == metric::density_90 || name == metric::density_95 ||
      name == metric::density_99 || name == metric::span_90 || name == metric::retrieval_reasoning_score ||
      name == metric::streaming_change || name == metric::hidden_sinks)
    return KvReduction::Max;
  if (name == metric::sink_mass || name == metric::local_mass || name == metric::entropy) return KvReduction::Mean;
  if (name == metric::pattern) return std::nullopt;
  throw Error("head profile", "no KV-head reduction is defined for the metric '" + std::string(name) + "'");
}

HeadProfile reduce_to_kv_heads(const HeadProfile& profile, int kv_heads) {
  if (profile.kv_heads()) throw Error("head profile", "the profile is already per KV head");
  if (kv_heads < 1 || profile.heads() % kv_heads != 0)
    throw Error("head profile", std::to_string(kv_heads) + " KV heads do not divide the " +
                                    std::to_string(profile.heads()) + " query heads into equal groups");
  const int group = profile.heads() / kv_heads;
  HeadProfile out(profile.layers(), kv_heads, true);
  for (const std::string& name : profile.metrics()) {
    const auto reduction = kv_reduction(name);
    if (!reduction) continue;
    for (int layer = 0; layer < profile.layers(); ++layer)
      for (int kv = 0; kv < kv_heads; ++kv) {
        double max = -INFINITY, sum = 0;
        bool complete = true;
        for (int h = kv * group; h < (kv + 1) * group; ++h) {
          const auto v = profile.number(name, layer, h);
          if (!v) {
            complete = false;
            break;
          }
          max = std::max(max, *v);
          sum += *v;
        }
        if (complete) out.set(name, layer, kv, *reduction == KvReduction::Max ? max : sum / double(group));
      }
  }
  return out;
}

}  // namespace attnscope::profile
