#pragma once
// Device helpers of the non-attention kernels: bf16/fp16 <-> float, 16-byte vectors,
// the launch shape of row-wise element loops and team reductions.
//
// Memory-bound kernels move 8 elements (16 bytes) per thread access when every
// pointer is 16-byte aligned and every row stride and width a multiple of 8
// (vectorizable()); otherwise they fall back to one element per access. The two
// widths are the template parameter V.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/dtype.h"

namespace attnscope::kernels::cuda {

__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}
// Rounds to T and back: where transformers' bf16 arithmetic rounds an intermediate.
template <typename T>
__device__ __forceinline__ float round_to(float v) {
  return to_float(from_float<T>(v));
}

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};
template <typename T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
template <typename T, int V>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

constexpr int kVector = 8;  // elements per 16-byte access

// Calls f(row, item) for every row of `rows` and item of `items` (one V-wide access
// each) of a block-row tiling: threadIdx.x walks items, threadIdx.y rows.
template <typename F>
__device__ __forceinline__ void for_each_row_item(int64_t rows, int64_t items, F&& f) {
  for (int64_t r = int64_t(blockIdx.y) * blockDim.y + threadIdx.y; r < rows; r += int64_t(gridDim.y) * blockDim.y)
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < items; i += int64_t(gridDim.x) * blockDim.x)
      f(r, i);
}

struct LaunchShape {
  dim3 grid, block;
};

// 256 threads: x spans a row's items (a power of two, so that a warp may cover several
// short rows), y packs more rows into the block.
inline LaunchShape row_item_launch(int64_t rows, int64_t items) {
  int64_t tx = 1;
  while (tx < 256 && tx < items) tx *= 2;
  const int64_t ty = 256 / tx;
  const int64_t gx = std::min<int64_t>((items + tx - 1) / tx, 1 << 16);
  const int64_t gy = std::min<int64_t>((rows + ty - 1) / ty, 65535);
  return {dim3(unsigned(std::max<int64_t>(gx, 1)), unsigned(std::max<int64_t>(gy, 1))),
          dim3(unsigned(tx), unsigned(ty))};
}

// Sum over a team of `team` consecutive threads (a power of two up to 1024), the same
// value in every member (lane 0's, so members agree to the bit). Every thread of the
// block must call it (teams over 32 use __syncthreads); `partial` holds a float per warp.
__device__ __forceinline__ float team_sum(float v, int team, float* partial) {
  const int width = team < 32 ? team : 32;
  for (int offset = width / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x % 32;
  v = __shfl_sync(0xffffffffu, v, lane - lane % width);
  if (team <= 32) return v;
  const int warp = threadIdx.x / 32, warps = team / 32, first = warp - warp % warps;
  __syncthreads();  // earlier readers of `partial` are done
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float sum = 0.0f;
  for (int w = 0; w < warps; ++w) sum += partial[first + w];
  return sum;
}

// Runs f.template operator()<T>() with T the device type of a BF16 or F16 tensor.
template <typename F>
void with_device_type(DType dtype, F&& f) {
  if (dtype == DType::BF16)
    f.template operator()<__nv_bfloat16>();
  else
    f.template operator()<__half>();
}

}  // namespace attnscope::kernels::cuda
