// The masked-recall kernel (mask_metrics.h): one warp per row, 64 rows per block, per-head
// sums in double by one atomic per block and quantity.
#include "kernels/cuda/mask_metrics.h"

#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "mask_metrics";
constexpr int kWarps = 8;
constexpr int kRowsPerBlock = 64;

__global__ void start_sums(double* sums, int count) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < count) sums[i] = i % kMaskSums == kMinRecall ? 1.0 : 0.0;
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__global__ void __launch_bounds__(kWarps * 32) row_metrics(const MaskMetricsParams p) {
  __shared__ double partial[kWarps][kMaskSums];
  const int set = int(blockIdx.y);
  const int head = p.heads[set];
  const int64_t row_begin = p.first_rows[set] + int64_t(blockIdx.x) * kRowsPerBlock;
  const int64_t row_end = min(p.n, row_begin + kRowsPerBlock);
  const int warp = int(threadIdx.x) >> 5, lane = int(threadIdx.x) & 31;
  double recall_sum = 0, diff2 = 0, full2 = 0, cosine_sum = 0, min_recall = 1;
  for (int64_t r = row_begin + warp; r < row_end; r += kWarps) {
    const float* sparse = p.sparse_out + r * p.out_stride + int64_t(head) * p.head_dim;
    const float* dense = p.dense_out + r * p.out_stride + int64_t(head) * p.head_dim;
    float d2 = 0, f2 = 0, s2 = 0, dot = 0;
    for (int d = lane; d < p.head_dim; d += 32) {
      const float s = sparse[d], f = dense[d], e = s - f;
      d2 += e * e;
      f2 += f * f;
      s2 += s * s;
      dot += s * f;
    }
    d2 = warp_sum(d2);
    f2 = warp_sum(f2);
    s2 = warp_sum(s2);
    dot = warp_sum(dot);
    if (lane == 0) {
      const double kept = double(p.sparse_lse[int64_t(head) * p.lse_stride + r]);
      const double full = double(p.dense_lse[int64_t(head) * p.lse_stride + r]);
      const double recall = fmin(1.0, exp(kept - full));
      const double cosine = f2 > 0 && s2 > 0 ? double(dot) / sqrt(double(f2) * double(s2)) : (f2 == s2 ? 1.0 : 0.0);
      recall_sum += recall;
      min_recall = fmin(min_recall, recall);
      diff2 += d2;
      full2 += f2;
      cosine_sum += cosine;
      const int64_t at = int64_t(set) * p.n + r;
      if (p.row_recall != nullptr) p.row_recall[at] = float(recall);
      if (p.row_error != nullptr) p.row_error[at] = f2 > 0 ? sqrtf(d2 / f2) : sqrtf(d2);
    }
  }
  if (lane == 0) {
    partial[warp][kRecallSum] = recall_sum;
    partial[warp][kMinRecall] = min_recall;
    partial[warp][kDiff2] = diff2;
    partial[warp][kFull2] = full2;
    partial[warp][kCosineSum] = cosine_sum;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double* sums = p.sums + int64_t(set) * kMaskSums;
    double total[kMaskSums] = {0, 1, 0, 0, 0};
    for (int w = 0; w < kWarps; ++w)
      for (int i = 0; i < kMaskSums; ++i)
        total[i] = i == kMinRecall ? fmin(total[i], partial[w][i]) : total[i] + partial[w][i];
    atomicAdd(sums + kRecallSum, total[kRecallSum]);
    atomicAdd(sums + kDiff2, total[kDiff2]);
    atomicAdd(sums + kFull2, total[kFull2]);
    atomicAdd(sums + kCosineSum, total[kCosineSum]);
    // Non-negative doubles order as their bit patterns do.
    atomicMin(reinterpret_cast<unsigned long long*>(sums + kMinRecall),
              static_cast<unsigned long long>(__double_as_longlong(total[kMinRecall])));
  }
}

}  // namespace

void mask_metrics(const MaskMetricsParams& p, CUstream_st* stream) {
  if (p.n < 0 || p.head_dim < 1 || p.head_dim > 128 || p.sets < 0 || p.sets > 65535)
    throw Error(kWhere, "n " + std::to_string(p.n) + ", head_dim " + std::to_string(p.head_dim) + ", " +
                            std::to_string(p.sets) + " sets: out of range (head_dim 1-128, at most 65535 sets)");
  if (p.sets == 0) return;
  if (p.dense_out == nullptr || p.sparse_out == nullptr || p.dense_lse == nullptr || p.sparse_lse == nullptr ||
      p.heads == nullptr || p.first_rows == nullptr || p.sums == nullptr)
    throw Error(kWhere, "an output, lse, head, first-row or sum array is missing");
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  const int sums = p.sets * kMaskSums;
  start_sums<<<(sums + 255) / 256, 256, 0, s>>>(p.sums, sums);
  detail::check_cuda(cudaGetLastError(), kWhere, "launch of the sum initialisation failed");
  if (p.n == 0) return;
  // Blocks past a set's last row (its first row is late) return at once.
  const dim3 grid(unsigned((p.n + kRowsPerBlock - 1) / kRowsPerBlock), unsigned(p.sets));
  row_metrics<<<grid, kWarps * 32, 0, s>>>(p);
  detail::check_cuda(cudaGetLastError(), kWhere, "launch failed");
}

}  // namespace attnscope::kernels::cuda
