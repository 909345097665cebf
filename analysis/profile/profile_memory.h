#pragma once
// The memory a profiling job needs, for the check before it runs (memory_estimate.h):
// its longest forward (the longest prompt with the answer's tokens, or the streaming
// probe), every head captured, in the job's prefill chunks. The CLI, the desktop app and
// the plugin host check a job with it before they start one.
#include "analysis/model/memory_estimate.h"
#include "analysis/model/model_spec.h"
#include "analysis/profile/profile_job_spec.h"

namespace attnscope::profile {

model::MemoryEstimateOptions job_memory_options(const ProfileJobSpec& spec, const model::ModelSpec& model,
                                                model::ComputeTarget target);

}  // namespace attnscope::profile
