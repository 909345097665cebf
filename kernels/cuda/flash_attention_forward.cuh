#pragma once
// The flash-attention forward kernel (FlashAttention-2 scheme on mma.sync).
//
// Grid: x = query blocks of 128 rows (the longest rows first, so the causal tail ends
// balanced), y = query heads. Block: 4 warps, warp w owns rows [32w, 32w + 32).
// Per block: Q [128, D] is loaded once into shared memory; key tiles of 64 are walked
// from the diagonal down to the first visible tile. Per tile:
//   S = Q K^T               ldmatrix Q and K from shared memory, fp32 accumulators
//   mask                    only on tiles that cross the diagonal or the window edge
//   online softmax          running max m and sum l per row in registers, in the
//                           log2 domain (scale * log2 e folded into one FFMA + EX2)
//   O = O * alpha + P V     P rounded to T straight from the S accumulators
// K and V have one shared buffer each; V[j] is fetched while S is computed and
// K[j-1] while P V runs (the second block on the SM hides what this overlap does not).
// The epilogue divides by l, stages O through the warp's own Q rows in shared memory,
// writes 16-byte rows and lse = (m + log2 l) ln 2.
//
// Rules (kernels/attention_rules.h): grid y covers the call's head range. ZeroQuery loads
// the Q tile as zeros, so every score is exactly 0. SinkWindow is the Sinks variant: after
// the window's tiles (walked as above, window = min(rule window, model window)) it visits
// the tiles of the sink keys [0, sink) the window's tiles do not hold, masked element by
// element (a sink key is visible unless the model's own window excludes it). The dense
// variant (Sinks = false) walks the same tiles as before.
//
// Assumes: head dim a multiple of 16 (<= 128); rows and pointers 16-byte aligned;
// positive scale; key rows beyond the last query's position are never read (zero-filled).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/flash_warp_steps.cuh"

namespace attnscope::kernels::cuda::detail {

struct ForwardArgs : AttentionOperands {
  int head_begin;    // grid y = heads head_begin, head_begin + 1, ...
  int zero_query;    // nonzero: Q is taken as 0 (a ZeroQuery rule)
  int sink;          // Sinks variant: keys [0, sink) are visible besides the window
  int model_window;  // Sinks variant: the model's own window (0: none); it bounds the sinks too
};

template <int HeadDim, typename T, bool Sinks>
__global__ void __launch_bounds__(Tile<HeadDim>::kThreads, 2) flash_forward_kernel(const ForwardArgs args) {
  using G = Tile<HeadDim>;
  constexpr int D = HeadDim;
  constexpr int kDimTiles = D / 8;  // n8 tiles of the output

  extern __shared__ __align__(16) unsigned char smem[];
  const uint32_t sQ = smem_address(smem);
  const uint32_t sK = sQ + G::kQBytes;
  const uint32_t sV = sK + G::kKVBytes;

  const int lane = int(threadIdx.x) & 31;
  const int warp = int(threadIdx.x) >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int head = args.head_begin + int(blockIdx.y);
  const int kv_head = head / args.group;
  // Positions fit in 32 bits (the dispatcher checks); only address offsets are 64-bit.
  const int row0 = int(gridDim.x - 1 - blockIdx.x) * G::kRows;
  const int rows_valid = min(G::kRows, args.n - row0);
  const int first_pos = args.first_position + row0;
  const int last_pos = first_pos + rows_valid - 1;
  const KeyTiles tiles = key_tiles(first_pos, last_pos, args.window, G::kKeys);
  // Tiles are visited downwards from tiles.last to `stop`: the window's down to tiles.first,
  // then (Sinks) the sink tiles [sink_first, sink_end) below them, from the highest.
  int stop = tiles.first, sink_first = 0, sink_end = 0;
  if constexpr (Sinks) {
    const int lowest = args.model_window > 0 ? max(0, first_pos - args.model_window + 1) : 0;
    const int highest = min(args.sink, tiles.first * G::kKeys);  // the window's tiles hold the rest
    if (lowest < highest) {
      sink_first = lowest / G::kKeys;
      sink_end = (highest + G::kKeys - 1) / G::kKeys;
      stop = sink_first;
    }
  }
  const auto next_tile = [&](int tile) { return Sinks && tile == tiles.first ? sink_end - 1 : tile - 1; };

  const T* q = static_cast<const T*>(args.q) + int64_t(row0) * args.q_stride + int64_t(head) * D;
  const T* k = static_cast<const T*>(args.k) + int64_t(kv_head) * D;
  const T* v = static_cast<const T*>(args.v) + int64_t(kv_head) * D;

  load_tile_async<G::kRows, D>(sQ, q, args.q_stride, args.zero_query ? 0 : rows_valid);  // 0 rows: all zero
  {
    const int key0 = tiles.last * G::kKeys;
    load_tile_async<G::kKeys, D>(sK, k + int64_t(key0) * args.k_stride, args.k_stride, last_pos - key0 + 1);
  }
  cp_async_commit();

  // Positions of this thread's four rows (a = 0..3: m tile a / 2, half a % 2).
  const int warp_pos = first_pos + warp * G::kWarpRows;
  float acc_o[2][kDimTiles][4];
  zero_fragments(acc_o);
  float row_max[4], row_sum[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    row_max[a] = -INFINITY;
    row_sum[a] = 0.0f;
  }

  for (int tile = tiles.last; tile >= stop; tile = next_tile(tile)) {
    const int key0 = tile * G::kKeys;
    const int key_rows = min(G::kKeys, last_pos - key0 + 1);
    cp_async_wait<0>();
    __syncthreads();  // K[tile] (and Q) landed; every warp is done with V[tile + 1]
    load_tile_async<G::kKeys, D>(sV, v + int64_t(key0) * args.v_stride, args.v_stride, key_rows);
    cp_async_commit();

    // S = Q K^T for this warp's 32 rows and the 64 keys.
    float s[2][8][4];
    warp_scores<D, T>(s, sQ, sK, warp * G::kWarpRows, lane);

    // Mask keys past a row's position or before its window (warp-uniform test).
    const bool crosses_diagonal = key0 + G::kKeys - 1 > warp_pos;
    const bool crosses_window = args.window > 0 && key0 < warp_pos + G::kWarpRows - args.window;
    if (crosses_diagonal || crosses_window) {
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        // Visible columns col = 8j + e (key key0 + 2t + col) satisfy lo <= col <= hi.
        const int hi = warp_pos + g + 8 * a - (key0 + 2 * t);
        const int lo = args.window > 0 ? hi - args.window + 1 : -1;
        // Sinks: columns below sink_cols are sink keys, visible from model_lo on.
        const int sink_cols = Sinks ? args.sink - (key0 + 2 * t) : 0;
        const int model_lo = Sinks && args.model_window > 0 ? hi - args.model_window + 1 : -1;
#pragma unroll
        for (int j = 0; j < 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = 8 * j + e;
            const bool sink = Sinks && col < sink_cols && col >= model_lo;
            if (col > hi || (col < lo && !sink)) s[a >> 1][j][2 * (a & 1) + e] = -INFINITY;
          }
      }
    }

    online_softmax_step(s, row_max, row_sum, acc_o, args.scale_log2);

    cp_async_wait<0>();
    __syncthreads();  // V[tile] landed; every warp is done with K[tile]
    if (tile > stop) {
      const int next0 = next_tile(tile) * G::kKeys;
      load_tile_async<G::kKeys, D>(sK, k + int64_t(next0) * args.k_stride, args.k_stride, G::kKeys);
      cp_async_commit();
    }

    accumulate_pv<D, T>(acc_o, s, sV, lane);
  }

