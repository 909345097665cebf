#pragma once
// The backend a run computes on, for every program of the project (attnscope-cli, the
// desktop app, the plugin host): the CPU always; a CUDA GPU when the build has the CUDA
// backend and a usable device exists. Also the memory check before a run: the estimate
// of analysis/model/memory_estimate.h against what the device and the host have free,
// with the largest context that would fit when it does not.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "analysis/model/memory_estimate.h"
#include "kernels/backend.h"
#include "kernels/error.h"

namespace attnscope::host {

enum class DeviceChoice { Auto, Cpu, Cuda };

// "cpu", "cuda" and, with `allow_auto`, "auto". attnscope::Error(`where`, ...) naming the
// accepted words for anything else.
DeviceChoice parse_device_choice(const std::string& text, bool allow_auto = true, const std::string& where = "--device");

// "auto", "cpu", "cuda".
std::string_view device_choice_name(DeviceChoice choice);

struct DeviceRequest {
  DeviceChoice choice = DeviceChoice::Cpu;
  int cpu_threads = 0;                       // 0: every core
  std::string program = "attnscope";         // "this build of <program> has no CUDA backend"
  std::string where = "CUDA device";         // what errors about the GPU name ("--device cuda" in the CLI)
};

struct ComputeDevice {
  std::unique_ptr<kernels::Backend> backend;
  model::ComputeTarget target = model::ComputeTarget::Cpu;
  std::string name;  // the backend's name: "cpu (8 threads)" or the GPU's
  std::string note;  // why Auto fell back to the CPU, when it did

  // "the CPU" or the GPU's name: how messages about memory name the device.
  std::string described() const;
  // "cpu" or "cuda": what the store records.
  std::string_view target_name() const;
};

// Auto: CUDA when available, else the CPU (with the reason in `note`). Cuda:
// attnscope::Error(request.where, ...) saying why when no GPU can be used.
ComputeDevice open_compute_device(const DeviceRequest& request);

// Whether this build has the CUDA backend.
bool build_has_cuda();

// Default prefill chunk: 512 tokens on the CPU, 4096 on the GPU (larger GEMMs).
int64_t default_prefill_chunk(model::ComputeTarget target);

// Throws attnscope::Error("memory", ...) when `options` (its context_length: prompt plus
// generated tokens) does not fit the device or host memory, with the estimate, what is
// free and the largest context that fits (up to `context_limit`), followed by `hint`
// (what else helps, in the caller's words: options or settings).
void check_run_fits(const ComputeDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                    int64_t context_limit, std::string_view hint);

// The same message for an allocation that failed during the run anyway (the estimate
// is a model, and other processes share the device).
[[noreturn]] void rethrow_out_of_memory(const OutOfMemory& error, const ComputeDevice& device,
                                        const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                                        int64_t context_limit, std::string_view hint);

// Resident memory of this process (/proc/self/statm), 0 where unknown.
uint64_t resident_memory();

}  // namespace attnscope::host
