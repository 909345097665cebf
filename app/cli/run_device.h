#pragma once
// The backend a run computes on (--device cpu|cuda) and the memory check before it
// starts: the estimate of analysis/model/memory_estimate.h against what the device
// and the host have free, with the largest context that would fit when it does not.
#include <cstdint>
#include <memory>
#include <string>

#include "analysis/model/memory_estimate.h"
#include "app/cli/arguments.h"
#include "kernels/backend.h"
#include "kernels/error.h"

namespace attnscope::cli {

struct RunDevice {
  std::unique_ptr<kernels::Backend> backend;
  model::ComputeTarget target = model::ComputeTarget::Cpu;
  std::string name;  // "the CPU" or the GPU's name, for messages
};

// --device (cpu, the default, or cuda; --threads for the CPU). attnscope::Error when
// the build has no CUDA backend or no usable GPU exists, saying why.
RunDevice open_run_device(const Arguments& args);

// Default prefill chunk: 512 tokens on the CPU, 4096 on the GPU (larger GEMMs).
int64_t default_prefill_chunk(model::ComputeTarget target);

// Throws attnscope::Error("memory", ...) when `options` (its context_length: prompt plus
// generated tokens) does not fit the device or host memory, with the estimate, what is
// free and the largest context that fits (up to `context_limit`).
void check_run_fits(const RunDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                    int64_t context_limit);

// The same message for an allocation that failed during the run anyway (the estimate
// is a model, and other processes share the device).
[[noreturn]] void rethrow_out_of_memory(const OutOfMemory& error, const RunDevice& device, const model::ModelSpec& spec,
                                        const model::MemoryEstimateOptions& options, int64_t context_limit);

}  // namespace attnscope::cli
