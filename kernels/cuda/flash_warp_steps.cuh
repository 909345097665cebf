#pragma once
// The per-tile steps of one warp in the mma.sync forward kernels (the flash forward and the
// block-sparse forward walk different key tiles with the same arithmetic): a warp owns 32
// query rows as two m16 tiles and takes 64 keys at a time. Fragment layouts:
// flash_attention_mma.cuh; thread (g, t) = (lane / 4, lane % 4) holds rows g + 8a (a = 0..3:
// m tile a / 2, half a % 2).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/flash_attention_tile.cuh"

namespace attnscope::kernels::cuda::detail {

// Zeroes a warp's accumulator fragments (two m16 tiles of N n8 tiles).
template <int N>
__device__ __forceinline__ void zero_fragments(float (&a)[2][N][4]) {
#pragma unroll
  for (int m = 0; m < 2; ++m)
#pragma unroll
    for (int j = 0; j < N; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c) a[m][j][c] = 0.0f;
}

// S = Q K^T for the warp's rows [q_row0, q_row0 + 32) of the Q tile and the K tile's 64 keys.
template <int D, typename T>
__device__ __forceinline__ void warp_scores(float (&s)[2][8][4], uint32_t sQ, uint32_t sK, int q_row0, int lane) {
  zero_fragments(s);
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    uint32_t a[2][4];
#pragma unroll
    for (int m = 0; m < 2; ++m) ldmatrix_x4(a[m], sQ + a_fragment_offset<D>(q_row0 + m * 16, ks * 16, lane));
#pragma unroll
    for (int np = 0; np < 4; ++np) {
      uint32_t b[4];
      ldmatrix_x4(b, sK + b_fragment_offset<D>(np * 16, ks * 16, lane));
#pragma unroll
      for (int m = 0; m < 2; ++m) {
        mma_16816<T>(s[m][2 * np], a[m], b[0], b[1]);
        mma_16816<T>(s[m][2 * np + 1], a[m], b[2], b[3]);
      }
    }
  }
}

// Online softmax in the log2 domain (scale * log2 e folded into one FFMA + EX2): the
// running max and sum of the thread's four rows take the tile (masked scores are -inf), S
// becomes P against the new max, and O is rescaled.
template <int DimTiles>
__device__ __forceinline__ void online_softmax_step(float (&s)[2][8][4], float (&row_max)[4], float (&row_sum)[4],
                                                    float (&acc_o)[2][DimTiles][4], float scale_log2) {
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int m = a >> 1, c0 = 2 * (a & 1);
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < 8; ++j) mx = fmaxf(mx, fmaxf(s[m][j][c0], s[m][j][c0 + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float new_max = fmaxf(row_max[a], mx * scale_log2);
    const float use_max = new_max == -INFINITY ? 0.0f : new_max;  // row fully masked so far
    const float alpha = exp2_approx(row_max[a] - use_max);
    row_max[a] = new_max;
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float p = exp2_approx(fmaf(s[m][j][c0 + e], scale_log2, -use_max));
        s[m][j][c0 + e] = p;
        sum += p;
      }
    row_sum[a] = row_sum[a] * alpha + sum;
#pragma unroll
    for (int j = 0; j < DimTiles; ++j) {
      acc_o[m][j][c0] *= alpha;
      acc_o[m][j][c0 + 1] *= alpha;
    }
  }
}

// O += P V: P (rounded to T) straight from S, whose accumulator layout is the A layout of a
// 16-key step; V from its shared tile.
template <int D, typename T>
__device__ __forceinline__ void accumulate_pv(float (&acc_o)[2][D / 8][4], const float (&s)[2][8][4], uint32_t sV,
                                              int lane) {
#pragma unroll
  for (int kk = 0; kk < 4; ++kk) {
    uint32_t p[2][4];
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      p[m][0] = pack2<T>(s[m][2 * kk][0], s[m][2 * kk][1]);
      p[m][1] = pack2<T>(s[m][2 * kk][2], s[m][2 * kk][3]);
      p[m][2] = pack2<T>(s[m][2 * kk + 1][0], s[m][2 * kk + 1][1]);
      p[m][3] = pack2<T>(s[m][2 * kk + 1][2], s[m][2 * kk + 1][3]);
    }
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, sV + v_fragment_offset<D>(kk * 16, dp * 16, lane));
#pragma unroll
      for (int m = 0; m < 2; ++m) {
        mma_16816<T>(acc_o[m][2 * dp], p[m], b[0], b[1]);
        mma_16816<T>(acc_o[m][2 * dp + 1], p[m], b[2], b[3]);
      }
    }
  }
}

// The warp's 32 output rows, staged in shared memory at `staging` (pitch Tile<D>::kPitch),
// written 16 bytes at a time; rows at or past `rows` are not written.
template <int D, typename T>
__device__ __forceinline__ void store_staged_rows(T* out, int64_t out_stride, const unsigned char* staging, int rows,
                                                  int lane) {
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int i = 0; i < kChunks; ++i) {
    const int index = i * 32 + lane;
    const int r = index / kChunks, chunk = index % kChunks;
    if (r < rows) {
      const uint4 value = *reinterpret_cast<const uint4*>(staging + (r * Tile<D>::kPitch + chunk * 8) * 2);
      *reinterpret_cast<uint4*>(out + int64_t(r) * out_stride + chunk * 8) = value;
    }
  }
}

}  // namespace attnscope::kernels::cuda::detail
