#include "analysis/masks/method_budgets.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "analysis/masks/mask_plan.h"
#include "analysis/masks/named_plans.h"
#include "kernels/error.h"

namespace attnscope::masks {
namespace {

// Typed token budgets may go beyond the prompt up to here (a window of 1024 on 300 tokens).
constexpr double kTokenLimit = double(1 << 30);

// Ranges: a count from `low` up to the prompt's length.
constexpr BudgetBound kPrompt{0, 1};
BudgetBound at_least(double fixed) { return {fixed, 0}; }

BudgetParameter tokens(std::string_view name, std::string_view label, double fallback, BudgetBound min,
                       bool knob = false) {
  return {name, label, fallback, min, kPrompt, BudgetScale::Log, true, 1, {}, kTokenLimit, knob};
}

BudgetParameter share(std::string_view name, std::string_view label, double fallback, double min, bool knob,
                      BudgetScale scale = BudgetScale::Linear) {
  return {name, label, fallback, at_least(min), at_least(1), scale, false, 1, {}, 1, knob};
}

BudgetParameter block_size() {
  return {"block_size", "block size", double(BlockTopKMask{}.block_size), at_least(64), at_least(128),
          BudgetScale::Linear, true, 1, {64, 128}, 128, false};
}

std::vector<MethodBudget> make_table() {
  const StreamingMask streaming;
  const VerticalSlashMask vs;
  const VerticalSlashOracleMask oracle;
  const BlockTopKMask topk_blocks;
  const QuestMask quest;
  const SnapKVMask snap;
  const H2OMask h2o;
  const DuoSettings duo;
  std::vector<MethodBudget> t;
  t.push_back({"dense", false, DensityUse::None, "every key", {}});
  t.push_back({"streaming", false, DensityUse::Optional, "tokens",
               {tokens("sink_tokens", "attention sinks", double(streaming.sink_tokens), at_least(0)),
                tokens("window", "recent window", streaming.window.fixed, at_least(1), true)}});
  t.push_back({"window", false, DensityUse::Optional, "tokens",
               {tokens("window", "window", WindowMask{}.window.fixed, at_least(1), true)}});
  t.push_back({"vertical_slash", false, DensityUse::Optional, "tokens",
               {tokens("vertical", "vertical lines", double(vs.vertical), {0, 0, "kept_columns", {}}, true),
                tokens("slash", "slash lines", double(vs.slash), {0, 0, "kept_diagonals", {}}, true)}});
  t.push_back({"vertical_slash_oracle", false, DensityUse::Optional, "tokens",
               {tokens("vertical", "vertical lines", double(oracle.vertical), at_least(0), true),
                tokens("slash", "slash lines", double(oracle.slash), at_least(1), true)}});
  BudgetParameter blocks = tokens("blocks", "key blocks per query block", double(topk_blocks.blocks), at_least(2), true);
  blocks.max = {0, 1, {}, "block_size"};
  blocks.limit = double(1 << 24);
  t.push_back({"block_topk", false, DensityUse::Optional, "blocks", {block_size(), blocks}});
  t.push_back({"block_threshold", false, DensityUse::Optional, "mass",
               {block_size(), share("mass", "mass kept", BlockThresholdMask{}.mass, 0.01, true)}});
  t.push_back({"topk", false, DensityUse::Optional, "tokens",
               {tokens("keys", "keys per row", double(TopKMask{}.keys), at_least(1), true)}});
  t.push_back({"topp", false, DensityUse::Optional, "mass", {share("mass", "mass kept", TopPMask{}.mass, 0.01, true)}});
  t.push_back({"threshold", false, DensityUse::Optional, "probability",
               {share("probability", "least probability", ThresholdMask{}.probability, 1e-6, true, BudgetScale::Log)}});
  BudgetParameter page = tokens("page_size", "page size", double(quest.page_size), at_least(1));
  page.max = at_least(256);
  t.push_back({"quest", false, DensityUse::Optional, "tokens",
               {page, tokens("token_budget", "token budget", double(quest.token_budget), {0, 0, "page_size", {}}, true)}});
  BudgetParameter kernel{"kernel", "pooling kernel", double(snap.kernel), at_least(1), at_least(31), BudgetScale::Linear,
                         true, 2, {}, 255, false};
  t.push_back({"snapkv", false, DensityUse::Optional, "tokens",
               {tokens("observation_window", "observation window", double(snap.observation_window), at_least(1)),
                tokens("capacity", "capacity", double(snap.capacity), {1, 0, "observation_window", {}}, true), kernel}});
  t.push_back({"h2o", false, DensityUse::Optional, "tokens",
               {tokens("heavy", "heavy hitters", double(h2o.heavy), at_least(0), true),
                tokens("recent", "recent keys", double(h2o.recent), at_least(1), true)}});
  BudgetParameter sparsity = share("sparsity", "share of KV groups streaming", duo.sparsity, 0, true);
  t.push_back({"duo", true, DensityUse::Optional, "sparsity",
               {tokens("sink_tokens", "attention sinks", double(duo.sink_tokens), at_least(0)),
                tokens("window", "recent window", double(duo.recent), at_least(1)), sparsity}});
  BudgetParameter rules{"rules_per_layer", "distinct rules per layer", double(kMoaRulesPerLayer), at_least(1),
                        at_least(16), BudgetScale::Linear, true, 1, {}, 1024, false};
  t.push_back({"moa", true, DensityUse::Required, "density", {rules}});
  t.push_back({"minference", true, DensityUse::Optional, "own sizes", {}});
  return t;
}

double bound_value(const MethodBudget& method, const BudgetBound& b, int64_t n, const BudgetValues& values);

// A parameter's current value: given, else its default in the table, else the family's own.
double reference_value(const MethodBudget& method, std::string_view name, const BudgetValues& values) {
  if (const auto it = values.find(name); it != values.end()) return it->second;
  if (const BudgetParameter* p = method.find(name)) return p->default_value;
  if (!method.per_head_plan) {
    const nlohmann::json defaults = mask_to_json({default_family(method.method, "budget table"), std::nullopt});
    if (const auto it = defaults.find(std::string(name)); it != defaults.end() && it->is_number())
      return it->get<double>();
  }
  throw Error("budget table", std::string(method.method) + " has no parameter \"" + std::string(name) + "\"");
}

double bound_value(const MethodBudget& method, const BudgetBound& b, int64_t n, const BudgetValues& values) {
  double v = b.fixed + b.per_token * double(n);
  if (!b.plus_parameter.empty()) v += reference_value(method, b.plus_parameter, values);
  if (!b.per_parameter.empty()) {
    const double per = reference_value(method, b.per_parameter, values);
    if (per > 0) v = std::ceil(v / per);
  }
  return v;
}

// The log scale's offset: ranges starting at 0 (sinks) are measured from 1.
double log_shift(const BudgetRange& r) { return r.min > 0 ? 0 : 1 - r.min; }

}  // namespace

const BudgetParameter& density_budget() {
  static const BudgetParameter density = share("density", "density", 0.3, 0.001, false, BudgetScale::Log);
  return density;
}

const BudgetParameter* MethodBudget::find(std::string_view name) const {
  for (const BudgetParameter& p : parameters)
    if (p.name == name) return &p;
  return nullptr;
}

const std::vector<MethodBudget>& method_budgets() {
  static const std::vector<MethodBudget> table = make_table();
  return table;
}

const MethodBudget& method_budget(std::string_view method, const std::string& where) {
  std::string known;
  for (const MethodBudget& m : method_budgets()) {
    if (m.method == method) return m;
    known += (known.empty() ? "" : ", ") + std::string(m.method);
  }
  throw Error(where, "unknown method \"" + std::string(method) + "\"; the methods are " + known);
}

BudgetRange budget_range(const MethodBudget& method, const BudgetParameter& p, int64_t sequence_length,
                         const BudgetValues& values) {
  const int64_t n = std::max<int64_t>(sequence_length, 1);
  BudgetRange r{bound_value(method, p.min, n, values), bound_value(method, p.max, n, values)};
  if (p.whole) r.max = std::floor(r.max);
  r.max = std::max(r.max, r.min);
  return r;
}

double snap_budget(const BudgetParameter& p, const BudgetRange& range, double value) {
  if (!std::isfinite(value)) value = p.default_value;
  if (!p.choices.empty()) {
    double best = p.choices.front();
    for (double c : p.choices)
      if (std::abs(c - value) < std::abs(best - value)) best = c;
    return best;
  }
  const double top = std::max(p.limit, range.min);
  value = std::clamp(value, range.min, top);
  if (p.whole) {
    const double step = double(std::max(p.step, 1));
    value = range.min + std::round((value - range.min) / step) * step;
    while (value > top) value -= step;
    return std::max(value, range.min);
  }
  // Four significant digits: what a control shows, and the same value in the --param text.
  if (value == 0) return value;
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::abs(value))));
  return std::clamp(std::round(value * scale) / scale, range.min, top);
}

