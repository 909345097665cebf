#pragma once
// The split-KV decode forward (split_decode.h): partial attention of one CTA's rows over
// one split of the keys, then a combine kernel that merges the splits into out and lse.
//
// Grid: x = key splits, y = units (split_decode_plan.h); block 4 warps. A CTA gathers its
// rows (up to 4 query heads x 16 rows, or more heads of fewer rows) into shared memory,
// then walks its split's 64-key tiles upwards with K and V double-buffered by cp.async
// (the next tile's loads in flight while one is computed; two CTAs per SM at head dim 128).
// Each warp computes, for its m16 row tile and its 16-key slices of the tile, S = Q K^T
// (mma.sync), masks where the tile crosses a row's diagonal or window edge, keeps an online
// softmax in the log2 domain (as the forward: scale * log2 e folded into one FFMA), and
// adds P V with P rounded to T. At the end the warps sharing a row tile merge through
// shared memory, and the CTA writes per row its unnormalised output, running max and sum.
//
// Combine: one block per (head, row) reads the row's partials in a fixed order (no
// atomics: the same bits every run), M = max m_s, L = sum l_s 2^(m_s - M), out = sum O_s 2^(m_s - M)
// / L rounded to T, lse = (M + log2 L) ln 2: the forward's definitions.
//
// Assumes what flash_attention_forward checks (16-byte rows, head dim a multiple of 16,
// positions below 2^31) and a Dense rule. Key rows past the last row's position are
// zero-filled, never read.
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/cuda/split_decode_args.h"
#include "kernels/cuda/split_decode_tile.cuh"

namespace attnscope::kernels::cuda::detail {

template <int HeadDim>
struct SplitForwardSmem {
  static constexpr int kQ = 0;
  static constexpr int kStages = kSplitQBytes<HeadDim>;  // [2][K, V]
  static constexpr int kBytes = kStages + 4 * Tile<HeadDim>::kKVBytes;
  // After the loop the stages hold each warp's partial: [warp][16][kOPitch] floats, then
  // [warp][16] (max, sum).
  static constexpr int kOPitch = HeadDim + 4;
  static constexpr int kStats = kStages + split_decode::kWarps * 16 * kOPitch * 4;
  static_assert(kStats + split_decode::kWarps * 16 * 8 <= kBytes, "the merge scratch must fit the K/V stages");
};

template <int HeadDim, typename T>
__global__ void __launch_bounds__(128, 2) split_decode_forward_kernel(const SplitForwardArgs args) {
  using G = Tile<HeadDim>;
  using S = SplitForwardSmem<HeadDim>;
  constexpr int D = HeadDim;
  constexpr int kDimTiles = D / 8;

  extern __shared__ __align__(16) unsigned char smem[];
  const uint32_t sQ = smem_address(smem + S::kQ);
  const uint32_t sStages = smem_address(smem + S::kStages);

  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int g = lane >> 2, t = lane & 3;
  const split_decode::HeadRange heads = split_decode::forward_unit_heads(
      args.units, int(blockIdx.y), args.group, args.rows.heads, args.head_begin, args.head_end);
  if (heads.begin >= heads.end) return;  // the whole CTA: a chunk outside the call's heads
  const int n = args.n;
  const int rows_valid = (heads.end - heads.begin) * n;
  const int kv_head = heads.begin / args.group;
  const int split = int(blockIdx.x);
  const int tile0 = int(split_decode::split_first_tile(args.splits, split));
  const int count = int(split_decode::split_end_tile(args.splits, split, args.tiles)) - tile0;
  const int last_pos = args.first_position + n - 1;

  const T* q = static_cast<const T*>(args.q);
  const T* k = static_cast<const T*>(args.k) + int64_t(kv_head) * D;
  const T* v = static_cast<const T*>(args.v) + int64_t(kv_head) * D;
  load_query_rows_async<D>(sQ, rows_valid, q, [&](int r) {
    return q + int64_t(r % n) * args.q_stride + int64_t(heads.begin + r / n) * D;
  });
  const auto load_stage = [&](int i) {
    const int key0 = (args.first_tile + tile0 + i) * split_decode::kTileKeys;
    const uint32_t sK = sStages + uint32_t((i & 1) * 2 * G::kKVBytes);
    // Keys past the last row's position are zero-filled: unfilled cache rows are never read.
    load_tile_async<split_decode::kTileKeys, D>(sK, k + int64_t(key0) * args.k_stride, args.k_stride,
                                                last_pos - key0 + 1);
    load_tile_async<split_decode::kTileKeys, D>(sK + G::kKVBytes, v + int64_t(key0) * args.v_stride, args.v_stride,
                                                last_pos - key0 + 1);
  };
  load_stage(0);
  cp_async_commit();

  const int row_tiles = args.rows.row_tiles, key_groups = args.rows.key_groups, slices = args.rows.slices;
  const int row_tile = split_decode::warp_row_tile(args.rows, warp);
  const int key_group = split_decode::warp_key_group(args.rows, warp);
  int pos[2];  // positions of this thread's rows (any for padding rows: never written)
#pragma unroll
  for (int a = 0; a < 2; ++a) pos[a] = args.first_position + split_decode::cta_row(row_tile, lane, a) % n;

  uint32_t qa[D / 16][4];
  float acc_o[kDimTiles][4];
#pragma unroll
  for (int j = 0; j < kDimTiles; ++j)
#pragma unroll
    for (int c = 0; c < 4; ++c) acc_o[j][c] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};

