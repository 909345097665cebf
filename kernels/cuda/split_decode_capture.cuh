#pragma once
// The split-KV decode capture pass (split_decode.h): the capture kernel's results
// (attention_capture_kernel.cuh, same buffers and definitions) for calls of at most
// split_decode::kMaxRows rows, with one CTA per (unit, key split) as the split forward.
//
// A unit is up to split_decode::cta_rows(n, group).heads captured heads of one KV head (the
// launch's slots sorted by KV head, split_decode::capture_units). Per 64-key tile (K
// double-buffered by cp.async): each warp computes S for its row tile and slices, then per
// element p = exp2(s scale log2 e - lse log2 e) with the forward's lse (no normalisation
// across splits is needed), and in registers per row: entropy (sum of p log2 p), top-1
// (highest score, lowest key among equals: the portable capture kernel's rule), sink mass
// and local mass; exact-window probabilities are stored as they come. The tile's p go to
// shared memory, [row][key], and after a barrier the CTA reduces them per captured head:
// column sums (one store per head and key: each key lies in one split, the buffers are
// zeroed), diagonal sums (per head and distance, summed over the n rows, one atomic add
// each: a distance spans tiles and splits; a store for one row) and the pooled map (per
// row block, a warp sum and an atomic add per key block). With CaptureArgs::fp64_columns
// set (the capture pipeline's fp64 sums) the column and diagonal sums go there instead,
// as fp64 atomic adds whose result no thread reads (reductions it does not wait for); no
// zeroed fp32 buffers and no fold kernel.
// Per-row values are written per (split, warp) into the workspace and merged by a second
// kernel in a fixed order: no atomics, the same bits every run.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/capture_row_statistics.cuh"
#include "kernels/cuda/split_decode_args.h"
#include "kernels/cuda/split_decode_tile.cuh"

