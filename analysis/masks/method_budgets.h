#pragma once
// Each method's budget parameters in one table: the mask families of mask_plan.h (dense
// included, for heads kept whole) and the per-head plans duo, moa and minference of
// named_plans.h. An entry gives the parameter's name as --param and the plan file spell it,
// its default (the family's or the plan's own), its range for a prompt of N tokens, its
// steps and whether a control moves over it on a log scale; the method says whether it
// takes a density instead of its own budget. The desktop app's mask lab builds a slider per
// entry and turns the sliders into `key=value` settings for plan_choice.h, so a slider and
// the CLI's --param mean the same value; build_plan takes the named plans' parameter names
// from here. Parameters a family has beyond its budget (vertical_slash's last_queries,
// the block families' score) keep their defaults unless set as --param text.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::masks {

enum class BudgetScale { Linear, Log };

// One end of a parameter's range for a prompt of N tokens: fixed + per_token x N, plus the
// current value of `plus_parameter` when named (a capacity above its observation window),
// then divided by the value of `per_parameter` and rounded up when named (the blocks of N
// tokens).
struct BudgetBound {
  double fixed = 0;
  double per_token = 0;
  std::string_view plus_parameter{};
  std::string_view per_parameter{};
};

struct BudgetParameter {
  std::string_view name;   // "window": the --param key
  std::string_view label;  // "recent window": for a control's label
  double default_value = 0;
  BudgetBound min, max;    // the range a slider covers (max is raised to min when below)
  BudgetScale scale = BudgetScale::Linear;
  bool whole = true;       // a whole number (of tokens, blocks, rules)
  int step = 1;            // whole numbers from min in steps of this (SnapKV's odd kernels: 2)
  std::vector<double> choices{};  // when not empty: only these values (block sizes)
  // The largest value that may be typed: a token budget beyond the prompt is allowed (it
  // keeps every key of this prompt) so that a family's default never needs changing.
  double limit = 0;
  // The family's main knob (docs/mask-plans.md): with a density it is chosen per head.
  bool density_knob = false;
};

enum class DensityUse { None, Optional, Required };

struct MethodBudget {
  std::string_view method;  // method_name() of a family, or duo, moa, minference
  bool per_head_plan = false;  // built from the prompt's recorded heads (named_plans.h)
  DensityUse density = DensityUse::Optional;
  // What the budget is when no density is given: "tokens", "mass", "probability", ...
  std::string_view own_budget;
  std::vector<BudgetParameter> parameters;

  // Null when the method has no parameter of that name.
  const BudgetParameter* find(std::string_view name) const;
};

// Every method, families first in method_names() order, then duo, moa, minference.
const std::vector<MethodBudget>& method_budgets();
// attnscope::Error(where, ...) listing the methods for an unknown name.
const MethodBudget& method_budget(std::string_view method, const std::string& where);

// The density a method takes instead of its own budget (docs/mask-plans.md): a share of
// the visible entries from 0.001 to 1, on a log scale.
const BudgetParameter& density_budget();

// Current values of parameters by name (a slider's own and the ones its bounds refer to).
using BudgetValues = std::map<std::string, double, std::less<>>;

struct BudgetRange {
  double min = 0;
  double max = 0;
  bool operator==(const BudgetRange&) const = default;
};

// The range of `parameter` of `method` for a prompt of `sequence_length` tokens. A bound
// naming another parameter takes its value from `values`, else that parameter's default
// (the method's table, or the family's own for parameters without a slider);
// attnscope::Error when neither exists.
BudgetRange budget_range(const MethodBudget& method, const BudgetParameter& parameter, int64_t sequence_length,
                         const BudgetValues& values);

// `value` as the parameter takes it: the nearest choice, or rounded to its steps from
// range.min, and kept within [range.min, limit].
double snap_budget(const BudgetParameter& parameter, const BudgetRange& range, double value);
// Where `value` lies on a control over `range`, in [0, 1] (clamped): linear, or on a log
// scale (of value - min + 1 when the range starts below 1, so that 0 sinks fit).
double budget_position(const BudgetParameter& parameter, const BudgetRange& range, double value);
// The inverse, snapped (snap_budget).
double budget_at_position(const BudgetParameter& parameter, const BudgetRange& range, double position);

// "window=256", "mass=0.95": the setting --param and plan_choice.h take for that value.
std::string budget_setting(const BudgetParameter& parameter, double value);

}  // namespace attnscope::masks
