#pragma once
// The backend a session computes on and the memory check before a run: the programs'
// shared compute device (app/host/compute_device.h) with the desktop app's words.
#include <cstdint>
#include <string>

#include "app/host/compute_device.h"

namespace attnscope::gui {

using host::build_has_cuda;
using host::ComputeDevice;
using host::default_prefill_chunk;
using host::DeviceChoice;
using host::resident_memory;

// "auto", "cpu", "cuda"; attnscope::Error("--device", ...) for anything else.
DeviceChoice parse_device_choice(const std::string& text);

// Auto: CUDA when available, else the CPU (with the reason in `note`). Cuda:
// attnscope::Error("CUDA device", ...) saying why when no GPU can be used.
ComputeDevice open_compute_device(DeviceChoice choice);

// Throws attnscope::Error("memory", ...) when `options` does not fit what the device
// and the host have free, naming the estimate, what is free and the largest context
// that would fit.
void check_run_fits(const ComputeDevice& device, const model::ModelSpec& spec,
                    const model::MemoryEstimateOptions& options);

}  // namespace attnscope::gui
