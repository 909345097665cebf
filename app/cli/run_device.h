#pragma once
// The backend a CLI run computes on (--device cpu|cuda, --threads) and the memory check
// before it starts, through the programs' shared compute device (app/host/compute_device.h)
// with the CLI's words: the options that bring the need down.
#include <cstdint>

#include "app/cli/arguments.h"
#include "app/host/compute_device.h"

namespace attnscope::cli {

using RunDevice = host::ComputeDevice;
using host::default_prefill_chunk;

// What the memory messages suggest besides a shorter context.
inline constexpr const char* kMemoryHint =
    "capturing fewer heads (--layers, --heads), a larger --pool-block or a smaller --chunk also helps";

// --device (cpu, the default, or cuda; --threads for the CPU). attnscope::Error when
// the build has no CUDA backend or no usable GPU exists, saying why.
RunDevice open_run_device(const Arguments& args);

// host::check_run_fits and host::rethrow_out_of_memory with kMemoryHint.
void check_run_fits(const RunDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                    int64_t context_limit);
[[noreturn]] void rethrow_out_of_memory(const OutOfMemory& error, const RunDevice& device, const model::ModelSpec& spec,
                                        const model::MemoryEstimateOptions& options, int64_t context_limit);

}  // namespace attnscope::cli
