// DeviceKeySums (capture_device_sums.h): fp64 per-key sums on the device and the kernel
// that folds a call's fp32 sums into them. The kernel is memory-bound and tiny next to
// the capture pass (per call: one read of the fp32 sums, one read-modify-write of the
// doubles over the keys the call touched).
#include <algorithm>
#include <string>

#include "kernels/cuda/capture_device_sums.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "attention capture";
constexpr int kThreads = 256;

// blockIdx.y: the slot (head); blockIdx.z: 0 columns over [column_begin, column_end),
// 1 diagonals over [0, distance_end). A plain add: no contraction, the host's rounding.
__global__ void add_key_sums_kernel(const float* __restrict__ partial_columns,
                                    const float* __restrict__ partial_diagonals, int64_t partial_stride,
                                    double* __restrict__ columns, double* __restrict__ diagonals, int64_t stride,
                                    int64_t column_begin, int64_t column_end, int64_t distance_end) {
  const bool diagonal = blockIdx.z == 1;
  const int64_t slot = blockIdx.y;
  const float* in = (diagonal ? partial_diagonals : partial_columns) + slot * partial_stride;
  double* out = (diagonal ? diagonals : columns) + slot * stride;
  const int64_t begin = diagonal ? 0 : column_begin;
  const int64_t end = diagonal ? distance_end : column_end;
  for (int64_t k = begin + int64_t(blockIdx.x) * kThreads + threadIdx.x; k < end; k += int64_t(gridDim.x) * kThreads)
    out[k] += double(in[k]);
}

void check(cudaError_t status, const char* call) { check_cuda(status, kWhere, call); }

}  // namespace

DeviceKeySums::DeviceKeySums(std::shared_ptr<CudaContext> context, int slots, int64_t capacity)
    : context_(std::move(context)), slots_(slots), capacity_(std::max<int64_t>(capacity, 1)) {
  if (slots <= 0 || slots > 65535)
    throw Error(kWhere, "cannot keep per-key sums of " + std::to_string(slots) + " heads");
  const auto size = std::size_t(bytes(slots_, capacity_));
  data_ = static_cast<double*>(context_->allocate(
      size, kWhere,
      "fp64 column and diagonal sums of " + std::to_string(slots_) + " heads over " + std::to_string(capacity_) +
          " keys"));
  const cudaError_t status = cudaMemsetAsync(data_, 0, size, context_->stream());
  if (status != cudaSuccess) {
    context_->release(data_, size);
    check(status, "cudaMemsetAsync");
  }
}

DeviceKeySums::~DeviceKeySums() { context_->release(data_, std::size_t(bytes(slots_, capacity_))); }

void DeviceKeySums::reserve(int64_t keys) {
  if (keys <= capacity_) return;
  const int64_t capacity = std::max(keys, capacity_ + capacity_ / 2);
  const auto size = std::size_t(bytes(slots_, capacity));
  auto* data = static_cast<double*>(context_->allocate(
      size, kWhere,
      "fp64 column and diagonal sums of " + std::to_string(slots_) + " heads over " + std::to_string(capacity) +
          " keys"));
  cudaStream_t s = context_->stream();
  cudaError_t status = cudaMemsetAsync(data, 0, size, s);
  // Both halves: [slot][capacity_] rows into [slot][capacity] rows.
  for (int half = 0; half < 2 && status == cudaSuccess; ++half)
    status = cudaMemcpy2DAsync(data + int64_t(half) * slots_ * capacity, std::size_t(capacity) * 8,
                               data_ + int64_t(half) * slots_ * capacity_, std::size_t(capacity_) * 8,
                               std::size_t(capacity_) * 8, std::size_t(slots_), cudaMemcpyDeviceToDevice, s);
  if (status != cudaSuccess) {
    context_->release(data, size);
    check(status, "growing the per-key sums");
  }
  context_->release(data_, std::size_t(bytes(slots_, capacity_)));
  data_ = data;
  capacity_ = capacity;
}

void DeviceKeySums::add(const float* partial_columns, const float* partial_diagonals, int64_t stride,
                        const KeySumRange& range) {
  add_key_sums_on_device(partial_columns, partial_diagonals, stride, target(), slots_, range, context_->stream());
}

void add_key_sums_on_device(const float* partial_columns, const float* partial_diagonals, int64_t partial_stride,
                            const Fp64KeySums& to, int slots, const KeySumRange& range, cudaStream_t stream) {
  if (range.column_end > to.stride || range.distance_end > to.stride || range.column_begin < 0)
    throw Error(kWhere, "keys up to " + std::to_string(std::max(range.column_end, range.distance_end)) +
                            " do not fit per-key sums over " + std::to_string(to.stride) + " keys");
  const int64_t longest = std::max(range.column_end - range.column_begin, range.distance_end);
  if (longest <= 0 || slots <= 0) return;
  const auto blocks = unsigned(std::min<int64_t>((longest + kThreads - 1) / kThreads, 1024));
  add_key_sums_kernel<<<dim3(blocks, unsigned(slots), 2), kThreads, 0, stream>>>(
      partial_columns, partial_diagonals, partial_stride, to.columns, to.diagonals, to.stride, range.column_begin,
      range.column_end, range.distance_end);
  check_launch(kWhere);
}

void DeviceKeySums::download(double* columns_out, int64_t column_length, double* diagonals_out,
                             int64_t distance_length) const {
  if (column_length > capacity_ || distance_length > capacity_)
    throw Error(kWhere, "cannot download " + std::to_string(std::max(column_length, distance_length)) +
                            " keys of per-key sums over " + std::to_string(capacity_));
  cudaStream_t s = context_->stream();
  if (column_length > 0)
    check(cudaMemcpy2DAsync(columns_out, std::size_t(column_length) * 8, columns(), std::size_t(capacity_) * 8,
                            std::size_t(column_length) * 8, std::size_t(slots_), cudaMemcpyDeviceToHost, s),
          "downloading column sums");
  if (distance_length > 0)
    check(cudaMemcpy2DAsync(diagonals_out, std::size_t(distance_length) * 8, diagonals(), std::size_t(capacity_) * 8,
                            std::size_t(distance_length) * 8, std::size_t(slots_), cudaMemcpyDeviceToHost, s),
          "downloading diagonal sums");
}

void DeviceKeySums::clear() {
  check(cudaMemsetAsync(data_, 0, std::size_t(bytes(slots_, capacity_)), context_->stream()), "cudaMemsetAsync");
}

}  // namespace attnscope::kernels::cuda