namespace attnscope::kernels::cuda::detail {

constexpr int kSplitPPitch = split_decode::kTileKeys + 8;  // floats: conflict-free float2 stores

template <int HeadDim>
struct SplitCaptureSmem {
  static constexpr int kQ = 0;
  static constexpr int kK = kSplitQBytes<HeadDim>;                      // two K buffers
  static constexpr int kP = kK + 2 * Tile<HeadDim>::kKVBytes;          // [kCtaRows][kSplitPPitch] floats
  static constexpr int kBytes = kP + split_decode::kCtaRows * kSplitPPitch * 4;
};

__device__ __forceinline__ void red_add_f32(float* address, float value) {
  asm volatile("red.global.add.f32 [%0], %1;\n" ::"l"(address), "f"(value) : "memory");
}

__device__ __forceinline__ float split_warp_sum(float v) {
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

template <int HeadDim, typename T>
__global__ void __launch_bounds__(128) split_decode_capture_kernel(const __grid_constant__ SplitCaptureArgs args) {
  using G = Tile<HeadDim>;
  using S = SplitCaptureSmem<HeadDim>;
  constexpr int D = HeadDim;
  constexpr int kKeys = split_decode::kTileKeys;
  const CaptureArgs& c = args.base;

  extern __shared__ __align__(16) unsigned char smem[];
  const uint32_t sQ = smem_address(smem + S::kQ);
  const uint32_t sK0 = smem_address(smem + S::kK);
  float* sP = reinterpret_cast<float*>(smem + S::kP);

  const int tid = int(threadIdx.x);
  const int lane = tid & 31, warp = tid >> 5;
  const int t = lane & 3;
  const int unit_first = args.unit_first[blockIdx.y];
  const int unit_heads = args.unit_first[blockIdx.y + 1] - unit_first;
  const int n = c.n;
  const int rows_valid = unit_heads * n;
  const int kv_head = c.heads[args.order[unit_first]] / c.group;
  const int split = int(blockIdx.x);
  const int tile0 = int(split_decode::split_first_tile(args.splits, split));
  const int count = int(split_decode::split_end_tile(args.splits, split, args.tiles)) - tile0;
  const int first_pos = c.first_position, last_pos = first_pos + n - 1;

  const T* q = static_cast<const T*>(c.q);
  const T* k = static_cast<const T*>(c.k) + int64_t(kv_head) * D;
  load_query_rows_async<D>(sQ, rows_valid, q, [&](int r) {
    return q + int64_t(r % n) * c.q_stride + int64_t(c.heads[args.order[unit_first + r / n]]) * D;
  });
  const auto load_k = [&](int i) {
    const int key0 = (args.first_tile + tile0 + i) * kKeys;
    load_tile_async<kKeys, D>(sK0 + uint32_t((i & 1) * G::kKVBytes), k + int64_t(key0) * c.k_stride, c.k_stride,
                              last_pos - key0 + 1);
  };
  load_k(0);
  cp_async_commit();

  const int key_groups = args.rows.key_groups, slices = args.rows.slices;
  const int row_tile = split_decode::warp_row_tile(args.rows, warp);
  const int key_group = split_decode::warp_key_group(args.rows, warp);
  bool valid[2];
  int pos[2], slot[2];
  float lse2[2], entropy[2], sink[2], local[2], best[2];
  int best_key[2];
#pragma unroll
  for (int a = 0; a < 2; ++a) {
    const int r = split_decode::cta_row(row_tile, lane, a);
    valid[a] = r < rows_valid;
    slot[a] = valid[a] ? args.order[unit_first + r / n] : 0;
    pos[a] = first_pos + r % n;
    lse2[a] = valid[a] ? c.lse[int64_t(c.heads[slot[a]]) * c.lse_stride + r % n] * kLog2e : 0.0f;
    entropy[a] = sink[a] = local[a] = 0.0f;
    best[a] = -INFINITY;
    best_key[a] = 0x7fffffff;
  }
  const bool window_rows = c.window_probs != nullptr &&
                           ((valid[0] && pos[0] >= c.window_q0 && pos[0] < c.window_q1) ||
                            (valid[1] && pos[1] >= c.window_q0 && pos[1] < c.window_q1));

  uint32_t qa[D / 16][4];
  for (int i = 0; i < count; ++i) {
    cp_async_wait<0>();
    __syncthreads();  // K[i] (and Q) landed; the previous tile's K buffer and p were read
    if (i == 0) load_query_fragments<D>(qa, sQ, row_tile * 16, lane);
    if (i + 1 < count) {
      load_k(i + 1);
      cp_async_commit();
    }
    const int key0 = (args.first_tile + tile0 + i) * kKeys;
    const uint32_t sK = sK0 + uint32_t((i & 1) * G::kKVBytes);
    // Sink and local keys lie on few tiles (CTA-uniform tests).
    const bool sink_tile = c.statistics && key0 < c.sink_tokens;
    const bool local_tile = c.statistics && key0 + kKeys - 1 > first_pos - c.local_window;
    const bool window_tile = window_rows && key0 < c.window_k1 && key0 + kKeys > c.window_k0;

#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (j < slices) {
        const int slice_key0 = split_decode::slice_key0(args.rows, key_group, j);
        float s[2][4];
        slice_scores<D, T>(s, qa, sK, slice_key0, lane);
#pragma unroll
        for (int jj = 0; jj < 2; ++jj)
#pragma unroll
          for (int c2 = 0; c2 < 4; ++c2) {
            const int a = c2 >> 1;
            const int key = key0 + slice_key0 + 8 * jj + 2 * t + (c2 & 1);
            const bool visible = valid[a] && key_visible(key, pos[a], c.window);
            const float x = s[jj][c2];
            if (visible && better_top1(x, key, best[a], best_key[a])) {
              best[a] = x;
              best_key[a] = key;
            }
            const float log2p = fmaf(x, c.scale_log2, -lse2[a]);
            const float p = visible ? exp2_approx(log2p) : 0.0f;
            if (visible) entropy[a] = fmaf(p, log2p, entropy[a]);
            if (sink_tile && key < c.sink_tokens) sink[a] += p;
            if (local_tile && key > pos[a] - c.local_window) local[a] += p;
            if (window_tile && valid[a] && pos[a] >= c.window_q0 && pos[a] < c.window_q1 && key >= c.window_k0 &&
                key < c.window_k1)
              c.window_probs[int64_t(slot[a]) * c.window_stride +
                             int64_t(pos[a] - c.window_q0) * (c.window_k1 - c.window_k0) + (key - c.window_k0)] = p;
            s[jj][c2] = p;
          }
        if (c.statistics)
#pragma unroll
          for (int a = 0; a < 2; ++a)
#pragma unroll
            for (int jj = 0; jj < 2; ++jj)
              *reinterpret_cast<float2*>(sP + split_decode::cta_row(row_tile, lane, a) * kSplitPPitch + slice_key0 +
                                         8 * jj + 2 * t) = make_float2(s[jj][2 * a], s[jj][2 * a + 1]);
      }
    if (!c.statistics) continue;
    __syncthreads();  // the tile's p are in sP

    // Per captured head and key: column sums, and from them the pooled map; with one row
    // also the diagonal sums (distance first_pos - key: the same p).
    const int b = c.pool_block;
    const int row_block0 = first_pos / b, row_block1 = last_pos / b;
    for (int index = tid; index < unit_heads * kKeys; index += 128) {  // warp-uniform trip count
      const int head_row0 = (index / kKeys) * n, key_local = index % kKeys;
      const int key = key0 + key_local;
      const int64_t head_slot = args.order[unit_first + index / kKeys];
      float column = 0.0f;
      for (int r = 0; r < n; ++r) column += sP[(head_row0 + r) * kSplitPPitch + key_local];
      // One writer per (head, key) in the whole grid, on a zeroed buffer: a store is the add
      // (or, into the caller's fp64 sums, the fold's double(float) addition, as an atomic
      // whose result is not read: a reduction the thread does not wait for, where a plain
      // load and store of the double stalled the kernel on the load).
      // One row: each distance is one key, in one tile of one split.
      if (column != 0.0f && key < c.key_count) {
        if (c.fp64_columns != nullptr) {
          atomicAdd(c.fp64_columns + head_slot * c.fp64_stride + key, double(column));
          if (n == 1) atomicAdd(c.fp64_diagonals + head_slot * c.fp64_stride + (first_pos - key), double(column));
        } else {
          c.column_sums[head_slot * c.key_stride + key] = column;
          if (n == 1) c.diagonal_sums[head_slot * c.key_stride + (first_pos - key)] = column;
        }
      }
      // The key blocks of the warp's 32 keys (one division, shared through the warp).
      const int key_block = key / b;
      const int first_block = __shfl_sync(0xffffffffu, key_block, 0);
      const int last_block = __shfl_sync(0xffffffffu, key_block, 31);
      for (int row_block = row_block0; row_block <= row_block1; ++row_block) {
        float v = column;
        if (row_block0 != row_block1) {  // the call's rows span row blocks (n > 1 only)
          v = 0.0f;
          for (int r = 0; r < n; ++r)
            if ((first_pos + r) / b == row_block) v += sP[(head_row0 + r) * kSplitPPitch + key_local];
        }
        for (int block = first_block; block <= last_block; ++block) {
          const float sum = split_warp_sum(key_block == block ? v : 0.0f);
          if (lane == 0 && sum != 0.0f && block < c.pooled_cols)
            red_add_f32(c.pooled + head_slot * c.pooled_stride + int64_t(row_block - c.pooled_row0) * c.pooled_cols +
                            block,
                        sum);
        }
      }
    }
    if (n == 1) continue;
    // Per captured head and distance d = first_pos + r - key (split_decode::tile_distance):
    // several rows reach a distance, from several tiles and splits.
    const int distances = split_decode::tile_distances(n);
    for (int head = 0; head < unit_heads; ++head) {
      const int head_row0 = head * n;
      const int64_t head_slot = args.order[unit_first + head];
      float* const diagonal = c.diagonal_sums + head_slot * c.key_stride;
      for (int i = tid; i < distances; i += 128) {
        const int64_t distance = split_decode::tile_distance(first_pos, key0, i);
        float v = 0.0f;
        for (int r = split_decode::tile_distance_first_row(i); r < split_decode::tile_distance_end_row(i, n); ++r)
          v += sP[(head_row0 + r) * kSplitPPitch + split_decode::tile_distance_key(i, r)];
        if (v != 0.0f && distance >= 0 && distance < c.key_count) {
          if (c.fp64_diagonals != nullptr)  // from several tiles and splits, each added in fp64
            atomicAdd(c.fp64_diagonals + head_slot * c.fp64_stride + distance, double(v));
          else
            red_add_f32(diagonal + distance, v);
        }
      }
    }
  }

  // Per row, over the quad's four lanes; one part per (split, key group).
#pragma unroll
  for (int a = 0; a < 2; ++a) {
    RowStatistics row{entropy[a], sink[a], local[a], best[a], best_key[a]};
#pragma unroll
    for (int mask = 1; mask <= 2; mask <<= 1) combine_with_lane(row, mask);
    if (t == 0 && valid[a]) {
      const int r = split_decode::cta_row(row_tile, lane, a);
      const int64_t plane = int64_t(args.slots) * n * args.parts;
      const int64_t at = split_decode::capture_part_index(slot[a], r % n, split * key_groups + key_group, n, args.parts);
      args.partials[at] = row.entropy;
      args.partials[plane + at] = row.sink;
      args.partials[2 * plane + at] = row.local;
      args.partials[3 * plane + at] = row.best;
      reinterpret_cast<int32_t*>(args.partials)[4 * plane + at] = row.best_key;
    }
  }
}

// One warp per (slot, row): the row's parts merged in part order into the pass's rows.
// (A template only so that each instantiation file has its own copy.)
template <int HeadDim, typename T>
__global__ void __launch_bounds__(128) split_decode_capture_rows_kernel(const __grid_constant__ SplitCaptureArgs args) {
  const CaptureArgs& c = args.base;
  const int lane = int(threadIdx.x) & 31;
  const int64_t row = int64_t(blockIdx.x) * 4 + (threadIdx.x >> 5);  // slot * n + r
  if (row >= int64_t(args.slots) * c.n) return;
  const int64_t plane = int64_t(args.slots) * c.n * args.parts;
  const float* parts = args.partials + row * args.parts;
  RowStatistics sums{0.0f, 0.0f, 0.0f, -INFINITY, 0x7fffffff};
#pragma unroll 4
  for (int part = lane; part < args.parts; part += 32) {
    sums.entropy += parts[part];
    sums.sink += parts[plane + part];
    sums.local += parts[2 * plane + part];
    const float score = parts[3 * plane + part];
    const int key = reinterpret_cast<const int32_t*>(parts)[4 * plane + part];
    if (better_top1(score, key, sums.best, sums.best_key)) {
      sums.best = score;
      sums.best_key = key;
    }
  }
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) combine_with_lane(sums, mask);
  if (lane != 0) return;
  const int64_t slot = row / c.n, r = row % c.n;
  store_row_statistics(c, slot * c.row_stride + r, sums);
}

template <int HeadDim, typename T>
void launch_split_decode_capture(const SplitCaptureArgs& args, cudaStream_t stream) {
  constexpr int kSmem = SplitCaptureSmem<HeadDim>::kBytes;
  auto kernel = split_decode_capture_kernel<HeadDim, T>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  kernel<<<dim3(unsigned(args.splits.count), unsigned(args.units)), 128, kSmem, stream>>>(args);
  split_decode_capture_rows_kernel<HeadDim, T><<<unsigned((int64_t(args.slots) * args.base.n + 3) / 4), 128, 0, stream>>>(args);
}

}  // namespace attnscope::kernels::cuda::detail
