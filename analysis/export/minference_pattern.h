#pragma once
// MInference's best-pattern file (FORMATS.md 3.1): a JSON list with one object per layer
// mapping each query head, as a decimal string "0".."H-1", to [type, v, s, score]:
//   "vertical_and_slash"  v vertical lines (key columns), s slash lines (diagonals);
//                         at run time v is clamped to [30, N] and s to [50, N];
//   "stream_llm"          v sink tokens, s recent tokens (A-shape);
//   "block_sparse"        v and s ignored: each 64-row block keeps its top-100 key
//                         blocks by mean-pooled q . k;
//   score                 informational (the search's recall), discarded by the loader.
// Plan mapping: docs/mask-plans.md. docs/export-formats.md says how a profile maps.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/export/model_shape.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/profile/head_profile.h"

namespace attnscope::exports {

enum class MinferenceType { VerticalAndSlash, StreamLlm, BlockSparse };
std::string_view minference_type_name(MinferenceType type);  // "vertical_and_slash", ...

struct MinferenceHead {
  MinferenceType type = MinferenceType::VerticalAndSlash;
  int64_t v = 1000;  // MInference's default pair, for a head its file leaves out
  int64_t s = 6096;
  std::optional<double> score;  // written as null when unknown
  bool operator==(const MinferenceHead&) const = default;
};

// [layer][query head].
using MinferencePattern = std::vector<std::vector<MinferenceHead>>;

// One line and a line break (as MInference's shipped files), Python's json.dump layout,
// keys in head order. attnscope::Error for another
// shape, a negative v or s, or a score that is not finite.
std::string minference_text(const MinferencePattern& pattern, const ModelShape& shape);
// attnscope::Error naming `file` for a document that is not a list of one object per
// layer, a layer without a head or with a key that is not a head of the model, an entry
// that is not [type, int, int, number or null] with a known type, or v or s negative.
// MInference itself fills missing heads and layers with its default; we refuse them:
// a file that lacks them is usually one for another model.
MinferencePattern parse_minference(std::string_view text, const ModelShape& shape, const std::string& file);

// vertical_slash (with MInference's estimate: last_queries 64, kept_columns 30,
// kept_diagonals min(100, slash)) -> vertical_and_slash; streaming with a fixed window ->
// stream_llm; block_topk 64 x 100 mean-pooled -> block_sparse (written with the default
// v, s). attnscope::Error naming the head for any other mask. Scores are null.
MinferencePattern minference_from_plan(const masks::MaskPlan& plan, const ModelShape& shape);

// From the profile's pattern classes (docs/export-formats.md): local and a_shape ->
// stream_llm with `stream`, vertical_slash and dense -> vertical_and_slash with
// `vertical_slash`, block_sparse -> block_sparse. Scores null (the store keeps the
// class, not the recall of MInference's candidate). attnscope::Error naming the first
// head without a class.
struct MinferenceProfileOptions {
  std::pair<int64_t, int64_t> stream{100, 800};           // MInference's stream_llm candidate
  std::pair<int64_t, int64_t> vertical_slash{1000, 6096};  // its default pair
};
MinferencePattern minference_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                                          const MinferenceProfileOptions& options = {});

// docs/mask-plans.md: vertical_and_slash -> vertical_slash with vertical max(v, 30), slash
// max(s, 50) (MInference's clamps), kept_diagonals min(100, slash); stream_llm ->
// streaming (sink v, window s, at least 1); block_sparse -> block_topk 64 x 100
// mean-pooled.
masks::MaskPlan minference_to_plan(const MinferencePattern& pattern, const ModelShape& shape);

}  // namespace attnscope::exports
