// Buffers of the CPU backend and the ops that only move data: weight upload
// (conversion to float32, transposition, stacking), allocation, download,
// embedding lookup and KV-cache row copies.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/guarded_read.h"

namespace attnscope::kernels::cpu {
namespace {

constexpr std::size_t kAlignment = 64;  // one cache line; also what AVX-512 loads like
// Below this many floats a loop runs on one thread: forking costs more than it saves.
constexpr int64_t kParallelElements = 1 << 16;

// Uninitialised float32 storage for rows x cols, 64-byte aligned.
Tensor new_tensor(int64_t rows, int64_t cols) {
  const std::size_t bytes = std::size_t(rows * cols) * sizeof(float);
  const std::size_t rounded = std::max(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  void* data = std::aligned_alloc(kAlignment, rounded);
  if (data == nullptr)
    fail("allocate", "out of memory for a [" + std::to_string(rows) + ", " + std::to_string(cols) +
                         "] float32 tensor (" + std::to_string(bytes) + " bytes)");
  std::shared_ptr<Buffer> buffer(new Buffer{data, bytes, Device::Host}, [](Buffer* b) {
    std::free(b->data);
    delete b;
  });
  return Tensor(std::move(buffer), DType::F32, rows, cols);
}

// Element i of a stored tensor as float; memcpy because checkpoint data may be unaligned.
template <DType T>
inline float load(const unsigned char* base, std::size_t i) {
  if constexpr (T == DType::F32) {
    float v;
    std::memcpy(&v, base + 4 * i, 4);
    return v;
  } else {
    uint16_t v;
    std::memcpy(&v, base + 2 * i, 2);
    return T == DType::BF16 ? bf16_to_f32(v) : f16_to_f32(v);
  }
}

// dst (logical [cols, rows], row stride rows) = transpose of src (stored [rows, cols]).
// Square tiles keep both the reads and the strided writes inside the cache.
// `faulted` is set when a read of src hit SIGBUS (the tiles after it are skipped).
template <DType T>
void transpose_block(const unsigned char* src, int64_t rows, int64_t cols, float* dst, int threads,
                     std::atomic<bool>& faulted) {
  constexpr int64_t tile = 32;
  const int64_t row_tiles = (rows + tile - 1) / tile;
  const int64_t col_tiles = (cols + tile - 1) / tile;
#pragma omp parallel for schedule(static) num_threads(threads) if (rows * cols >= kParallelElements)
  for (int64_t t = 0; t < row_tiles * col_tiles; ++t) {
    if (faulted.load(std::memory_order_relaxed)) continue;
    const int64_t r0 = (t / col_tiles) * tile, c0 = (t % col_tiles) * tile;
    const int64_t r1 = std::min(rows, r0 + tile), c1 = std::min(cols, c0 + tile);
    const bool read = guarded([&] {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = load<T>(src, std::size_t(r * cols + c));
    });
    if (!read) faulted = true;
  }
}

// Every read of the block runs under the SIGBUS guard (kernels/guarded_read.h): a
// checkpoint truncated under its mapping fails the upload instead of killing the process.
void convert_block(const HostTensorView& block, float* dst, int threads) {
  const int64_t n = block.rows * block.cols;
  std::atomic<bool> faulted{false};
  if (!block.transposed) {
    // Chunks of whole cache lines per thread; convert_to_f32 handles any source alignment.
    constexpr int64_t chunk = 1 << 15;
    const int64_t chunks = (n + chunk - 1) / chunk;
    const auto* src = static_cast<const unsigned char*>(block.data);
    const std::size_t esize = dtype_size(block.dtype);
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= kParallelElements)
    for (int64_t c = 0; c < chunks; ++c) {
      if (faulted.load(std::memory_order_relaxed)) continue;
      const int64_t begin = c * chunk, count = std::min(chunk, n - begin);
      if (!guarded([&] { convert_to_f32(src + std::size_t(begin) * esize, block.dtype, std::size_t(count), dst + begin); }))
        faulted = true;
    }
  } else {
    const auto* src = static_cast<const unsigned char*>(block.data);
    switch (block.dtype) {
      case DType::F32: transpose_block<DType::F32>(src, block.rows, block.cols, dst, threads, faulted); break;
      case DType::F16: transpose_block<DType::F16>(src, block.rows, block.cols, dst, threads, faulted); break;
      case DType::BF16: transpose_block<DType::BF16>(src, block.rows, block.cols, dst, threads, faulted); break;
    }
  }
  if (faulted) throw MappedReadFault("upload", kMappedReadFaultProblem);
}

}  // namespace

Tensor upload(std::span<const HostTensorView> blocks, int threads) {
  if (blocks.empty()) fail("upload", "no weight blocks given");
  const int64_t cols = blocks[0].logical_cols();
  int64_t rows = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const HostTensorView& b = blocks[i];
    const std::string which = "block " + std::to_string(i) + " [" + std::to_string(b.logical_rows()) +
                              ", " + std::to_string(b.logical_cols()) + "]";
    if (b.rows < 0 || b.cols < 0) fail("upload", which + " has a negative dimension");
    if (b.logical_cols() != cols)
      fail("upload", which + " does not have the " + std::to_string(cols) +
                         " columns of block 0; stacked blocks must agree in columns");
    if (b.data == nullptr && b.rows * b.cols > 0) fail("upload", which + " has no data");
    rows += b.logical_rows();
  }
  Tensor t = new_tensor(rows, cols);
  float* dst = t.data<float>();
  for (const HostTensorView& b : blocks) {
    if (b.rows * b.cols > 0) convert_block(b, dst, threads);
    dst += b.logical_rows() * cols;
  }
  return t;
}

