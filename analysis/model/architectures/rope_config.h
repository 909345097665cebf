#pragma once
// Rotary-embedding settings from config.json, in either spelling transformers writes:
// rope_theta + rope_scaling (up to 4.x) or rope_parameters {rope_type, rope_theta, ...} (5.x).
#include "analysis/model/config_reader.h"
#include "analysis/model/model_spec.h"

namespace attnscope::model {

// Throws attnscope::Error naming the key for a missing factor or an unsupported rope_type.
RopeSpec read_rope_config(const ConfigReader& config);

}  // namespace attnscope::model
