#pragma once
// What every CUDA op of one backend shares: the device, the stream, the compute type
// and the memory pool. Tensors keep the context alive through their buffers' deleters,
// so a tensor may outlive its backend and still be freed on the right stream.
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/tensor.h"

namespace attnscope::kernels::cuda {

// Throws attnscope::Error(op, "<call>: <CUDA's message>") unless status is cudaSuccess.
// attnscope::OutOfMemory for cudaErrorMemoryAllocation (the request's size belongs in `call`).
void check_cuda(cudaError_t status, std::string_view op, std::string_view call);
// After a kernel launch: throws for a launch error (bad configuration, no kernel image).
void check_launch(std::string_view op);

class CudaContext {
 public:
  explicit CudaContext(const CudaBackendOptions& options);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  DType dtype() const { return dtype_; }
  cudaStream_t stream() const { return stream_; }
  const std::string& device_name() const { return device_name_; }
  bool synchronous() const { return synchronous_; }

  // Makes this context's device current for the calling thread (cheap).
  void activate() const;
  // Stream-ordered device memory; on failure an Error stating the bytes asked for and
  // the device's free and total memory. Release never throws (it runs in deleters).
  void* allocate(std::size_t bytes, std::string_view op, const std::string& what);
  void release(void* data, std::size_t bytes) noexcept;
  // Waits for the stream; throws with `op` named when earlier asynchronous work failed.
  void synchronize(std::string_view op) const;
  // Called at the end of every op: synchronises when the options ask for it.
  void finish(std::string_view op) const {
    if (synchronous_) synchronize(op);
  }

  CudaMemoryInfo memory_info() const;
  // Restarts memory_info().backend_peak at what live tensors hold now.
  void reset_memory_peak();

 private:
  int device_ = 0;
  DType dtype_ = DType::BF16;
  bool synchronous_ = false;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  cudaMemPool_t pool_ = nullptr;  // null where the device has no memory pools (cudaMalloc then)
  std::size_t used_ = 0;          // bytes in live allocations (only without a pool)
  std::size_t peak_used_ = 0;     // most of used_ since the last reset (only without a pool)
};

// An uninitialised [rows, cols] tensor of the context's compute type whose buffer is
// returned to the context's pool when the last view of it goes.
Tensor new_device_tensor(const std::shared_ptr<CudaContext>& context, int64_t rows, int64_t cols, std::string_view op);

// A device allocation for scratch data of one op, released (stream-ordered) on scope exit.
class ScratchBuffer {
 public:
  ScratchBuffer(CudaContext& context, std::size_t bytes, std::string_view op, const std::string& what)
      : context_(context), bytes_(bytes), data_(context.allocate(bytes, op, what)) {}
  ~ScratchBuffer() { context_.release(data_, bytes_); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  CudaContext& context_;
  std::size_t bytes_;
  void* data_;
};

}  // namespace attnscope::kernels::cuda
