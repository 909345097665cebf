#pragma once
// MoA's compression plan (FORMATS.md 2.1): {"alphas": [[..]], "betas": [[..]]}, one list
// per layer of one value per query head (MoA converts GQA models to MHA first). A head
// attends to a span of alpha + beta N tokens of a sequence of N, the first 64 of them a
// static sink (MoA's cache), the rest the most recent keys. The plan mapping is
// docs/mask-plans.md's: streaming with sink_tokens 64 and window {alpha - 64, beta};
// exporting a plan reverses it (alpha = window tokens + sink, beta = window per token),
// so a MoA file imported and exported again is the same file.
#include <string>
#include <string_view>
#include <vector>

#include "analysis/export/model_shape.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/profile/span_rule.h"

namespace attnscope::exports {

inline constexpr int64_t kMoaSinkTokens = 64;
// MoA's smallest KV cache a head (64 sink + 64 recent tokens; FORMATS.md 2.1).
inline constexpr int64_t kMoaMinimumSpan = 128;

struct MoaRules {
  std::vector<std::vector<double>> alphas;  // [layer][query head], tokens
  std::vector<std::vector<double>> betas;   // [layer][query head], in [0, 1]
};

// One line, Python's json.dump layout (as MoA's examples). attnscope::Error for another
// shape than `shape`, a value that is not finite, or a beta outside [0, 1].
std::string moa_text(const MoaRules& rules, const ModelShape& shape);
// attnscope::Error naming `file` for text that is not a JSON object with the two lists,
// lists of another shape than the model's layers and query heads, an item that is not a
// number, or a beta outside [0, 1]. Other keys are ignored, as MoA's loader does.
MoaRules parse_moa(std::string_view text, const ModelShape& shape, const std::string& file);

// Dense heads become alpha 0, beta 1 (a span of the whole sequence); streaming heads
// alpha = window tokens + sink_tokens, beta = window per token. attnscope::Error naming
// the head for any other family or a density budget (no fixed span).
MoaRules moa_from_plan(const masks::MaskPlan& plan, const ModelShape& shape);
// Every head streaming with sink_tokens 64 and window {alpha - 64, beta}.
// attnscope::Error naming the head where that leaves no window (beta 0, alpha <= 64).
masks::MaskPlan moa_to_plan(const MoaRules& rules, const ModelShape& shape);

// Per head (layer-major) the span rule fitted to its spans at several lengths
// (profile/span_rule.h: least squares, beta clamped to [0, 1]). attnscope::Error naming
// the head when its samples have fewer than two distinct lengths.
MoaRules moa_from_span_samples(const std::vector<std::vector<profile::SpanSample>>& samples, const ModelShape& shape);

}  // namespace attnscope::exports
