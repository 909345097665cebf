#pragma once
// The per-head plans named after their methods, built from recorded heads of the prompt
// (the CLI's --method duo | moa | minference; docs/mask-plans.md):
//   duo         DuoAttention: KV-head groups dense (retrieval) or streaming (sink + recent),
//               ranked here by the group's mean streaming recall on the prompt (the lowest
//               stay dense) in place of DuoAttention's trained gates; `sparsity` is the share
//               of groups made streaming, or it is the largest share within a density budget.
//   moa         MoA: the global allocation (plan_search.h) over streaming candidates with a
//               64-token sink and elastic spans (densities), at most `rules_per_layer`
//               distinct rules per layer, mean density within the budget.
//   minference  MInference's offline search: per head the candidate of highest recall among
//               stream_llm (100, 800), vertical_and_slash (30, 800), (100, 750), (500, 700),
//               (3500, 100) and block_sparse (top 1/8 of 32-token blocks, mean-pooled).
#include <optional>

#include "analysis/masks/mask_lab.h"
#include "analysis/model/model_spec.h"

namespace attnscope::masks {

struct DuoSettings {
  int64_t sink_tokens = 64;   // DuoAttention's deployment sink (README)
  int64_t recent = 256;       // its recent window
  double sparsity = 0.5;      // share of KV groups made streaming (README's 0.5)
  std::optional<double> density;  // instead of sparsity: the most streaming groups within it
};
// attnscope::Error unless the lab recorded every head of the model.
MaskPlan duo_plan(const MaskLab& lab, const model::ModelSpec& spec, const DuoSettings& settings);

// MoA's default limit of distinct rules per layer.
inline constexpr int kMoaRulesPerLayer = 2;
MaskPlan moa_plan(const MaskLab& lab, const model::ModelSpec& spec, double density,
                  int rules_per_layer = kMoaRulesPerLayer);

// `density` (optional) gives every candidate that density instead of its own sizes.
MaskPlan minference_plan(const MaskLab& lab, const model::ModelSpec& spec, std::optional<double> density = {});

}  // namespace attnscope::masks
