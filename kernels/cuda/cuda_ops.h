#pragma once
// The CUDA backend's operations as free functions over a CudaContext (one file per
// group), checked like the CPU backend's, then launched asynchronously on the context's
// stream. CudaBackend (cuda_backend.cpp) owns the per-op state and forwards to these.
// Weight upload is cuda_upload.h, linear is cuda_linear.h.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cuda/cuda_context.h"

namespace attnscope::kernels::cuda {

// Memory (cuda_memory.cpp).
Tensor allocate(const std::shared_ptr<CudaContext>& context, int64_t rows, int64_t cols);
std::vector<float> download(CudaContext& context, const Tensor& t);
void copy_rows(CudaContext& context, const Tensor& src, Tensor& dst, int64_t dst_row);

// Token ids on their way to the device: a pinned host buffer (so the copy is truly
// asynchronous) reused once its previous copy has finished, and a device buffer.
class IdsStaging {
 public:
  explicit IdsStaging(std::shared_ptr<CudaContext> context) : context_(std::move(context)) {}
  ~IdsStaging();
  IdsStaging(const IdsStaging&) = delete;
  IdsStaging& operator=(const IdsStaging&) = delete;
  // Copies ids to the device (stream-ordered); the pointer is valid until the next call.
  const int32_t* to_device(std::span<const int32_t> ids);

 private:
  std::shared_ptr<CudaContext> context_;
  int32_t* host_ = nullptr;
  int32_t* device_ = nullptr;
  std::size_t capacity_ = 0;
  cudaEvent_t copied_ = nullptr;
};
void embedding(CudaContext& context, IdsStaging& staging, const Tensor& table, std::span<const int32_t> ids,
               Tensor& out);

// Element-wise ops and norms (cuda_math_ops.cpp).
void swiglu(CudaContext& context, const Tensor& gate, const Tensor& up, Tensor& out);
void gelu_tanh(CudaContext& context, Tensor& x);
void add(CudaContext& context, const Tensor& a, const Tensor& b, Tensor& out);
void rms_norm(CudaContext& context, const Tensor& x, const Tensor& weight, float eps, Tensor& y);
void layer_norm(CudaContext& context, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y);

// The rope table's inverse frequencies on the device, uploaded again only when the
// table changes (the same table serves q and k of every layer).
class RopeFrequencies {
 public:
  explicit RopeFrequencies(std::shared_ptr<CudaContext> context) : context_(std::move(context)) {}
  ~RopeFrequencies();
  RopeFrequencies(const RopeFrequencies&) = delete;
  RopeFrequencies& operator=(const RopeFrequencies&) = delete;
  const float* to_device(const std::vector<float>& inv_freq);

 private:
  std::shared_ptr<CudaContext> context_;
  std::vector<float> host_;
  float* device_ = nullptr;
  std::size_t capacity_ = 0;
};
void rope(CudaContext& context, RopeFrequencies& frequencies, Tensor& x, int head_dim, int64_t first_position,
          const RopeTable& table);

}  // namespace attnscope::kernels::cuda
