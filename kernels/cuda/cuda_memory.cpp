// The ops that only move data: allocation (zero-filled), download to host float32,
// embedding lookup and KV-cache row copies.
#include <cstring>
#include <string>

#include "kernels/cuda/cuda_checks.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {

Tensor allocate(const std::shared_ptr<CudaContext>& context, int64_t rows, int64_t cols) {
  context->activate();
  Tensor t = new_device_tensor(context, rows, cols, "allocate");
  const std::size_t bytes = std::size_t(rows * cols) * dtype_size(t.dtype());
  if (bytes > 0)
    check_cuda(cudaMemsetAsync(t.data<char>(), 0, bytes, context->stream()), "allocate", "cudaMemsetAsync");
  context->finish("allocate");
  return t;
}

std::vector<float> download(CudaContext& context, const Tensor& t) {
  constexpr const char* op = "download";
  require_device(op, "tensor", t, context.dtype());
  context.activate();
  std::vector<float> host(std::size_t(t.elements()));
  if (host.empty()) return host;
  const std::size_t bytes = host.size() * sizeof(float);
  ScratchBuffer f32(context, bytes, op, "a float32 copy of " + describe(t));
  launch_to_f32(t, f32.as<float>(), context.stream());
  check_cuda(cudaMemcpyAsync(host.data(), f32.as<float>(), bytes, cudaMemcpyDeviceToHost, context.stream()), op,
             "cudaMemcpyAsync");
  context.synchronize(op);
  return host;
}

void copy_rows(CudaContext& context, const Tensor& src, Tensor& dst, int64_t dst_row) {
  constexpr const char* op = "copy_rows";
  require_device(op, "src", src, context.dtype());
  require_device(op, "dst", dst, context.dtype());
  if (src.cols() != dst.cols() || dst_row < 0 || dst_row + src.rows() > dst.rows())
    throw Error(op,
                "src " + describe(src) + " does not fit dst " + describe(dst) + " at row " + std::to_string(dst_row));
  if (overlaps(src, dst.row_slice(dst_row, src.rows())))
    throw Error(op, "src " + describe(src) + " overlaps its destination rows");
  if (src.elements() == 0) return;
  context.activate();
  const std::size_t element = dtype_size(src.dtype());
  // A strided 2-D copy: k and v are column views of the fused qkv tensor.
  check_cuda(cudaMemcpy2DAsync(dst.data<char>() + dst_row * dst.row_stride() * int64_t(element),
                               std::size_t(dst.row_stride()) * element, src.data<char>(),
                               std::size_t(src.row_stride()) * element, std::size_t(src.cols()) * element,
                               std::size_t(src.rows()), cudaMemcpyDeviceToDevice, context.stream()),
             op, "cudaMemcpy2DAsync");
  context.finish(op);
}

IdsStaging::~IdsStaging() {
  if (copied_ != nullptr) {
    cudaEventSynchronize(copied_);
    cudaEventDestroy(copied_);
  }
  if (host_ != nullptr) cudaFreeHost(host_);
  context_->release(device_, capacity_ * sizeof(int32_t));
}

const int32_t* IdsStaging::to_device(std::span<const int32_t> ids) {
  constexpr const char* op = "embedding";
  if (copied_ == nullptr) check_cuda(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming), op, "cudaEventCreate");
  // The previous copy must have left the pinned buffer before we overwrite it.
  check_cuda(cudaEventSynchronize(copied_), op, "cudaEventSynchronize");
  if (ids.size() > capacity_) {
    const std::size_t capacity = std::max<std::size_t>(ids.size(), 4096);
    if (host_ != nullptr) check_cuda(cudaFreeHost(host_), op, "cudaFreeHost");
    host_ = nullptr;
    context_->release(device_, capacity_ * sizeof(int32_t));
    device_ = nullptr;
    capacity_ = 0;
    check_cuda(cudaHostAlloc(reinterpret_cast<void**>(&host_), capacity * sizeof(int32_t), cudaHostAllocDefault), op,
               "cudaHostAlloc of " + std::to_string(capacity * sizeof(int32_t)) + " pinned bytes for token ids");
    device_ = static_cast<int32_t*>(context_->allocate(capacity * sizeof(int32_t), op, "token ids"));
    capacity_ = capacity;
  }
  std::memcpy(host_, ids.data(), ids.size_bytes());
  check_cuda(cudaMemcpyAsync(device_, host_, ids.size_bytes(), cudaMemcpyHostToDevice, context_->stream()), op,
             "cudaMemcpyAsync");
  check_cuda(cudaEventRecord(copied_, context_->stream()), op, "cudaEventRecord");
  return device_;
}

void embedding(CudaContext& context, IdsStaging& staging, const Tensor& table, std::span<const int32_t> ids,
               Tensor& out) {
  constexpr const char* op = "embedding";
  require_device(op, "table", table, context.dtype());
  require_device(op, "out", out, context.dtype());
  const int64_t n = int64_t(ids.size());
  if (out.rows() != n || out.cols() != table.cols())
    throw Error(op, "out " + describe(out) + " does not fit " + std::to_string(n) + " ids of table " + describe(table));
  for (int64_t i = 0; i < n; ++i)
    if (ids[std::size_t(i)] < 0 || ids[std::size_t(i)] >= table.rows())
      throw Error(op, "id " + std::to_string(ids[std::size_t(i)]) + " at index " + std::to_string(i) +
                          " is outside table " + describe(table));
  if (overlaps(table, out)) throw Error(op, "out " + describe(out) + " overlaps the table");
  if (n == 0) return;
  context.activate();
  launch_gather_rows(table, staging.to_device(ids), out, context.stream());
  context.finish(op);
}

}  // namespace attnscope::kernels::cuda
