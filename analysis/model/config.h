#pragma once
// config.json -> ModelSpec. The architecture is recognised from "architectures" and
// "model_type"; the family adapter (architecture.h) reads its own keys.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/model/model_spec.h"

namespace attnscope::model {

// Sizes beyond these are refused (config.json comes from anywhere): each is far above
// any published model, and within them every count, product and allocation derived from
// the config (the tensors it implies, the parameter count, per-head plans and captures)
// stays in range.
inline constexpr int kMaxLayers = 1024;
inline constexpr int kMaxHeads = 1024;       // query heads (and so KV heads)
inline constexpr int kMaxHeadDim = 4096;
inline constexpr int64_t kMaxVocabulary = (int64_t(1) << 31) - 1;  // token ids are int32
inline constexpr int64_t kMaxPositions = int64_t(1) << 32;
inline constexpr int64_t kMaxParameters = int64_t(1) << 50;         // 1.1e15

// Reads and validates `config_json`. Throws attnscope::Error whose where() is the file
// and whose problem() names the key and what is wrong (missing, wrong type, not
// positive, unsupported option, unknown architecture).
ModelSpec load_config(const std::filesystem::path& config_json);

// The same from parsed JSON; `where` names the source in errors.
ModelSpec parse_config(const nlohmann::json& config, const std::string& where);

}  // namespace attnscope::model
