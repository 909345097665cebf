#pragma once
// Per-head attention rules: what each query head of one attention call may attend to,
// or whether it contributes at all. Both backends apply them (Backend::attention's
// `rules`; nullptr means every head dense). Semantics and the backends' treatment:
// docs/attention-rules.md.
//
// A row at position q "sees" the model's keys: causal, and under the model's own
// sliding window W also > q - W. A rule never adds keys to those; it removes keys or
// replaces what the head does:
//   Dense       the model's attention, unchanged.
//   Ablated     the head's output rows are zero (zero ablation); its attention weights
//               are irrelevant and not computed.
//   ZeroQuery   the head's query is zero, so every visible key scores 0 and gets the
//               same weight: the output is the mean of the visible values. This is how
//               Retrieval_Head's needle_in_haystack_with_mask.py masks a head (it sets
//               the blocked heads' query_states to 0 before flash attention).
//   SinkWindow  StreamingLLM / DuoAttention streaming attention: keys [0, sink_tokens)
//               and (q - window, q], the union (a key in both counts once), of the keys
//               the model lets the row see.
//   Selected    the keys a KeySelector picks for the call from the call's own queries and
//               keys (the mask lab's families: vertical-slash, block top-k, top-k / top-p,
//               Quest, SnapKV, H2O, ...; analysis/masks), as a block-sparse KeptKeys set
//               inside the keys the model shows; softmax over the kept keys only. A
//               selector may answer "dense" for a call (e.g. MInference's decode steps).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/kept_keys.h"

namespace attnscope::kernels {

enum class HeadRuleKind { Dense, Ablated, ZeroQuery, SinkWindow, Selected };

// One head in one attention call as host float32 views (the CPU backend's layout): rows
// at positions first_position + r; keys and values cover positions
// [0, first_position + rows) of the head's KV head. The mask lab's HeadInputs too.
struct HeadAttentionView {
  const float* q = nullptr;
  int64_t q_stride = 0;
  const float* k = nullptr;
  int64_t k_stride = 0;
  const float* v = nullptr;
  int64_t v_stride = 0;
  int64_t rows = 0;
  int64_t first_position = 0;
  int64_t head_dim = 0;
  int64_t model_window = 0;  // the model's own sliding window (0: none)
  float scale = 1;
  int64_t keys() const { return first_position + rows; }
};

// What a KeySelector sees: the head's views and which query and KV head it is.
struct SelectionInput : HeadAttentionView {
  int head = 0;
  int kv_head = 0;
};

// Chooses the keys each row of a call keeps. One selector per (layer, head): the backend
// calls it once per attention call before the head attends, from any thread, never
// concurrently for the same selector; a selector may keep state from call to call (the
// decode steps of SnapKV or H2O follow their prefill).
class KeySelector {
 public:
  virtual ~KeySelector() = default;
  // The kept entries of the call's rows (a set for exactly input.rows rows from
  // input.first_position under input.model_window), or nullopt: dense for this call.
  virtual std::optional<KeptKeys> select(const SelectionInput& input) = 0;
  // "vertical_slash vertical 1000 slash 6096 ...": for messages and tables.
  virtual std::string describe() const = 0;
  // Whether select() reads the input's q, k and v. False: only the call's shape (rows,
  // positions, window, head), and the views may be null; the CUDA backend then downloads
  // nothing for the head (streaming and window spans).
  virtual bool reads_views() const { return true; }
};

struct HeadRule {
  HeadRuleKind kind = HeadRuleKind::Dense;
  int64_t sink_tokens = 0;  // SinkWindow: keys [0, sink_tokens) stay visible (0 or more)
  int64_t window = 0;       // SinkWindow: keys (q - window, q] stay visible (1 or more)
  std::shared_ptr<KeySelector> selector;  // Selected: required; other kinds: none

  static HeadRule dense() { return {}; }
  static HeadRule ablated() { return {HeadRuleKind::Ablated, 0, 0, nullptr}; }
  static HeadRule zero_query() { return {HeadRuleKind::ZeroQuery, 0, 0, nullptr}; }
  static HeadRule sink_window(int64_t sink_tokens, int64_t window) {
    return {HeadRuleKind::SinkWindow, sink_tokens, window, nullptr};
  }
  static HeadRule selected(std::shared_ptr<KeySelector> selector) {
    return {HeadRuleKind::Selected, 0, 0, std::move(selector)};
  }
  bool operator==(const HeadRule&) const = default;
};

// The rules of one attention call, one per query head.
struct AttentionRules {
  std::vector<HeadRule> heads;  // [query head]
};

// "dense", "ablated", "zero query", "sink 4 + window 256", "selected (topk keys 64)": for
// messages and tables.
std::string describe(const HeadRule& rule);

// Throws attnscope::Error(where, ...) when the rule's parameters are out of range
// (SinkWindow: sink_tokens < 0 or window < 1; Selected: no selector; other kinds: any
// parameter set).
void check_rule(const HeadRule& rule, const std::string& where);

// Throws attnscope::Error(where, ...) unless `rules` has one valid rule per query head.
void check_rules(const AttentionRules& rules, int num_heads, const std::string& where);

// True when any head of `rules` (may be null) is Selected.
bool any_selected(const AttentionRules* rules);

// True when `rules` is null or every head is Dense: the call is plain attention.
bool all_dense(const AttentionRules* rules);

// The rule of `head` (Dense when `rules` is null).
inline const HeadRule& rule_of(const AttentionRules* rules, int head) {
  static const HeadRule dense;
  return rules == nullptr ? dense : rules->heads[std::size_t(head)];
}

// Whether a row at `position` attends to `key` under `rule` on a model whose own sliding
// window is `model_window` (0: none): the definition both backends implement. An
// Ablated head attends to nothing; a ZeroQuery head to every key the model shows it
// (with equal weights). A Selected head's keys are chosen per call: this answers what the
// model shows (the superset its selection is taken from).
bool rule_sees_key(const HeadRule& rule, int64_t model_window, int64_t position, int64_t key);

}  // namespace attnscope::kernels
