#pragma once
// RazorAttention's retrieval-head file as Huawei's golden-stick writes and reads it
// (FORMATS.md 6.8): {"<layer>": [KV head, ...], ...} with json.dump(indent=3), only the
// layers that have heads; deployment reads head_dict.get(str(layer), []), keeps the full
// cache of the listed KV heads and sink_size 4 + local_capacity 256 tokens of the others.
// Heads are selected from echo and induction scores reduced to KV heads by max: the
// top echo_ratio and the top induction_ratio of all KV heads, the union of both (written
// by us: golden-stick's union stops after the first layer, a bug).
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/export/model_shape.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/profile/head_profile.h"

namespace attnscope::exports {

// Layer -> its retrieval KV heads (ascending, unique); layers without heads are absent.
using RazorHeads = std::map<int, std::vector<int>>;

// indent=3, layers ascending. attnscope::Error for a layer or KV head outside `shape`.
std::string razor_text(const RazorHeads& heads, const ModelShape& shape);
// attnscope::Error naming `file` for a document that is not one object, a key that is
// not a decimal layer of the model, a value that is not a list of integer KV heads of
// the model, or a head listed twice.
RazorHeads parse_razor(std::string_view text, const ModelShape& shape, const std::string& file);

struct RazorSelection {
  double echo_ratio = 0.01;       // golden-stick's echo_head_ratio
  double induction_ratio = 0.14;  // its induction_head_ratio
};
// golden-stick's _select_top_heads on the profile's echo_score and induction_score
// (per query head, reduced to KV heads by max): k = round(n ratio) (Python's round:
// half to even) and every KV head whose score is among the k largest values (ties at
// the cut all kept). attnscope::Error naming the first head without a score, or a ratio
// outside [0, 1].
RazorHeads razor_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                              const RazorSelection& selection = {});

struct RazorDeployment {
  int64_t sink_tokens = 4;      // golden-stick's sink_size
  int64_t local_tokens = 256;   // its local_capacity
};
// The listed KV heads' query groups dense, every other head streaming.
masks::MaskPlan razor_to_plan(const RazorHeads& heads, const ModelShape& shape, const RazorDeployment& deployment = {});

}  // namespace attnscope::exports
