#include "bench/bench_device.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#ifdef ATTNSCOPE_HAS_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace attnscope::bench {
namespace {

double gib(double bytes) { return bytes / double(1ull << 30); }

// A "Name:   123 kB" line of /proc/self/status, in bytes; -1 where it is missing.
double status_bytes(const std::string& name) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, name.size() + 1, name + ":") != 0) continue;
    std::istringstream fields(line.substr(name.size() + 1));
    double kib = 0;
    if (fields >> kib) return kib * 1024.0;
  }
  return -1;
}

std::unique_ptr<kernels::Backend> open_backend(const std::string& name) {
  if (name == "cpu") return kernels::make_cpu_backend();
  if (name == "cuda") {
#ifdef ATTNSCOPE_HAS_CUDA
    std::string why;
    if (!kernels::cuda_device_available(&why)) throw Error("--device cuda", why);
    kernels::CudaBackendOptions options;
    options.dtype = kernels::DType::BF16;
    return kernels::make_cuda_backend(options);
#else
    throw Error("--device cuda",
                "this build has no CUDA backend (configure with -DATTNSCOPE_CUDA=ON on a machine with nvcc)");
#endif
  }
  throw Error("--device", "\"" + name + "\" is not a device: use cpu or cuda");
}

}  // namespace

BenchDevice::BenchDevice(const std::string& name) : name_(name), backend_(open_backend(name)) {}

void BenchDevice::reset_peak() {
#ifdef ATTNSCOPE_HAS_CUDA
  if (is_cuda()) kernels::reset_cuda_memory_peak(*backend_);
#endif
  // "5" restarts VmHWM at the current resident set (Linux 4.0+); without it the peak
  // stays the process's, which is still a true upper bound.
  std::ofstream("/proc/self/clear_refs") << "5";
}

std::string BenchDevice::memory_json() const {
  std::string json;
  char text[256];
#ifdef ATTNSCOPE_HAS_CUDA
  if (is_cuda()) {
    const kernels::CudaMemoryInfo m = kernels::cuda_memory_info(*backend_);
    // device_peak: the most live tensors held (weights, KV cache, activations, capture
    // buffers); device_used: all memory in use on the GPU, the CUDA context and cuBLAS
    // included (and other processes, if any).
    std::snprintf(text, sizeof text,
                  ", \"device_peak_gib\": %.3f, \"device_pool_gib\": %.3f, \"device_used_gib\": %.3f, "
                  "\"device_total_gib\": %.3f",
                  gib(double(m.backend_peak)), gib(double(m.backend_used + m.backend_cached)),
                  gib(double(m.total - m.free)), gib(double(m.total)));
    json += text;
  }
#endif
  // RssAnon: what the program allocated, without the checkpoint's file-backed pages.
  std::snprintf(text, sizeof text, ", \"host_rss_gib\": %.3f, \"host_peak_rss_gib\": %.3f, \"host_anon_rss_gib\": %.3f",
                gib(status_bytes("VmRSS")), gib(status_bytes("VmHWM")), gib(status_bytes("RssAnon")));
  json += text;
  return json;
}

}  // namespace attnscope::bench
