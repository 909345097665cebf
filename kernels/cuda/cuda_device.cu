// cuda_device_available: whether a device exists, is sm_80 or newer, and this build
// holds machine code for it. The last check matters because cubins run only on their
// own major architecture: an sm_80/sm_90 build has no kernels for sm_100 or sm_120.
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_backend.h"

#ifndef ATTNSCOPE_CUDA_ARCHITECTURES_LIST
#define ATTNSCOPE_CUDA_ARCHITECTURES_LIST "?"
#endif

namespace attnscope::kernels {
namespace {

__global__ void probe_kernel() {}

bool fail(std::string* why, std::string reason) {
  cudaGetLastError();  // leave no error behind for the next caller
  if (why != nullptr) *why = std::move(reason);
  return false;
}

}  // namespace

bool cuda_device_available(std::string* why, int device) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    return fail(why, std::string("no usable CUDA driver or device (") + cudaGetErrorString(status) + ")");
  if (device < 0 || device >= count)
    return fail(why, "no CUDA device " + std::to_string(device) + " (" + std::to_string(count) + " found)");
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  const std::string capability = std::to_string(major) + "." + std::to_string(minor);
  if (major < 8)
    return fail(why, "CUDA device " + std::to_string(device) + " has compute capability " + capability +
                         "; the CUDA backend needs 8.0 (Ampere) or newer");
  int previous = 0;
  cudaGetDevice(&previous);
  if ((status = cudaSetDevice(device)) != cudaSuccess)
    return fail(why, std::string("cannot use CUDA device: ") + cudaGetErrorString(status));
  cudaFuncAttributes attributes{};
  status = cudaFuncGetAttributes(&attributes, probe_kernel);
  cudaSetDevice(previous);
  if (status != cudaSuccess)
    return fail(why, "this build has no kernels for compute capability " + capability + " (built for " +
                         ATTNSCOPE_CUDA_ARCHITECTURES_LIST + "; configure with -DATTNSCOPE_CUDA_ARCHITECTURES=" +
                         std::to_string(major) + std::to_string(minor) + "-real): " + cudaGetErrorString(status));
  return true;
}

}  // namespace attnscope::kernels
