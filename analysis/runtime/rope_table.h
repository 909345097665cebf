#pragma once
// Rotary inverse frequencies for a model, with the scaling types we support.
#include "analysis/model/model_spec.h"
#include "kernels/backend.h"

namespace attnscope::runtime {

// inv_freq[i] = theta^(-2i / rotary_dim), then scaled as transformers does for the
// "linear" (divide by factor) and "llama3" (wavelength-dependent) rope types.
kernels::RopeTable make_rope_table(const model::RopeSpec& rope, int rotary_dim);

}  // namespace attnscope::runtime
