#pragma once
// The capture (instrumentation) kernel: exact attention probabilities recomputed tile
// by tile from the forward's log-sum-exp, reduced to statistics in one sweep.
//
// Same tiling as the forward (flash_attention_forward.cuh): grid x = query blocks of
// 128 rows (longest first), y = captured heads; 4 warps of 32 rows; key tiles of 64
// walked from the diagonal down. Q stays in registers (no P V product, so the
// registers the forward spends on O hold Q); K is double-buffered with cp.async.
// Per tile and element: s = q.k (mma), p = exp2(s * scale log2 e - lse log2 e), then
//   per row (registers):   top-1 key (s compared in descending key order, so ties go
//                          to the lowest key), entropy sum of -p ln p = -p t ln 2 where
//                          t = log2 p is the exponent already computed, sink mass and
//                          local mass (only on tiles that hold such keys)
//   per key (columns):     4 rows summed in registers, 3 shuffle rounds, the 4 warps
//                          summed through shared memory, one fp32 atomic per key
//   per distance:          22 slots per lane, 2 chain shuffles, 4 warps x 4 stage
//                          arrays summed through shared memory into a 256-entry ring
//                          of distances; the 64 distances no later tile can reach are
//                          flushed with one atomic each (attention_capture_layout.h)
//   pooled map:            from the warp's column sums, one warp sum and one atomic
//                          per (row block, key block) the warp's tile touches
//   probability window:    plain stores of p where the tile meets the window
// Masked elements get the finite score -1e30 (p = 0 and p * t = 0, never NaN).
//
// Any pool block works; below 32 a warp's rows span several row blocks and each costs
// another column reduction, so small blocks are slow. Assumes a positive scale and a
// finite lse for every valid row.
#include <cuda_runtime.h>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/attention_capture_layout.h"
#include "kernels/cuda/capture_row_statistics.cuh"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/flash_warp_steps.cuh"

