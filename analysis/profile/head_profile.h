#pragma once
// The profile of a model: per metric, one optional value for every (layer, head). Values
// are numbers, or text for "pattern" (the store keeps both). Heads are query heads;
// reduce_to_kv_heads gives the per-KV-head table the KV-cache formats want (DuoAttention,
// RazorAttention), with the reduction docs/metrics.md names for each metric.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "analysis/profile/head_metrics.h"
#include "analysis/profile/retrieval_score.h"

namespace attnscope::profile {

// The metric names the store and the exporters use.
namespace metric {
inline constexpr std::string_view sink_mass = "sink_mass";
inline constexpr std::string_view local_mass = "local_mass";
inline constexpr std::string_view entropy = "entropy";
inline constexpr std::string_view retrieval_score = "retrieval_score";
inline constexpr std::string_view induction_score = "induction_score";
inline constexpr std::string_view echo_score = "echo_score";
inline constexpr std::string_view streaming_gate = "streaming_gate";
inline constexpr std::string_view pattern = "pattern";
inline constexpr std::string_view density_90 = "density_90";
inline constexpr std::string_view density_95 = "density_95";
inline constexpr std::string_view density_99 = "density_99";
// MoA's span: sink 64 + the recent window that provably keeps 90% (recall_span.h).
inline constexpr std::string_view span_90 = "span_90";
// Recorded by the profiling job (profile_job.h) beside the ones above.
inline constexpr std::string_view hidden_sinks = "hidden_sinks";                           // count per head
inline constexpr std::string_view retrieval_reasoning_score = "retrieval_reasoning_score";  // HeadKV's
inline constexpr std::string_view streaming_change = "streaming_change";                   // relative L2, gate's input
}  // namespace metric

using MetricValue = std::variant<double, std::string>;

class HeadProfile {
 public:
  HeadProfile() = default;
  // `heads` per layer: query heads, or KV heads for a reduced profile.
  HeadProfile(int layers, int heads, bool kv_heads = false);

  int layers() const { return layers_; }
  int heads() const { return heads_; }
  bool kv_heads() const { return kv_heads_; }

  // attnscope::Error for a layer or head out of range or an empty metric name.
  void set(std::string_view metric, int layer, int head, MetricValue value);
  std::optional<MetricValue> get(std::string_view metric, int layer, int head) const;
  std::optional<double> number(std::string_view metric, int layer, int head) const;  // nullopt for text too
  std::vector<std::string> metrics() const;  // sorted

 private:
  size_t index(std::string_view metric, int layer, int head) const;

  int layers_ = 0;
  int heads_ = 0;
  bool kv_heads_ = false;
  std::map<std::string, std::vector<std::optional<MetricValue>>, std::less<>> values_;
};

// sink_mass, local_mass, entropy, pattern, density_90/95/99, span_90 of each head measured (the
// density targets must be 0.9, 0.95, 0.99 to land under those names).
void add_head_metrics(HeadProfile& profile, std::span<const HeadMetrics> heads, const HeadMetricsOptions& options);
// retrieval_score: the mean over counted tests of each head that has one.
void add_retrieval_scores(HeadProfile& profile, const RetrievalScores& scores);

enum class KvReduction { Max, Mean };
// The reduction of a metric over a GQA group, or nullopt for one that has none
// ("pattern": a class per query head). attnscope::Error for a metric it does not know.
std::optional<KvReduction> kv_reduction(std::string_view metric);

// One value per KV head: query head h belongs to KV head h / (heads / kv_heads) (HF's
// repeat_kv order). A group with any head missing gets no value; metrics without a
// reduction are left out. attnscope::Error when kv_heads does not divide the heads.
HeadProfile reduce_to_kv_heads(const HeadProfile& profile, int kv_heads);

}  // namespace attnscope::profile
