#include "app/host/compute_device.h"

#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "kernels/cpu/cpu_backend.h"
#ifdef ATTNSCOPE_HAS_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace attnscope::host {
namespace {

constexpr uint64_t kUnknown = std::numeric_limits<uint64_t>::max();

// MemAvailable of /proc/meminfo: what the host can give without swapping.
uint64_t available_host_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return kUnknown;  // not Linux: no check
}

uint64_t available_device_memory([[maybe_unused]] const ComputeDevice& device) {
#ifdef ATTNSCOPE_HAS_CUDA
  if (device.target == model::ComputeTarget::Cuda) return kernels::free_device_memory(*device.backend);
#endif
  return available_host_memory();
}

std::string bytes_or_unknown(uint64_t bytes) {
  return bytes == kUnknown ? "an unknown amount" : model::format_bytes(bytes);
}

ComputeDevice cpu_device(int threads, std::string note) {
  ComputeDevice d;
  d.backend = kernels::make_cpu_backend(threads);
  d.name = d.backend->name();
  d.note = std::move(note);
  return d;
}

// "a run of N tokens needs 85.3 GiB on <device> (weights ..., KV cache ...); 78.6 GiB
// are free. The largest context that fits is M tokens; <hint>"
std::string shortage(const ComputeDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                     int64_t context_limit, std::string_view hint, uint64_t device_free, uint64_t host_free) {
  const model::MemoryEstimate e = model::estimate_memory(spec, options);
  const bool cuda = device.target == model::ComputeTarget::Cuda;
  std::ostringstream out;
  out << "a run of " << options.context_length << " tokens needs " << model::format_bytes(e.device()) << " on "
      << device.described() << " (weights " << model::format_bytes(e.weights) << ", KV cache "
      << model::format_bytes(e.kv_cache) << ", activations " << model::format_bytes(e.activations);
  if (cuda)
    out << ", capture pass " << model::format_bytes(e.capture_workspace) << ") and " << model::format_bytes(e.host())
        << " of host memory for the capture; " << bytes_or_unknown(device_free) << " are free on the device, "
        << bytes_or_unknown(host_free) << " on the host";
  else
    out << ", capture " << model::format_bytes(e.capture) << "); " << bytes_or_unknown(device_free) << " are free";
  const int64_t fits = model::largest_context_that_fits(spec, options, device_free, host_free, context_limit);
  if (fits > 0) {
    out << ". The largest context that fits is " << fits << " tokens";
    if (!hint.empty()) out << "; " << hint;
  } else {
    out << ". Not even one token fits: the weights alone need " << model::format_bytes(e.weights);
  }
  return out.str();
}

}  // namespace

DeviceChoice parse_device_choice(const std::string& text, bool allow_auto, const std::string& where) {
  if (text == "auto" && allow_auto) return DeviceChoice::Auto;
  if (text == "cpu") return DeviceChoice::Cpu;
  if (text == "cuda") return DeviceChoice::Cuda;
  throw Error(where, "'" + text + "' is not a device: use " + (allow_auto ? "auto, cpu or cuda" : "cpu or cuda"));
}

std::string_view device_choice_name(DeviceChoice choice) {
  switch (choice) {
    case DeviceChoice::Auto: return "auto";
    case DeviceChoice::Cpu: return "cpu";
    case DeviceChoice::Cuda: return "cuda";
  }
  return "?";
}

std::string ComputeDevice::described() const { return target == model::ComputeTarget::Cuda ? name : "the CPU"; }

std::string_view ComputeDevice::target_name() const { return target == model::ComputeTarget::Cuda ? "cuda" : "cpu"; }

bool build_has_cuda() {
#ifdef ATTNSCOPE_HAS_CUDA
  return true;
#else
  return false;
#endif
}

ComputeDevice open_compute_device(const DeviceRequest& request) {
  if (request.choice == DeviceChoice::Cpu) return cpu_device(request.cpu_threads, "");
#ifdef ATTNSCOPE_HAS_CUDA
  std::string why;
  if (kernels::cuda_device_available(&why)) {
    ComputeDevice d;
    d.backend = kernels::make_cuda_backend();
    d.target = model::ComputeTarget::Cuda;
    d.name = d.backend->name();
    return d;
  }
  if (request.choice == DeviceChoice::Cuda) throw Error(request.where, why);
  return cpu_device(request.cpu_threads, "no usable GPU: " + why);
#else
  if (request.choice == DeviceChoice::Cuda)
    throw Error(request.where, "this build of " + request.program +
                                   " has no CUDA backend (configure with -DATTNSCOPE_CUDA=ON "
                                   "where nvcc and cuBLAS are installed)");
  return cpu_device(request.cpu_threads, "");
#endif
}

int64_t default_prefill_chunk(model::ComputeTarget target) { return target == model::ComputeTarget::Cuda ? 4096 : 512; }

void check_run_fits(const ComputeDevice& device, const model::ModelSpec& spec, const model::MemoryEstimateOptions& options,
                    int64_t context_limit, std::string_view hint) {
  const uint64_t host_free = available_host_memory();
  const uint64_t device_free = available_device_memory(device);
  const model::MemoryEstimate e = model::estimate_memory(spec, options);
  if (e.device() <= device_free && e.host() <= host_free) return;
  throw Error("memory", shortage(device, spec, options, context_limit, hint, device_free, host_free));
}

void rethrow_out_of_memory(const OutOfMemory& error, const ComputeDevice& device, const model::ModelSpec& spec,
                           const model::MemoryEstimateOptions& options, int64_t context_limit, std::string_view hint) {
  // Measured after the failure, with the run's buffers released to the pool (which
  // counts as free), so it is what the run had to work with.
  const uint64_t host_free = available_host_memory();
  const uint64_t device_free = available_device_memory(device);
  throw Error("memory",
              error.problem() + ". " + shortage(device, spec, options, context_limit, hint, device_free, host_free));
}

uint64_t resident_memory() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  if (!(in >> pages >> resident)) return 0;
  return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

}  // namespace attnscope::host