namespace attnscope::kernels::cuda::detail {

namespace layout = capture_layout;

constexpr float kMaskedScore = -1e30f;
constexpr int kDiagRing = 256;  // distances in flight: 191 per tile

template <int HeadDim>
struct CaptureSmem {
  using G = Tile<HeadDim>;
  static constexpr int kQ = 0;
  static constexpr int kK = G::kQBytes;                                    // two buffers
  static constexpr int kColumns = kK + 2 * G::kKVBytes;                    // [4 warps][64]
  static constexpr int kDiag = kColumns + G::kWarps * layout::kTileKeys * 4;  // [4][4][96]
  static constexpr int kRing = kDiag + G::kWarps * layout::kDiagArrays * layout::kDiagStride * 4;
  static constexpr int kBytes = kRing + kDiagRing * 4;
};

__device__ __forceinline__ void atomic_add_f32(float* address, float value) {
  asm volatile("red.global.add.f32 [%0], %1;\n" ::"l"(address), "f"(value) : "memory");
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

// One column-sum round: keep half of the values (the upper half when this lane's bit
// is set), add the partner lane's copy of that half. Round is a template parameter so
// that every array index is a constant after unrolling.
template <int Round>
__device__ __forceinline__ void column_round(float (&v)[16], int lane) {
  constexpr int half = 8 >> Round;
  const bool upper = layout::column_keeps_upper(lane, Round);
#pragma unroll
  for (int i = 0; i < half; ++i) {
    const float keep = upper ? v[half + i] : v[i];
    const float send = upper ? v[i] : v[half + i];
    v[i] = keep + __shfl_xor_sync(0xffffffffu, send, layout::column_round_mask(Round));
  }
}

// Warp column sums: v[2j + e] holds this lane's sum over its rows of key 8j + 2t + e;
// returns the warp's sums of keys 2 lane and 2 lane + 1 (attention_capture_layout.h).
__device__ __forceinline__ float2 reduce_columns(float (&v)[16], int lane) {
  column_round<0>(v, lane);
  column_round<1>(v, lane);
  column_round<2>(v, lane);
  return make_float2(v[0], v[1]);
}

// Adds a warp's pooled contributions for one row block: `columns` are the warp's
// column sums over that row block's rows (keys 2 lane, 2 lane + 1 of the tile).
__device__ __forceinline__ void add_pooled(const CaptureArgs& args, float* pooled, int row_block, int key0,
                                           float2 columns, int lane) {
  const int b = args.pool_block;
  const int key = key0 + 2 * lane;
  for (int block = key0 / b; block <= (key0 + layout::kTileKeys - 1) / b; ++block) {
    const int lo = block * b, hi = lo + b;
    float v = (key >= lo && key < hi ? columns.x : 0.0f) + (key + 1 >= lo && key + 1 < hi ? columns.y : 0.0f);
    v = warp_sum(v);
    if (lane == 0 && v != 0.0f && block < args.pooled_cols)
      atomic_add_f32(pooled + int64_t(row_block - args.pooled_row0) * args.pooled_cols + block, v);
  }
}

template <int HeadDim, typename T>
__global__ void __launch_bounds__(Tile<HeadDim>::kThreads, 2)
    attention_capture_kernel(const __grid_constant__ CaptureArgs args) {
  using G = Tile<HeadDim>;
  using S = CaptureSmem<HeadDim>;
  constexpr int D = HeadDim;

  extern __shared__ __align__(16) unsigned char smem[];
  const uint32_t sQ = smem_address(smem + S::kQ);
  const uint32_t sK0 = smem_address(smem + S::kK);
  float* col_stage = reinterpret_cast<float*>(smem + S::kColumns);
  float* diag_stage = reinterpret_cast<float*>(smem + S::kDiag);
  float* ring = reinterpret_cast<float*>(smem + S::kRing);

  const int tid = int(threadIdx.x);
  const int lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int slot = int(blockIdx.y);
  const int head = args.heads[slot];
  const int kv_head = head / args.group;
  const int row0 = int(gridDim.x - 1 - blockIdx.x) * G::kRows;
  const int rows_valid = min(G::kRows, args.n - row0);
  const int first_pos = args.first_position + row0;
  const int last_pos = first_pos + rows_valid - 1;
  const KeyTiles tiles = key_tiles(first_pos, last_pos, args.window, G::kKeys);

  const T* k = static_cast<const T*>(args.k) + int64_t(kv_head) * D;
  load_tile_async<G::kRows, D>(sQ, static_cast<const T*>(args.q) + int64_t(row0) * args.q_stride + int64_t(head) * D,
                               args.q_stride, rows_valid);
  {
    const int key0 = tiles.last * G::kKeys;
    load_tile_async<G::kKeys, D>(sK0, k + int64_t(key0) * args.k_stride, args.k_stride, last_pos - key0 + 1);
  }
  cp_async_commit();
  // Stage entries no lane writes must read as 0, and the distance ring starts empty.
  for (int i = tid; i < G::kWarps * layout::kDiagArrays * layout::kDiagStride; i += G::kThreads) diag_stage[i] = 0.0f;
  for (int i = tid; i < kDiagRing; i += G::kThreads) ring[i] = 0.0f;
  cp_async_wait<0>();
  __syncthreads();

  uint32_t qa[2][G::kKSteps][4];
#pragma unroll
  for (int m = 0; m < 2; ++m)
#pragma unroll
    for (int ks = 0; ks < G::kKSteps; ++ks)
      ldmatrix_x4(qa[m][ks], sQ + a_fragment_offset<D>(warp * G::kWarpRows + m * 16, ks * 16, lane));

  // This thread's rows a = 0..3 are at positions warp_pos + g + 8a.
  const int warp_pos = first_pos + warp * G::kWarpRows;
  const int warp_last = min(warp_pos + G::kWarpRows - 1, last_pos);  // last valid row of the warp
  float lse2[4], best[4], entropy[4], sink[4], local[4];
  int best_key[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int row = row0 + warp * G::kWarpRows + g + 8 * a;
    lse2[a] = row < args.n ? args.lse[int64_t(head) * args.lse_stride + row] * kLog2e : 0.0f;
    best[a] = -INFINITY;
    best_key[a] = 0;
    entropy[a] = sink[a] = local[a] = 0.0f;
  }
  // Row blocks of the pooled map this warp's valid rows fall in (none if no valid row).
  const int b = args.pool_block;
  const int warp_block0 = warp_pos / b;
  const int warp_blocks = warp_last >= warp_pos ? warp_last / b - warp_block0 + 1 : 0;
  int row_block[4];  // of this thread's rows, relative to warp_block0 (used when warp_blocks > 1)
#pragma unroll
  for (int a = 0; a < 4; ++a) row_block[a] = (warp_pos + g + 8 * a) / b - warp_block0;
  float* const pooled = args.pooled + int64_t(slot) * args.pooled_stride;

  int buffer = 0;
  for (int tile = tiles.last; tile >= tiles.first; --tile) {
    const int key0 = tile * G::kKeys;
    if (tile != tiles.last) {
      cp_async_wait<0>();
      __syncthreads();  // K[tile] landed; the previous tile's stages were read
    }
    if (tile > tiles.first) {
      const int next0 = key0 - G::kKeys;
      load_tile_async<G::kKeys, D>(sK0 + uint32_t((buffer ^ 1) * G::kKVBytes), k + int64_t(next0) * args.k_stride,
                                   args.k_stride, G::kKeys);
      cp_async_commit();
    }
    const uint32_t sK = sK0 + uint32_t(buffer * G::kKVBytes);

    float s[2][8][4];
    zero_fragments(s);
#pragma unroll
    for (int ks = 0; ks < G::kKSteps; ++ks)
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t kb[4];
        ldmatrix_x4(kb, sK + b_fragment_offset<D>(np * 16, ks * 16, lane));
#pragma unroll
        for (int m = 0; m < 2; ++m) {
          mma_16816<T>(s[m][2 * np], qa[m][ks], kb[0], kb[1]);
          mma_16816<T>(s[m][2 * np + 1], qa[m][ks], kb[2], kb[3]);
        }
      }

    // Mask: keys past the row, before its window, and rows past n (warp-uniform test).
    const int key_t = key0 + 2 * t;  // key of column 8j + e is key_t + 8j + e
    const bool crosses_diagonal = key0 + G::kKeys - 1 > warp_pos;
    const bool crosses_window = args.window > 0 && key0 < warp_pos + G::kWarpRows - args.window;
    const bool has_invalid_rows = warp_pos + G::kWarpRows - 1 > last_pos;
    if (crosses_diagonal || crosses_window || has_invalid_rows) {
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        const int pos = warp_pos + g + 8 * a;
        const int hi = pos > last_pos ? -1 : pos - key_t;
        const int lo = args.window > 0 ? hi - args.window + 1 : -1;
#pragma unroll
        for (int j = 0; j < 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e)
            if (8 * j + e > hi || 8 * j + e < lo) s[a >> 1][j][2 * (a & 1) + e] = kMaskedScore;
      }
    }

    // Per row: top-1 (descending keys, >= keeps the lowest key on ties), p, entropy.
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      const int m = a >> 1, c0 = 2 * (a & 1);
#pragma unroll
      for (int j = 7; j >= 0; --j)
#pragma unroll
        for (int e = 1; e >= 0; --e) {
          const float x = s[m][j][c0 + e];
          if (x >= best[a]) {
            best[a] = x;
            best_key[a] = key_t + 8 * j + e;
          }
        }
      float ent = 0.0f;
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float log2p = fmaf(s[m][j][c0 + e], args.scale_log2, -lse2[a]);
          const float p = exp2_approx(log2p);
          s[m][j][c0 + e] = p;
          ent = fmaf(p, log2p, ent);
        }
      entropy[a] += ent;
    }

    if (args.statistics) {
      // Sink mass: keys [0, sink_tokens); local mass: keys (pos - local_window, pos].
      if (key0 < args.sink_tokens) {
        const int limit = args.sink_tokens - key_t;
#pragma unroll
        for (int a = 0; a < 4; ++a)
#pragma unroll
          for (int j = 0; j < 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e)
              if (8 * j + e < limit) sink[a] += s[a >> 1][j][2 * (a & 1) + e];
      }
      if (key0 + G::kKeys - 1 > warp_pos - args.local_window) {
#pragma unroll
        for (int a = 0; a < 4; ++a) {
          const int limit = warp_pos + g + 8 * a - args.local_window - key_t;
#pragma unroll
          for (int j = 0; j < 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e)
              if (8 * j + e > limit) local[a] += s[a >> 1][j][2 * (a & 1) + e];
        }
      }

      // Column sums of this warp's rows, and from them the pooled map.
      float columns[16];
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          columns[2 * j + e] = (s[0][j][e] + s[0][j][2 + e]) + (s[1][j][e] + s[1][j][2 + e]);
      const float2 warp_columns = reduce_columns(columns, lane);
      *reinterpret_cast<float2*>(col_stage + warp * layout::kTileKeys + 2 * lane) = warp_columns;
      if (warp_blocks == 1) {
        add_pooled(args, pooled, warp_block0, key0, warp_columns, lane);
      } else {
        for (int block = 0; block < warp_blocks; ++block) {
          float part[16];
#pragma unroll
          for (int j = 0; j < 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              float sum = 0.0f;
#pragma unroll
              for (int a = 0; a < 4; ++a)
                if (row_block[a] == block) sum += s[a >> 1][j][2 * (a & 1) + e];
              part[2 * j + e] = sum;
            }
          add_pooled(args, pooled, warp_block0 + block, key0, reduce_columns(part, lane), lane);
        }
      }

      // Diagonal partials: slot (a - j, e), then the chain over lanes with equal g - 2t.
      float diag[2][layout::kDiagSlots];
#pragma unroll
      for (int e = 0; e < 2; ++e)
#pragma unroll
        for (int d = 0; d < layout::kDiagSlots; ++d) diag[e][d] = 0.0f;
#pragma unroll
      for (int a = 0; a < 4; ++a)
#pragma unroll
        for (int j = 0; j < 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) diag[e][layout::diag_slot(a, j)] += s[a >> 1][j][2 * (a & 1) + e];
      const float step1 = layout::diag_chain_step1(lane) ? 1.0f : 0.0f;
      const float step2 = layout::diag_chain_step2(lane) ? 1.0f : 0.0f;
      const bool start = layout::diag_chain_start(lane);
      float* stage = diag_stage + warp * layout::kDiagArrays * layout::kDiagStride;
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        float* array = stage + layout::diag_array(lane, e) * layout::kDiagStride;
#pragma unroll
        for (int d = 0; d < layout::kDiagSlots; ++d) {
          float v = diag[e][d];
          v = fmaf(step1, __shfl_sync(0xffffffffu, v, (lane + 9) & 31), v);
          v = fmaf(step2, __shfl_sync(0xffffffffu, v, (lane + 18) & 31), v);
          if (start) array[layout::diag_index(lane, d, e)] = v;
        }
      }
    }

    // Exact probabilities inside the requested window.
    if (args.window_probs != nullptr && key0 < args.window_k1 && key0 + G::kKeys > args.window_k0 &&
        warp_pos < args.window_q1 && warp_last >= args.window_q0) {
      float* out = args.window_probs + int64_t(slot) * args.window_stride;
      const int width = args.window_k1 - args.window_k0;
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        const int pos = warp_pos + g + 8 * a;
        if (pos < args.window_q0 || pos >= args.window_q1 || pos > last_pos) continue;
        float* row = out + int64_t(pos - args.window_q0) * width;
#pragma unroll
        for (int j = 0; j < 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int key = key_t + 8 * j + e;
            if (key >= args.window_k0 && key < args.window_k1) row[key - args.window_k0] = s[a >> 1][j][2 * (a & 1) + e];
          }
      }
    }

    if (args.statistics) {
      __syncthreads();  // column and diagonal stages complete
      float* const columns_out = args.column_sums + int64_t(slot) * args.key_stride;
      float* const diagonal_out = args.diagonal_sums + int64_t(slot) * args.key_stride;
      if (tid < layout::kTileKeys) {
        float v = 0.0f;
#pragma unroll
        for (int w = 0; w < G::kWarps; ++w) v += col_stage[w * layout::kTileKeys + tid];
        if (v != 0.0f && key0 + tid < args.key_count) atomic_add_f32(columns_out + key0 + tid, v);
      }
      // Block distance index i = row - key + 63 in [0, 190]; distance = first_pos - key0 + i - 63.
      for (int i = tid; i < 2 * layout::kTileKeys + G::kRows - 1; i += G::kThreads) {
        float v = 0.0f;
#pragma unroll
        for (int w = 0; w < G::kWarps; ++w) {
          const int index = i - w * G::kWarpRows;
          if (index >= 0 && index < layout::kDiagIndices)
#pragma unroll
            for (int array = 0; array < layout::kDiagArrays; ++array)
              v += diag_stage[(w * layout::kDiagArrays + array) * layout::kDiagStride + index];
        }
        const int distance = first_pos - key0 + i - 63;
        float& cell = ring[distance & (kDiagRing - 1)];
        if (i < layout::kTileKeys) {  // no later (lower) tile reaches this distance
          v += cell;
          cell = 0.0f;
          if (v != 0.0f && distance >= 0 && distance < args.key_count) atomic_add_f32(diagonal_out + distance, v);
        } else {
          cell += v;
        }
      }
    }
    buffer ^= 1;
  }

  if (args.statistics) {
    __syncthreads();
    // Distances still in the ring: (first_pos - key0_last, first_pos - key0_last + 127].
    const int distance = first_pos - tiles.first * G::kKeys + 1 + tid;
    if (tid < G::kRows - 1) {
      const float v = ring[distance & (kDiagRing - 1)];
      if (v != 0.0f && distance < args.key_count)
        atomic_add_f32(args.diagonal_sums + int64_t(slot) * args.key_stride + distance, v);
    }
  }

  // Per-row results: sum over the 4 lanes of a row; top-1 by (score, lowest key).
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    RowStatistics r{entropy[a], sink[a], local[a], best[a], best_key[a]};
#pragma unroll
    for (int mask = 1; mask <= 2; mask <<= 1) combine_with_lane(r, mask);
    const int row = row0 + warp * G::kWarpRows + g + 8 * a;
    if (t == 0 && row < args.n) store_row_statistics(args, int64_t(slot) * args.row_stride + row, r);
  }
}

template <int HeadDim, typename T>
void launch_attention_capture(const CaptureArgs& args, int captured_heads, cudaStream_t stream) {
  using G = Tile<HeadDim>;
  constexpr int kSmem = CaptureSmem<HeadDim>::kBytes;
  auto kernel = attention_capture_kernel<HeadDim, T>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  const dim3 grid(unsigned((args.n + G::kRows - 1) / G::kRows), unsigned(captured_heads));
  kernel<<<grid, G::kThreads, kSmem, stream>>>(args);
}

}  // namespace attnscope::kernels::cuda::detail