  for (int i = 0; i < count; ++i) {
    cp_async_wait<0>();
    __syncthreads();  // tile i (and Q) landed; every warp is done with tile i - 1's stage
    if (i == 0) load_query_fragments<D>(qa, sQ, row_tile * 16, lane);
    if (i + 1 < count) {
      load_stage(i + 1);
      cp_async_commit();
    }
    const int key0 = (args.first_tile + tile0 + i) * split_decode::kTileKeys;
    const uint32_t sK = sStages + uint32_t((i & 1) * 2 * G::kKVBytes), sV = sK + G::kKVBytes;

    float s[4][2][4];  // [slice of this warp][n8 tile][accumulator]
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (j < slices) slice_scores<D, T>(s[j], qa, sK, split_decode::slice_key0(args.rows, key_group, j), lane);

    // Mask only on tiles that cross some row's diagonal or window edge (CTA-uniform test).
    if (key0 + split_decode::kTileKeys - 1 > args.first_position ||
        (args.window > 0 && key0 <= last_pos - args.window)) {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (j < slices) {
          const int key_t = key0 + split_decode::slice_key0(args.rows, key_group, j) + 2 * t;
#pragma unroll
          for (int jj = 0; jj < 2; ++jj)
#pragma unroll
            for (int c = 0; c < 4; ++c)
              if (!key_visible(key_t + 8 * jj + (c & 1), pos[c >> 1], args.window)) s[j][jj][c] = -INFINITY;
        }
    }

    // Online softmax in the log2 domain over this warp's keys of the tile.
#pragma unroll
    for (int a = 0; a < 2; ++a) {
      float mx = -INFINITY;
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (j < slices)
#pragma unroll
          for (int jj = 0; jj < 2; ++jj) mx = fmaxf(mx, fmaxf(s[j][jj][2 * a], s[j][jj][2 * a + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float new_max = fmaxf(row_max[a], mx * args.scale_log2);
      const float use_max = new_max == -INFINITY ? 0.0f : new_max;  // row fully masked so far
      const float alpha = exp2_approx(row_max[a] - use_max);
      row_max[a] = new_max;
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (j < slices)
#pragma unroll
          for (int jj = 0; jj < 2; ++jj)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const float p = exp2_approx(fmaf(s[j][jj][2 * a + e], args.scale_log2, -use_max));
              s[j][jj][2 * a + e] = p;
              sum += p;
            }
      row_sum[a] = row_sum[a] * alpha + sum;
#pragma unroll
      for (int dt = 0; dt < kDimTiles; ++dt) {
        acc_o[dt][2 * a] *= alpha;
        acc_o[dt][2 * a + 1] *= alpha;
      }
    }

    // O += P V, one k16 step per slice: P's accumulator layout is the A layout.
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (j < slices) {
        uint32_t p[4];
        p[0] = pack2<T>(s[j][0][0], s[j][0][1]);
        p[1] = pack2<T>(s[j][0][2], s[j][0][3]);
        p[2] = pack2<T>(s[j][1][0], s[j][1][1]);
        p[3] = pack2<T>(s[j][1][2], s[j][1][3]);
        const int slice_key0 = split_decode::slice_key0(args.rows, key_group, j);
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, sV + v_fragment_offset<D>(slice_key0, dp * 16, lane));
          mma_16816<T>(acc_o[2 * dp], p, b[0], b[1]);
          mma_16816<T>(acc_o[2 * dp + 1], p, b[2], b[3]);
        }
      }
  }

