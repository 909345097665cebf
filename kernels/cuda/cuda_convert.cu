// Type conversions on the device: weight upload (F32/F16/BF16 as stored in the
// checkpoint to the compute type, optionally transposed for GPT-2's Conv1D) and
// download (compute type to float32). The upload copies raw bytes and converts here,
// so a 16 GB checkpoint costs the host one memcpy, not a conversion loop.
// Rounding is to nearest even (__float2bfloat16_rn / __float2half_rn), as PyTorch's.
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_vector.cuh"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kOp = "upload";

// Element i of a stored tensor; the branch is uniform across the grid.
__device__ __forceinline__ float load_stored(const void* src, DType type, int64_t i) {
  switch (type) {
    case DType::F32: return static_cast<const float*>(src)[i];
    case DType::F16: return __half2float(static_cast<const __half*>(src)[i]);
    default: return __bfloat162float(static_cast<const __nv_bfloat16*>(src)[i]);
  }
}

template <typename T>
__global__ void convert_kernel(const void* src, DType src_type, int64_t n, T* dst) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = from_float<T>(load_stored(src, src_type, i));
}

// 32 x 32 tiles through shared memory, so that both the reads of source rows and the
// writes of destination rows are coalesced. Block 32 x 8. The +1 column avoids bank
// conflicts on the transposed read.
constexpr int kTile = 32;
template <typename T>
__global__ void convert_transposed_kernel(const void* src, DType src_type, int64_t piece_rows, int64_t cols,
                                          int64_t row0, int64_t total_rows, T* dst) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t c0 = int64_t(blockIdx.x) * kTile, r0 = int64_t(blockIdx.y) * kTile;
  for (int j = threadIdx.y; j < kTile; j += blockDim.y) {
    const int64_t r = r0 + j, c = c0 + threadIdx.x;
    if (r < piece_rows && c < cols) tile[j][threadIdx.x] = load_stored(src, src_type, r * cols + c);
  }
  __syncthreads();
  for (int j = threadIdx.y; j < kTile; j += blockDim.y) {
    const int64_t c = c0 + j, r = r0 + threadIdx.x;
    if (c < cols && r < piece_rows) dst[c * total_rows + row0 + r] = from_float<T>(tile[threadIdx.x][j]);
  }
}

template <typename T>
__global__ void to_f32_kernel(const T* src, int64_t stride, int64_t rows, int64_t cols, float* dst) {
  for_each_row_item(rows, cols, [&](int64_t r, int64_t c) { dst[r * cols + c] = to_float(src[r * stride + c]); });
}

}  // namespace

void launch_convert(const void* src, DType src_type, int64_t n, void* dst, DType dst_type, cudaStream_t stream) {
  if (n <= 0) return;
  const unsigned blocks = unsigned(std::min<int64_t>((n + 255) / 256, 1 << 20));
  with_device_type(dst_type, [&]<typename T>() {
    convert_kernel<T><<<blocks, 256, 0, stream>>>(src, src_type, n, static_cast<T*>(dst));
  });
  check_launch(kOp);
}

void launch_convert_transposed(const void* src, DType src_type, int64_t piece_rows, int64_t cols, int64_t row0,
                               int64_t total_rows, void* dst, DType dst_type, cudaStream_t stream) {
  if (piece_rows <= 0 || cols <= 0) return;
  const dim3 grid(unsigned((cols + kTile - 1) / kTile), unsigned((piece_rows + kTile - 1) / kTile));
  with_device_type(dst_type, [&]<typename T>() {
    convert_transposed_kernel<T>
        <<<grid, dim3(kTile, 8), 0, stream>>>(src, src_type, piece_rows, cols, row0, total_rows, static_cast<T*>(dst));
  });
  check_launch(kOp);
}

void launch_to_f32(const Tensor& src, float* dst, cudaStream_t stream) {
  if (src.elements() == 0) return;
  const LaunchShape shape = row_item_launch(src.rows(), src.cols());
  with_device_type(src.dtype(), [&]<typename T>() {
    to_f32_kernel<T>
        <<<shape.grid, shape.block, 0, stream>>>(src.data<T>(), src.row_stride(), src.rows(), src.cols(), dst);
  });
  check_launch("download");
}

}  // namespace attnscope::kernels::cuda
