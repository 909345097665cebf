#include "analysis/masks/plan_choice.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "analysis/masks/method_budgets.h"
#include "analysis/masks/named_plans.h"
#include "kernels/error.h"

namespace attnscope::masks {
namespace {

// A named plan's parameters are those of its entry in the budget table.
void only_params(const std::vector<std::string>& params, std::string_view method, const std::string& where) {
  const MethodBudget& budget = method_budget(method, where);
  for (const std::string& p : params) {
    const std::string key = p.substr(0, p.find('='));
    if (!budget.find(key)) {
      std::string list;
      for (const BudgetParameter& k : budget.parameters) list += (list.empty() ? "" : ", ") + std::string(k.name);
      throw Error(where, "has no parameter '" + key + "' (its parameters: " + (list.empty() ? "none" : list) + ")");
    }
  }
}

double number_param(const std::vector<std::string>& params, const std::string& key, double fallback,
                    const std::string& where) {
  for (const std::string& p : params) {
    if (p.rfind(key + "=", 0) != 0) continue;
    const char* first = p.data() + key.size() + 1;
    const char* last = p.data() + p.size();
    double v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (first == last || ec != std::errc() || end != last || !std::isfinite(v))
      throw Error(where, "'" + p + "' is not a number");
    return v;
  }
  return fallback;
}

void check_density(const PlanChoice& choice, const std::string& at) {
  if (choice.density && !(*choice.density > 0 && *choice.density <= 1))
    throw Error(at, "the density must be in (0, 1], not " + std::to_string(*choice.density));
}

// The plan of the file or the method, before the head masks.
MaskPlan method_plan(const PlanChoice& choice, const MaskLab& lab, const model::ModelSpec& spec, const std::string& where) {
  if (choice.plan_file) {
    if (!choice.method.empty()) throw Error(where, "give a method or a plan file, not both");
    MaskPlan plan = read_plan_file(*choice.plan_file);
    try {
      plan.check_fits(spec);
    } catch (const Error& e) {
      throw naming_file(e, choice.plan_file->string());
    }
    return plan;
  }
  if (choice.method.empty()) throw Error(where, "give a plan file or a method");
  const std::string at = where + " " + choice.method;
  const std::vector<std::string>& params = choice.params;
  check_density(choice, at);
  if (choice.method == "duo") {
    only_params(params, "duo", at);
    DuoSettings d;
    d.sink_tokens = int64_t(number_param(params, "sink_tokens", double(d.sink_tokens), at));
    d.recent = int64_t(number_param(params, "window", double(d.recent), at));
    d.sparsity = number_param(params, "sparsity", d.sparsity, at);
    d.density = choice.density;
    return duo_plan(lab, spec, d);
  }
  if (choice.method == "moa") {
    only_params(params, "moa", at);
    if (!choice.density) throw Error(at, "needs a density (the mean density of the allocation)");
    return moa_plan(lab, spec, *choice.density, int(number_param(params, "rules_per_layer", kMoaRulesPerLayer, at)));
  }
  if (choice.method == "minference") {
    only_params(params, "minference", at);
    return minference_plan(lab, spec, choice.density);
  }
  const HeadMask mask = family_mask(choice, where);
  MaskPlan plan(spec, mask);
  plan.name = describe(mask);
  return plan;
}

}  // namespace

bool is_per_head_plan(std::string_view method) { return method == "duo" || method == "moa" || method == "minference"; }

HeadMask family_mask(const PlanChoice& choice, const std::string& where) {
  if (choice.plan_file) throw Error(where, "a plan file gives a mask per head, not one family");
  const std::string at = where + " " + choice.method;
  check_density(choice, at);
  HeadMask mask{default_family(choice.method, where), choice.density};
  for (const std::string& p : choice.params) apply_parameter(mask, p, at);
  check_mask(mask, at);
  return mask;
}

void apply_head_masks(MaskPlan& plan, const PlanChoice& choice, const std::string& where) {
  for (const auto& [at, mask] : choice.head_masks) {
    try {
      plan.set(at, mask);
    } catch (const Error& e) {
      throw Error(where, "the mask of layer " + std::to_string(at.layer) + " head " + std::to_string(at.head) +
                             " of its own: " + e.problem());
    }
  }
  if (!choice.head_masks.empty())
    plan.name += (plan.name.empty() ? "" : ", ") + std::to_string(choice.head_masks.size()) +
                 (choice.head_masks.size() == 1 ? " head" : " heads") + " of its own";
}

MaskPlan build_plan(const PlanChoice& choice, const MaskLab& lab, const model::ModelSpec& spec, const std::string& where) {
  MaskPlan plan = method_plan(choice, lab, spec, where);
  apply_head_masks(plan, choice, where);
  return plan;
}

}  // namespace attnscope::masks