Tensor allocate(int64_t rows, int64_t cols, int threads) {
  if (rows < 0 || cols < 0)
    fail("allocate", "negative shape [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  Tensor t = new_tensor(rows, cols);
  // Zeroed in parallel: first touch also spreads the pages over the threads' caches.
  const int64_t n = rows * cols;
  constexpr int64_t chunk = 1 << 16;
  float* data = t.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= 4 * kParallelElements)
  for (int64_t begin = 0; begin < n; begin += chunk)
    std::memset(data + begin, 0, std::size_t(std::min(chunk, n - begin)) * sizeof(float));
  return t;
}

std::vector<float> download(const Tensor& t) {
  require_f32("download", "tensor", t);
  std::vector<float> out(std::size_t(t.elements()));
  const float* src = t.data<float>();
  for (int64_t r = 0; r < t.rows(); ++r)
    std::memcpy(out.data() + r * t.cols(), src + r * t.row_stride(), std::size_t(t.cols()) * sizeof(float));
  return out;
}

void embedding(const Tensor& table, std::span<const int32_t> ids, Tensor& out, int threads) {
  require_f32("embedding", "table", table);
  require_f32("embedding", "out", out);
  const int64_t n = int64_t(ids.size());
  if (out.rows() != n || out.cols() != table.cols())
    fail("embedding", "out " + describe(out) + " does not fit " + std::to_string(n) + " ids of table " +
                          describe(table));
  for (int64_t i = 0; i < n; ++i)
    if (ids[std::size_t(i)] < 0 || ids[std::size_t(i)] >= table.rows())
      fail("embedding", "id " + std::to_string(ids[std::size_t(i)]) + " at index " + std::to_string(i) +
                            " is outside table " + describe(table));
  const float* src = table.data<float>();
  float* dst = out.data<float>();
  const std::size_t row_bytes = std::size_t(table.cols()) * sizeof(float);
#pragma omp parallel for schedule(static) num_threads(threads) if (n * table.cols() >= kParallelElements)
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + i * out.row_stride(), src + int64_t(ids[std::size_t(i)]) * table.row_stride(), row_bytes);
}

void copy_rows(const Tensor& src, Tensor& dst, int64_t dst_row, int threads) {
  require_f32("copy_rows", "src", src);
  require_f32("copy_rows", "dst", dst);
  if (src.cols() != dst.cols() || dst_row < 0 || dst_row + src.rows() > dst.rows())
    fail("copy_rows", "src " + describe(src) + " does not fit dst " + describe(dst) + " at row " +
                          std::to_string(dst_row));
  if (overlaps(src, dst.row_slice(dst_row, src.rows())))
    fail("copy_rows", "src " + describe(src) + " overlaps its destination rows");
  const float* s = src.data<float>();
  float* d = dst.data<float>() + dst_row * dst.row_stride();
  const std::size_t row_bytes = std::size_t(src.cols()) * sizeof(float);
#pragma omp parallel for schedule(static) num_threads(threads) if (src.elements() >= kParallelElements)
  for (int64_t r = 0; r < src.rows(); ++r) std::memcpy(d + r * dst.row_stride(), s + r * src.row_stride(), row_bytes);
}

}  // namespace attnscope::kernels::cpu
