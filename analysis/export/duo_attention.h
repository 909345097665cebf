#pragma once
// DuoAttention's attention pattern (FORMATS.md 1): a directory with
//   full_attention_heads.tsv  one row per layer, one column per KV head, the gate in
//                             [0, 1] as NumPy's savetxt writes it ("%.18e", tabs, "\n",
//                             no header);
//   config.json               one line, no newline at the end; the loader reads only the
//                             integers sink_size and recent_size.
// Ours: the gate is the profile's streaming_gate reduced over each KV group (max by
// default, mean on request); an imported pattern becomes a plan the mask lab evaluates.
// docs/export-formats.md.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/export/model_shape.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/profile/head_profile.h"

namespace attnscope::exports {

inline constexpr std::string_view kDuoGatesFile = "full_attention_heads.tsv";
inline constexpr std::string_view kDuoConfigFile = "config.json";
// DuoAttention writes its gates after the optimizer step that follows the clamp, so
// values a little below 0 occur (-1.4e-3 in Llama-2-7B-32K's file); the loader clips to
// [0, 1]. We clip values within this distance of [0, 1] and refuse any farther out.
inline constexpr double kDuoGateTolerance = 0.01;

struct DuoPattern {
  std::vector<std::vector<double>> gates;  // [layer][KV head], in [0, 1]
  int64_t sink_size = 128;                 // DuoAttention's training values, as its shipped files hold
  int64_t recent_size = 256;
  // Every key of config.json. The writer puts sink_size and recent_size in it; the
  // reader keeps what the file had (a shipped file holds all its training arguments).
  nlohmann::ordered_json config = nlohmann::ordered_json::object();
};

// The two files' texts. attnscope::Error for a pattern of another shape than `shape`.
std::string duo_gates_text(const DuoPattern& pattern, const ModelShape& shape);
std::string duo_config_text(const DuoPattern& pattern);
// Creates `directory` and writes both files.
void write_duo_directory(const DuoPattern& pattern, const ModelShape& shape, const std::filesystem::path& directory);

// The readers, on the texts (file names for messages). attnscope::Error naming the file
// for a row or column count unlike the model's layers / KV heads, a field that is not a
// number, NaN, a value outside [0, 1] by more than kDuoGateTolerance, or a config that
// is not one JSON object with integer sink_size >= 0 and recent_size >= 1.
DuoPattern parse_duo_pattern(std::string_view gates_text, std::string_view config_text, const ModelShape& shape,
                             const std::string& gates_file, const std::string& config_file);
DuoPattern read_duo_directory(const std::filesystem::path& directory, const ModelShape& shape);

// From a profile per query head (metric streaming_gate, every head needed): each KV head
// gets its group's max (or mean). attnscope::Error naming the first head without a gate.
DuoPattern duo_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                            profile::KvReduction reduction = profile::KvReduction::Max);

// From a plan: a KV group whose query heads are all dense has gate 1, all streaming 0;
// every streaming head must share one sink and a fixed window (the config's sizes).
// attnscope::Error naming the head for any other family or a group that mixes.
DuoPattern duo_from_plan(const masks::MaskPlan& plan, const ModelShape& shape);

// Which KV heads stay full, as DuoAttention's sparsify_attention_heads decides: with
// `sparsity` s the ceil((n - 1) s) lowest gates of the n (the count of values strictly
// below NumPy's linear s-quantile when the gates are distinct) become streaming
// (s >= 1: all; s <= 0: none); with `threshold` t the gates below t do. In place of the
// original's random tie noise, equal gates go streaming in layer-major order.
struct DuoSelection {
  std::optional<double> sparsity = 0.5;  // DuoAttention README's
  std::optional<double> threshold;       // used when set (sparsity is then ignored)
};
// [layer][KV head]: true for full (retrieval) heads.
std::vector<std::vector<bool>> duo_full_heads(const DuoPattern& pattern, const DuoSelection& selection);
// Full KV groups dense, the others streaming with the pattern's sink_size and
// recent_size (mask-plans.md's DuoAttention mapping).
masks::MaskPlan duo_to_plan(const DuoPattern& pattern, const ModelShape& shape, const DuoSelection& selection);

}  // namespace attnscope::exports