double budget_position(const BudgetParameter& p, const BudgetRange& r, double value) {
  if (r.max <= r.min) return 0;
  const double v = std::clamp(value, r.min, r.max);
  if (p.scale == BudgetScale::Linear) return (v - r.min) / (r.max - r.min);
  const double s = log_shift(r);
  return std::log((v + s) / (r.min + s)) / std::log((r.max + s) / (r.min + s));
}

double budget_at_position(const BudgetParameter& p, const BudgetRange& r, double position) {
  const double t = std::clamp(position, 0.0, 1.0);
  double v = r.min;
  if (p.scale == BudgetScale::Linear || r.max <= r.min) {
    v = r.min + t * (r.max - r.min);
  } else {
    const double s = log_shift(r);
    v = (r.min + s) * std::pow((r.max + s) / (r.min + s), t) - s;
  }
  double out = snap_budget(p, r, std::min(v, r.max));
  // Steps from min may overshoot a max they do not land on.
  while (p.whole && out > r.max && out - p.step >= r.min) out -= p.step;
  return out;
}

std::string budget_setting(const BudgetParameter& p, double value) {
  std::string text(p.name);
  text += '=';
  if (p.whole) return text + std::to_string(int64_t(std::llround(value)));
  char buffer[32];
  // The shortest text that reads back as the same double.
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
  return text + std::string(buffer, ec == std::errc() ? end : buffer);
}

}  // namespace attnscope::masks