  // Merge the warps of each row tile through shared memory (the stages are free now).
  cp_async_wait<0>();
#pragma unroll
  for (int a = 0; a < 2; ++a) {
    row_sum[a] += __shfl_xor_sync(0xffffffffu, row_sum[a], 1);
    row_sum[a] += __shfl_xor_sync(0xffffffffu, row_sum[a], 2);
  }
  __syncthreads();
  float* scratch_o = reinterpret_cast<float*>(smem + S::kStages);
  float2* scratch_stats = reinterpret_cast<float2*>(smem + S::kStats);
#pragma unroll
  for (int a = 0; a < 2; ++a) {
    const int r = g + 8 * a;
    float* row = scratch_o + (warp * 16 + r) * S::kOPitch;
#pragma unroll
    for (int dt = 0; dt < kDimTiles; ++dt)
      *reinterpret_cast<float2*>(row + 8 * dt + 2 * t) = make_float2(acc_o[dt][2 * a], acc_o[dt][2 * a + 1]);
    if (t == 0) scratch_stats[warp * 16 + r] = make_float2(row_max[a], row_sum[a]);
  }
  __syncthreads();
  constexpr int kQuads = D / 4;
  const int64_t row_base = int64_t(heads.begin - args.head_begin) * n;  // the CTA's row 0 among the call's rows
  for (int index = int(threadIdx.x); index < rows_valid * kQuads; index += int(blockDim.x)) {
    const int r = index / kQuads, quad = index % kQuads;
    const int tile = r / 16, r16 = r % 16;
    float m = -INFINITY;
    for (int kg = 0; kg < key_groups; ++kg) m = fmaxf(m, scratch_stats[(tile + kg * row_tiles) * 16 + r16].x);
    const float use_m = m == -INFINITY ? 0.0f : m;  // no visible key in this split
    float l = 0.0f;
    float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    for (int kg = 0; kg < key_groups; ++kg) {
      const int w = tile + kg * row_tiles;
      const float2 stats = scratch_stats[w * 16 + r16];
      const float scale = exp2_approx(stats.x - use_m);
      const float4 part = *reinterpret_cast<const float4*>(scratch_o + (w * 16 + r16) * S::kOPitch + 4 * quad);
      l += stats.y * scale;
      o.x += part.x * scale;
      o.y += part.y * scale;
      o.z += part.z * scale;
      o.w += part.w * scale;
    }
    const int64_t row = row_base + r;
    *reinterpret_cast<float4*>(args.partials + split_decode::partial_output(row, split, args.splits.count, D) +
                               4 * quad) = o;
    if (quad == 0)
      *reinterpret_cast<float2*>(args.partials +
                                 split_decode::partial_stats(row, split, args.splits.count, D, args.partial_rows)) =
          make_float2(m, l);
  }
}

// One block per row of the call: merges the row's split partials into out and lse. Warp
// w takes splits w, w + 4, ... (lane q: output elements 4q .. 4q + 3), so that a row's
// loads are in flight at once; the warps' sums meet in shared memory in warp order.
template <int HeadDim, typename T>
__global__ void __launch_bounds__(128) split_decode_combine_kernel(const SplitForwardArgs args) {
  constexpr int D = HeadDim;
  constexpr int kQuads = D / 4;  // at most 32: one per lane
  __shared__ float4 warp_sums[4][32];
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int64_t row = blockIdx.x;
  const int splits = args.splits.count;
  const float2* stats = reinterpret_cast<const float2*>(
      args.partials + split_decode::partial_stats(row, 0, splits, D, args.partial_rows));
  // Every warp finds M and L itself (the same lanes, the same order: the same bits).
  float m = -INFINITY;
  for (int s = lane; s < splits; s += 32) m = fmaxf(m, stats[s].x);
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, mask));
  const float use_m = m == -INFINITY ? 0.0f : m;
  float l = 0.0f;
  for (int s = lane; s < splits; s += 32) l += stats[s].y * exp2_approx(stats[s].x - use_m);
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) l += __shfl_xor_sync(0xffffffffu, l, mask);

  float4 o = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (lane < kQuads) {
    const float* part = args.partials + split_decode::partial_output(row, 0, splits, D) + 4 * lane;
#pragma unroll 4
    for (int s = warp; s < splits; s += 4) {
      const float scale = exp2_approx(stats[s].x - use_m);
      const float4 x = *reinterpret_cast<const float4*>(part + int64_t(s) * D);
      o.x += x.x * scale;
      o.y += x.y * scale;
      o.z += x.z * scale;
      o.w += x.w * scale;
    }
  }
  warp_sums[warp][lane] = o;
  __syncthreads();
  if (warp != 0) return;
  const int head = args.head_begin + int(row / args.n), r = int(row % args.n);
  if (lane < kQuads) {
    for (int w = 1; w < 4; ++w) {
      const float4 x = warp_sums[w][lane];
      o.x += x.x;
      o.y += x.y;
      o.z += x.z;
      o.w += x.w;
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    uint2 packed;
    packed.x = pack2<T>(o.x * inv, o.y * inv);
    packed.y = pack2<T>(o.z * inv, o.w * inv);
    T* out = static_cast<T*>(args.out) + int64_t(r) * args.out_stride + int64_t(head) * D + 4 * lane;
    *reinterpret_cast<uint2*>(out) = packed;
  }
  if (args.lse != nullptr && lane == 0) args.lse[int64_t(head) * args.lse_stride + r] = (m + log2_approx(l)) * kLn2;
}

template <int HeadDim, typename T>
void launch_split_decode_forward(const SplitForwardArgs& args, cudaStream_t stream) {
  constexpr int kSmem = SplitForwardSmem<HeadDim>::kBytes;
  auto kernel = split_decode_forward_kernel<HeadDim, T>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  kernel<<<dim3(unsigned(args.splits.count), unsigned(args.units.count)), 128, kSmem, stream>>>(args);
  split_decode_combine_kernel<HeadDim, T><<<unsigned(args.partial_rows), 128, 0, stream>>>(args);
}

}  // namespace attnscope::kernels::cuda::detail
