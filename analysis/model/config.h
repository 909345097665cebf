#pragma once
// config.json -> ModelSpec. The architecture is recognised from "architectures" and
// "model_type"; the family adapter (architecture.h) reads its own keys.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/model/model_spec.h"

namespace attnscope::model {

// Reads and validates `config_json`. Throws attnscope::Error whose where() is the file
// and whose problem() names the key and what is wrong (missing, wrong type, not
// positive, unsupported option, unknown architecture).
ModelSpec load_config(const std::filesystem::path& config_json);

// The same from parsed JSON; `where` names the source in errors.
ModelSpec parse_config(const nlohmann::json& config, const std::string& where);

}  // namespace attnscope::model