  // Epilogue: O / l through this warp's own Q rows (only this warp ever read them).
  __syncwarp();
  unsigned char* staging = smem + size_t(warp) * G::kWarpRows * G::kPitch * 2;
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int m = a >> 1, c0 = 2 * (a & 1);
    float l = row_sum[a];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int r = g + 8 * a;
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j) {
      const uint32_t packed = pack2<T>(acc_o[m][j][c0] * inv, acc_o[m][j][c0 + 1] * inv);
      *reinterpret_cast<uint32_t*>(staging + (r * G::kPitch + 8 * j + 2 * t) * 2) = packed;
    }
    const int row = row0 + warp * G::kWarpRows + r;
    if (args.lse != nullptr && t == 0 && row < args.n)
      args.lse[int64_t(head) * args.lse_stride + row] = (row_max[a] + log2_approx(l)) * kLn2;
  }
  __syncwarp();
  T* out = static_cast<T*>(args.out) + int64_t(row0 + warp * G::kWarpRows) * args.out_stride + int64_t(head) * D;
  store_staged_rows<D, T>(out, args.out_stride, staging, args.n - (row0 + warp * G::kWarpRows), lane);
}

// Host side: sets the shared-memory limit and launches one instantiation (the Sinks
// variant for a SinkWindow rule).
template <int HeadDim, typename T>
void launch_flash_forward(const FlashAttentionParams& p, cudaStream_t stream) {
  using G = Tile<HeadDim>;
  ForwardArgs args{};
  fill_attention_operands(args, p);
  args.head_begin = p.head_begin;
  args.zero_query = p.rule.kind == HeadRuleKind::ZeroQuery ? 1 : 0;
  const bool sinks = p.rule.kind == HeadRuleKind::SinkWindow;
  if (sinks) {
    // The rule's window inside the model's; positions past every row change nothing.
    const int64_t limit = p.first_position + p.n + 1;
    const int64_t window = p.sliding_window > 0 ? std::min(p.rule.window, p.sliding_window) : p.rule.window;
    args.window = int(std::min(window, limit));
    args.sink = int(std::min(p.rule.sink_tokens, limit));
    args.model_window = int(std::min(p.sliding_window, limit));
  }
  constexpr int kSmem = G::kQBytes + 2 * G::kKVBytes;
  auto kernel = sinks ? flash_forward_kernel<HeadDim, T, true> : flash_forward_kernel<HeadDim, T, false>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  const dim3 grid(unsigned((p.n + G::kRows - 1) / G::kRows), unsigned(p.heads_run()));
  kernel<<<grid, G::kThreads, kSmem, stream>>>(args);
}

}  // namespace attnscope::kernels::cuda::detail
