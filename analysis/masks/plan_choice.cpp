#include "analysis/masks/plan_choice.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "analysis/masks/named_plans.h"
#include "kernels/error.h"

namespace attnscope::masks {
namespace {

// MoA's default limit of distinct rules per layer (named_plans.h).
constexpr int kMoaRulesPerLayer = 2;

void only_params(const std::vector<std::string>& params, std::initializer_list<std::string> known, const std::string& where) {
  for (const std::string& p : params) {
    const std::string key = p.substr(0, p.find('='));
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
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

}  // namespace

MaskPlan build_plan(const PlanChoice& choice, const MaskLab& lab, const model::ModelSpec& spec, const std::string& where) {
  if (choice.plan_file) {
    if (!choice.method.empty()) throw Error(where, "give a method or a plan file, not both");
    MaskPlan plan = read_plan_file(*choice.plan_file);
    plan.check_fits(spec);
    return plan;
  }
  if (choice.method.empty()) throw Error(where, "give a plan file or a method");
  const std::string at = where + " " + choice.method;
  const std::vector<std::string>& params = choice.params;
  if (choice.density && !(*choice.density > 0 && *choice.density <= 1))
    throw Error(at, "the density must be in (0, 1], not " + std::to_string(*choice.density));
  if (choice.method == "duo") {
    only_params(params, {"sink_tokens", "window", "sparsity"}, at);
    DuoSettings d;
    d.sink_tokens = int64_t(number_param(params, "sink_tokens", double(d.sink_tokens), at));
    d.recent = int64_t(number_param(params, "window", double(d.recent), at));
    d.sparsity = number_param(params, "sparsity", d.sparsity, at);
    d.density = choice.density;
    return duo_plan(lab, spec, d);
  }
  if (choice.method == "moa") {
    only_params(params, {"rules_per_layer"}, at);
    if (!choice.density) throw Error(at, "needs a density (the mean density of the allocation)");
    return moa_plan(lab, spec, *choice.density, int(number_param(params, "rules_per_layer", kMoaRulesPerLayer, at)));
  }
  if (choice.method == "minference") {
    only_params(params, {}, at);
    return minference_plan(lab, spec, choice.density);
  }
  HeadMask mask{default_family(choice.method, where), choice.density};
  for (const std::string& p : params) apply_parameter(mask, p, at);
  check_mask(mask, at);
  MaskPlan plan(spec, mask);
  plan.name = describe(mask);
  return plan;
}

}  // namespace attnscope::masks
