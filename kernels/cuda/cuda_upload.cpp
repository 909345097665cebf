// WeightUploader: raw pieces through pinned staging, converted on the device.
#include "kernels/cuda/cuda_upload.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "kernels/cuda/cuda_kernels.h"
#include "kernels/error.h"
#include "kernels/guarded_read.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kOp = "upload";

// Host copy of a piece from the mapped file: several threads, because page faults of
// the mapping (reading the file) dominate and they overlap across threads. Each chunk is
// read under the SIGBUS guard: a checkpoint truncated under its mapping fails the upload.
void copy_to_staging(void* dst, const char* src, std::size_t bytes) {
  constexpr std::size_t chunk = std::size_t(1) << 20;
  const int64_t chunks = int64_t((bytes + chunk - 1) / chunk);
  const int threads = std::min(8, omp_get_max_threads());
  std::atomic<bool> faulted{false};
#pragma omp parallel for schedule(static) num_threads(threads) if (chunks >= 4)
  for (int64_t c = 0; c < chunks; ++c) {
    if (faulted.load(std::memory_order_relaxed)) continue;
    const std::size_t begin = std::size_t(c) * chunk;
    if (!guarded_copy(static_cast<char*>(dst) + begin, src + begin, std::min(chunk, bytes - begin))) faulted = true;
  }
  if (faulted) throw MappedReadFault(kOp, kMappedReadFaultProblem);
}

}  // namespace

WeightUploader::WeightUploader(std::shared_ptr<CudaContext> context, std::size_t staging_bytes)
    : context_(std::move(context)), staging_bytes_(std::max<std::size_t>(staging_bytes, 256)) {}

WeightUploader::~WeightUploader() {
  for (Slot& slot : slots_) free_slot(slot);
}

void WeightUploader::free_slot(Slot& slot) noexcept {
  if (slot.done != nullptr) {
    cudaEventSynchronize(slot.done);
    cudaEventDestroy(slot.done);
  }
  if (slot.host != nullptr) cudaFreeHost(slot.host);
  context_->release(slot.device, slot.bytes);
  slot = Slot{};
}

WeightUploader::Slot& WeightUploader::acquire(std::size_t bytes) {
  Slot& slot = slots_[next_];
  next_ = 1 - next_;
  if (slot.done != nullptr) check_cuda(cudaEventSynchronize(slot.done), kOp, "cudaEventSynchronize");
  if (slot.bytes < bytes) {
    free_slot(slot);
    const std::size_t size = std::max(bytes, staging_bytes_);
    check_cuda(cudaHostAlloc(&slot.host, size, cudaHostAllocDefault), kOp,
               "cudaHostAlloc of " + std::to_string(size) + " pinned staging bytes");
    slot.device = context_->allocate(size, kOp, "a staging buffer");
    slot.bytes = size;
    check_cuda(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming), kOp, "cudaEventCreate");
  }
  return slot;
}

void WeightUploader::upload_block(const HostTensorView& block, char* dst) {
  const std::size_t element = dtype_size(block.dtype);
  const DType dtype = context_->dtype();
  const cudaStream_t stream = context_->stream();
  const auto* src = static_cast<const char*>(block.data);
  if (!block.transposed) {
    // Pieces of whole elements; the layout is the same on both sides.
    const int64_t n = block.rows * block.cols;
    const int64_t piece = int64_t(staging_bytes_ / element);
    for (int64_t begin = 0; begin < n; begin += piece) {
      const int64_t count = std::min(piece, n - begin);
      const std::size_t bytes = std::size_t(count) * element;
      Slot& slot = acquire(bytes);
      copy_to_staging(slot.host, src + std::size_t(begin) * element, bytes);
      char* target = dst + std::size_t(begin) * dtype_size(dtype);
      if (block.dtype == dtype) {
        check_cuda(cudaMemcpyAsync(target, slot.host, bytes, cudaMemcpyHostToDevice, stream), kOp, "cudaMemcpyAsync");
      } else {
        check_cuda(cudaMemcpyAsync(slot.device, slot.host, bytes, cudaMemcpyHostToDevice, stream), kOp,
                   "cudaMemcpyAsync");
        launch_convert(slot.device, block.dtype, count, target, dtype, stream);
      }
      check_cuda(cudaEventRecord(slot.done, stream), kOp, "cudaEventRecord");
    }
    return;
  }
  // Stored [rows, cols] = [in, out]: pieces of whole stored rows, each written as a
  // band of columns of the [cols, rows] destination.
  const std::size_t row_bytes = std::size_t(block.cols) * element;
  constexpr int64_t kMaxPieceRows = int64_t(65535) * 32;  // the transpose kernel's grid.y
  const int64_t piece = std::clamp<int64_t>(int64_t(staging_bytes_ / row_bytes), 1, kMaxPieceRows);
  for (int64_t r0 = 0; r0 < block.rows; r0 += piece) {
    const int64_t rows = std::min(piece, block.rows - r0);
    const std::size_t bytes = std::size_t(rows) * row_bytes;
    Slot& slot = acquire(bytes);
    copy_to_staging(slot.host, src + std::size_t(r0) * row_bytes, bytes);
    check_cuda(cudaMemcpyAsync(slot.device, slot.host, bytes, cudaMemcpyHostToDevice, stream), kOp, "cudaMemcpyAsync");
    launch_convert_transposed(slot.device, block.dtype, rows, block.cols, r0, block.rows, dst, dtype, stream);
    check_cuda(cudaEventRecord(slot.done, stream), kOp, "cudaEventRecord");
  }
}

Tensor WeightUploader::upload(std::span<const HostTensorView> blocks) {
  if (blocks.empty()) throw Error(kOp, "no weight blocks given");
  const int64_t cols = blocks[0].logical_cols();
  int64_t rows = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const HostTensorView& b = blocks[i];
    const std::string which = "block " + std::to_string(i) + " [" + std::to_string(b.logical_rows()) + ", " +
                              std::to_string(b.logical_cols()) + "]";
    if (b.rows < 0 || b.cols < 0) throw Error(kOp, which + " has a negative dimension");
    if (b.logical_cols() != cols)
      throw Error(kOp, which + " does not have the " + std::to_string(cols) +
                           " columns of block 0; stacked blocks must agree in columns");
    if (b.data == nullptr && b.rows * b.cols > 0) throw Error(kOp, which + " has no data");
    rows += b.logical_rows();
  }
  context_->activate();
  Tensor t = new_device_tensor(context_, rows, cols, kOp);
  char* dst = t.data<char>();
  for (const HostTensorView& b : blocks) {
    if (b.rows * b.cols > 0) upload_block(b, dst);
    dst += std::size_t(b.logical_rows() * cols) * dtype_size(context_->dtype());
  }
  context_->finish(kOp);
  return t;
}

}  // namespace attnscope::kernels::cuda
