#pragma once
// The plan a mask evaluation runs: a plan file, or a method by name with an optional
// density and "key=value" parameters (duo, moa and minference built from the prompt's
// recorded heads, named_plans.h; otherwise one mask family for every head, mask_plan.h).
// `attnscope-cli masks eval --plan | --method` and the plugin host's evaluate_masks
// service both build their plan here, so a method means the same in both; the desktop
// app's mask lab turns its sliders into the same choice (method_budgets.h), and adds
// masks of single heads on top of any plan.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/model/model_spec.h"
#include "analysis/runtime/head_rule_plan.h"

namespace attnscope::masks {

struct PlanChoice {
  std::optional<std::filesystem::path> plan_file;
  std::string method;               // when no plan file: duo, moa, minference or a family name
  std::optional<double> density;    // in (0, 1]; moa needs one
  std::vector<std::string> params;  // duo: sink_tokens, window, sparsity; moa: rules_per_layer;
                                    // a family: its parameters (apply_parameter)
  // Heads with a mask of their own, replacing the plan's (file or method) for that head.
  std::vector<std::pair<runtime::LayerHead, HeadMask>> head_masks;
  bool operator==(const PlanChoice&) const = default;
};

// Whether `method` is built from the prompt's recorded heads (duo, moa, minference).
bool is_per_head_plan(std::string_view method);

// The mask a family method gives every head: the family's defaults, `params` applied, the
// density; checked. attnscope::Error as build_plan's for a family (naming `where` and the
// method); also for duo, moa, minference (they are plans) and for a plan file.
HeadMask family_mask(const PlanChoice& choice, const std::string& where);

// `choice.head_masks` set on `plan` (checked); errors name `where` and the head.
void apply_head_masks(MaskPlan& plan, const PlanChoice& choice, const std::string& where);

// attnscope::Error for a plan file that cannot be read or does not fit `spec`; and, naming
// `where` and the method (e.g. "--method duo"), for both or neither of a plan file and a
// method, an unknown method, a parameter the method does not take or a value that is not
// a number, a density outside (0, 1], moa without a density, and a head mask outside the
// model or out of range.
MaskPlan build_plan(const PlanChoice& choice, const MaskLab& lab, const model::ModelSpec& spec, const std::string& where);

}  // namespace attnscope::masks
