#pragma once
// The plan a mask evaluation runs: a plan file, or a method by name with an optional
// density and "key=value" parameters (duo, moa and minference built from the prompt's
// recorded heads, named_plans.h; otherwise one mask family for every head, mask_plan.h).
// `attnscope-cli masks eval --plan | --method` and the plugin host's evaluate_masks
// service both build their plan here, so a method means the same in both.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/model/model_spec.h"

namespace attnscope::masks {

struct PlanChoice {
  std::optional<std::filesystem::path> plan_file;
  std::string method;               // when no plan file: duo, moa, minference or a family name
  std::optional<double> density;    // in (0, 1]; moa needs one
  std::vector<std::string> params;  // duo: sink_tokens, window, sparsity; moa: rules_per_layer;
                                    // a family: its parameters (apply_parameter)
};

// attnscope::Error for a plan file that cannot be read or does not fit `spec`; and, naming
// `where` and the method (e.g. "--method duo"), for both or neither of a plan file and a
// method, an unknown method, a parameter the method does not take or a value that is not
// a number, a density outside (0, 1], and moa without a density.
MaskPlan build_plan(const PlanChoice& choice, const MaskLab& lab, const model::ModelSpec& spec, const std::string& where);

}  // namespace attnscope::masks
