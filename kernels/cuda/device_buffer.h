#pragma once
// A device allocation that only grows, for the scratch of the attention kernels'
// workspaces (CaptureWorkspace, SplitDecodeWorkspace): sized to the largest call seen and
// reused by every later call on the same stream. Growing frees the old allocation first
// (cudaFree waits for the device, so no launch still reads it). Out of device memory is
// attnscope::OutOfMemory naming the owner and the bytes; other failures attnscope::Error.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/error.h"

namespace attnscope::kernels::cuda::detail {

class DeviceBuffer {
 public:
  // `where` and `what` name the owner in errors ("attention capture pass", "capture results").
  DeviceBuffer(const char* where, const char* what) : where_(where), what_(what) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }

  // Room for `count` values of T (at least 16 bytes), keeping the allocation when it is
  // large enough. The contents are not kept when it grows.
  template <typename T>
  T* reserve(std::size_t count) {
    const std::size_t need = std::max<std::size_t>(count * sizeof(T), 16);
    if (need > bytes_) {
      if (data_ != nullptr) {
        const cudaError_t freed = cudaFree(data_);
        data_ = nullptr;
        bytes_ = 0;
        if (freed != cudaSuccess) throw Error(where_, std::string("cudaFree of ") + what_ + ": " + cudaGetErrorString(freed));
      }
      const cudaError_t status = cudaMalloc(&data_, need);
      if (status != cudaSuccess) {
        data_ = nullptr;
        const std::string problem = "cannot allocate " + std::to_string(need) + " bytes of device memory for " + what_ +
                                    " (" + cudaGetErrorString(status) + ")";
        if (status == cudaErrorMemoryAllocation) {
          cudaGetLastError();  // not sticky: the backend stays usable
          throw OutOfMemory(where_, problem);
        }
        throw Error(where_, problem);
      }
      bytes_ = need;
    }
    return static_cast<T*>(data_);
  }

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  const char* where_;
  const char* what_;
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace attnscope::kernels::cuda::detail
