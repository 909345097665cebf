#include "analysis/profile/profile_memory.h"

#include <algorithm>

namespace attnscope::profile {

model::MemoryEstimateOptions job_memory_options(const ProfileJobSpec& spec, const model::ModelSpec& model,
                                                model::ComputeTarget target) {
  int64_t longest = spec.streaming.length;
  for (int64_t length : spec.lengths) longest = std::max(longest, length + spec.max_new_tokens);
  model::MemoryEstimateOptions memory;
  memory.context_length = std::clamp<int64_t>(longest, 1, model.max_position_embeddings);
  memory.target = target;
  memory.prefill_chunk = spec.prefill_chunk;
  memory.captured_heads = int64_t(model.num_layers) * model.num_heads;
  memory.capture = spec.capture;
  return memory;
}

}  // namespace attnscope::profile
