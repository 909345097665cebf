// CudaContext: device selection, the backend's stream and its memory pool.
//
// Allocation goes through a private cudaMemPool with an unlimited release threshold:
// the transformer allocates its activations per op and per chunk, and the pool turns
// those into reuse of cached memory in stream order instead of cudaMalloc/cudaFree
// (which synchronise the device). Devices without pool support fall back to cudaMalloc.
#include "kernels/cuda/cuda_context.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

std::string gib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(1ull << 30));
  return text;
}

}  // namespace

void check_cuda(cudaError_t status, std::string_view op, std::string_view call) {
  if (status == cudaSuccess) return;
  if (status == cudaErrorMemoryAllocation) {
    // Every allocation failure is the one error the callers turn into "what would fit";
    // it is not sticky, so clear it and the backend goes on.
    cudaGetLastError();
    throw OutOfMemory(std::string(op), std::string(call) + " failed: out of memory (" + cudaGetErrorName(status) + ")");
  }
  throw Error(std::string(op),
              std::string(call) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

void check_launch(std::string_view op) { check_cuda(cudaGetLastError(), op, "kernel launch"); }

CudaContext::CudaContext(const CudaBackendOptions& options)
    : device_(options.device), dtype_(options.dtype), synchronous_(options.synchronous) {
  constexpr std::string_view op = "cuda backend";
  if (dtype_ != DType::BF16 && dtype_ != DType::F16)
    throw Error(std::string(op), "compute type " + std::string(dtype_name(dtype_)) + " is not BF16 or F16");
  std::string why;
  if (!cuda_device_available(&why, device_)) throw Error(std::string(op), why);
  activate();
  cudaDeviceProp props{};
  check_cuda(cudaGetDeviceProperties(&props, device_), op, "cudaGetDeviceProperties");
  device_name_ = props.name;
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), op, "cudaStreamCreate");
  try {
    int pools = 0;
    check_cuda(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device_), op, "cudaDeviceGetAttribute");
    if (pools != 0) {
      cudaMemPoolProps pool_props{};
      pool_props.allocType = cudaMemAllocationTypePinned;
      pool_props.location.type = cudaMemLocationTypeDevice;
      pool_props.location.id = device_;
      check_cuda(cudaMemPoolCreate(&pool_, &pool_props), op, "cudaMemPoolCreate");
      // Keep freed memory cached: returning it to the driver at every synchronisation
      // would bring back the cudaMalloc cost per chunk.
      uint64_t keep = UINT64_MAX;
      check_cuda(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep), op, "cudaMemPoolSetAttribute");
    }
  } catch (...) {
    if (pool_ != nullptr) cudaMemPoolDestroy(pool_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

CudaContext::~CudaContext() {
  // Every tensor is gone (they hold this context); finish their frees, then tear down.
  cudaSetDevice(device_);
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (pool_ != nullptr) cudaMemPoolDestroy(pool_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaContext::activate() const { check_cuda(cudaSetDevice(device_), "cuda backend", "cudaSetDevice"); }

void* CudaContext::allocate(std::size_t bytes, std::string_view op, const std::string& what) {
  void* data = nullptr;
  const std::size_t size = bytes > 0 ? bytes : 1;
  cudaError_t status =
      pool_ != nullptr ? cudaMallocFromPoolAsync(&data, size, pool_, stream_) : cudaMalloc(&data, size);
  if (status == cudaErrorMemoryAllocation && pool_ != nullptr) {
    // Cached blocks may be too fragmented for this request: hand them back and retry once.
    cudaGetLastError();
    check_cuda(cudaStreamSynchronize(stream_), op, "cudaStreamSynchronize");
    check_cuda(cudaMemPoolTrimTo(pool_, 0), op, "cudaMemPoolTrimTo");
    status = cudaMallocFromPoolAsync(&data, size, pool_, stream_);
  }
  if (status != cudaSuccess) {
    cudaGetLastError();  // an allocation failure is not sticky: do not leave it to the next call
    const CudaMemoryInfo m = memory_info();
    throw OutOfMemory(std::string(op), "cannot allocate " + what + ": " + std::to_string(bytes) + " bytes (" +
                                           gib(bytes) + ") on device " + std::to_string(device_) + " (" + device_name_ +
                                           "), which has " + gib(m.free) + " free of " + gib(m.total) +
                                           "; this backend holds " + gib(m.backend_used) + " in tensors and " +
                                           gib(m.backend_cached) + " cached (" + cudaGetErrorName(status) + ": " +
                                           cudaGetErrorString(status) + ")");
  }
  if (pool_ == nullptr) {
    used_ += size;
    peak_used_ = std::max(peak_used_, used_);
  }
  return data;
}

void CudaContext::release(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) return;
  if (pool_ != nullptr) {
    cudaFreeAsync(data, stream_);
  } else {
    cudaFree(data);
    used_ -= bytes > 0 ? bytes : 1;
  }
}

void CudaContext::synchronize(std::string_view op) const {
  check_cuda(cudaStreamSynchronize(stream_), op, "an earlier asynchronous operation (cudaStreamSynchronize)");
}

CudaMemoryInfo CudaContext::memory_info() const {
  CudaMemoryInfo m;
  cudaSetDevice(device_);
  if (cudaMemGetInfo(&m.free, &m.total) != cudaSuccess) cudaGetLastError();
  if (pool_ != nullptr) {
    uint64_t reserved = 0, used = 0, peak = 0;
    cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved);
    cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used);
    cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemHigh, &peak);
    m.backend_used = std::size_t(used);
    m.backend_cached = std::size_t(reserved - used);
    // After a reset the mark reads 0 until the next allocation; never report below current use.
    m.backend_peak = std::max(std::size_t(peak), m.backend_used);
  } else {
    m.backend_used = used_;
    m.backend_peak = peak_used_;
  }
  return m;
}

void CudaContext::reset_memory_peak() {
  if (pool_ != nullptr) {
    uint64_t zero = 0;  // the driver accepts only 0: the mark restarts at the current use
    check_cuda(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrUsedMemHigh, &zero), "reset_cuda_memory_peak",
               "cudaMemPoolSetAttribute");
  } else {
    peak_used_ = used_;
  }
}

Tensor new_device_tensor(const std::shared_ptr<CudaContext>& context, int64_t rows, int64_t cols, std::string_view op) {
  if (rows < 0 || cols < 0)
    throw Error(std::string(op), "negative shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  const std::size_t bytes = std::size_t(rows) * std::size_t(cols) * dtype_size(context->dtype());
  const std::string what = "a [" + std::to_string(rows) + ", " + std::to_string(cols) + "] " +
                           std::string(dtype_name(context->dtype())) + " tensor";
  void* data = context->allocate(bytes, op, what);
  std::shared_ptr<Buffer> buffer(new Buffer{data, bytes, Device::Cuda}, [context](Buffer* b) {
    context->release(b->data, b->bytes);
    delete b;
  });
  return Tensor(std::move(buffer), context->dtype(), rows, cols);
}

}  // namespace attnscope::kernels::cuda
