#pragma once
// The Hopper (sm_90a) flash-attention forward, FlashAttention-3 scheme: warp-specialised,
// TMA-fed, wgmma on both products. Same contract and numerics as the portable kernel
// (flash_attention_forward.cuh): causal with the query offset of chunked prefill, sliding
// window, GQA, fp32 accumulation, exp2 with scale * log2(e) folded into one FFMA, out
// and lse = (m + log2 l) ln 2 per row.
//
// Grid: x = query blocks of 128 rows (longest first), y = query heads. CTA: 3 warpgroups.
//   warpgroup 0, producer (24 registers): one thread loads Q once and then K and V tiles
//     of 128 keys by TMA (128-byte swizzle) into a kStages-deep ring, walking the key
//     tiles from the diagonal down; each tile completes on its full barrier, and the
//     producer reuses a slot once both consumers have arrived on its empty barrier.
//   warpgroups 1 and 2, consumers (240 registers): 64 query rows each. Iteration j:
//     wait for P_{j-2} V_{j-2}; O *= alpha_{j-1}; P_{j-1} = probabilities of S_{j-1} in T
//     S_j = Q K_j^T          wgmma m64n128k16, Q and K from shared memory (K-major)
//     O  += P_{j-1} V_{j-1}  wgmma m64nDk16, P from registers, V MN-major (transposed B)
//     wait for S_j, then its softmax while P V runs: mask (diagonal / window tiles only),
//     row max over the quad of threads holding the row, exp2, row sum, alpha_j
//   K_j's slot is released when S_j completed, V_{j-1}'s when P V completed. The two
//   consumers take turns issuing their products (two named barriers), so one's softmax
//   runs while the other's products keep the tensor cores busy.
//   Epilogue: O / l rounded to T is staged through the consumer's own Q rows (the same
//   swizzle, conflict-free) and written with 16-byte stores; rows past n are not written.
//
// Shared memory (1024-byte aligned): Q [D/64][128 rows][128 B], K and V [kStages][D/64]
// [128 keys][128 B], then the mbarriers: D = 128: 160 KB, D = 64: 80 KB.
// Assumes: head dim 64 or 128; positions fit in 32 bits; the K/V tensor maps cover
// rows [0, first_position + n) only, so rows past the last query read as zeros.
//
// RowStatistics (the capture's per-row statistics, computed here so that the capture pass
// keeps only its per-key sums; docs/cuda-attention.md "Row statistics in the forward"):
//   entropy  one more FFMA a probability: v = sum of p x over the row with x = s c - m the
//            exponent the softmax computes anyway (p relative to the running max m); a new
//            max m' rescales it like l: v' = alpha (v - (m' - m) l). At the end
//            H = (log2 l - v / l) ln 2, the same -sum p ln p as the capture's.
//   top-1    nothing a probability: the tile's row maximum is already there; only where it
//            reaches the best score so far (tiles come from the diagonal down, so on a tie
//            the lower keys win) the warp looks up the lowest key holding it.
#include <cuda.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/flash_attention_mma.cuh"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/hopper/hopper_ptx.cuh"
#include "kernels/cuda/hopper/hopper_wgmma.cuh"

namespace attnscope::kernels::cuda::hopper {

template <int HeadDim>
struct HopperTile {
  static_assert(HeadDim == 64 || HeadDim == 128, "the Hopper forward is built for head dims 64 and 128");
  static constexpr int kHeadDim = HeadDim;
  static constexpr int kRows = 128;  // query rows per CTA
  static constexpr int kKeys = 128;  // keys per K/V tile
  static constexpr int kStages = 2;  // K/V ring depth
  static constexpr int kConsumers = 2;
  // The consumers take turns issuing their products (FA3's ping-pong). false: each issues
  // as soon as its data is there (a switch for diagnosing a hang or comparing schedules).
  static constexpr bool kTakeTurns = true;
  static constexpr int kConsumerRows = kRows / kConsumers;  // 64: one wgmma M
  static constexpr int kThreads = 128 * (1 + kConsumers);
  static constexpr int kProducerRegisters = 24;
  static constexpr int kConsumerRegisters = 240;
  static_assert(kProducerRegisters * 128 + kConsumerRegisters * 128 * kConsumers <= 65536, "register file");
  static constexpr int kColumnBlocks = HeadDim / 64;  // 64 columns = one 128-byte swizzle row
  static constexpr int kQBytes = kRows * HeadDim * 2;
  static constexpr int kTileBytes = kKeys * HeadDim * 2;  // one K or one V tile
  static constexpr int kQOffset = 0;
  static constexpr int kKOffset = kQOffset + kQBytes;
  static constexpr int kVOffset = kKOffset + kStages * kTileBytes;
  static constexpr int kBarrierOffset = kVOffset + kStages * kTileBytes;
  // q_full, then full_k, full_v, empty_k, empty_v per stage
  static constexpr int kBarriers = 1 + 4 * kStages;
  static constexpr int kSmemBytes = kBarrierOffset + kBarriers * 8 + 1024;  // + alignment slack
  static_assert(kKOffset % 1024 == 0 && kVOffset % 1024 == 0 && kTileBytes % 1024 == 0, "swizzle atoms");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory of one H100 CTA");
  // Arrivals that free a slot: one per consumer warp.
  static constexpr int kReleaseArrivals = kConsumers * 4;
};

// q, k and v come as tensor maps; row_entropy and row_top1 ([head][lse_stride], as lse)
// are written by the RowStatistics kernel only.
struct HopperForwardArgs : detail::AttentionOperands {
  float* row_entropy;
  int32_t* row_top1;
};

// This thread's share of its two rows' entropy and top-1 (RowStatistics).
struct RowStatistics {
  float plogp[2] = {0.0f, 0.0f};           // sum of p x over this thread's keys of the row
  float best[2] = {-INFINITY, -INFINITY};  // the row's highest score so far (quad-uniform)
  int best_key[2] = {0, 0};
};

// Named barriers: 0 is __syncthreads; consumer c waits on kTurnBarrier + c for its turn
// to issue products and on kEpilogueBarrier + c within its own epilogue.
constexpr int kTurnBarrier = 1;
constexpr int kEpilogueBarrier = 3;

// Byte offset of element (row, column) of a [rows][64-column blocks] swizzled tile
// (rows = row count of one block), as TMA's CU_TENSOR_MAP_SWIZZLE_128B writes it.
template <int Rows>
__device__ __forceinline__ uint32_t swizzled_offset(int row, int column) {
  const int block = column >> 6, chunk = (column >> 3) & 7;
  return uint32_t(block * Rows * 128 + row * 128 + ((chunk ^ (row & 7)) << 4) + (column & 7) * 2);
}

// S = Q K^T for one consumer: D / 16 k16 steps; k step ks reads 32 bytes into the
// 128-byte rows of column block ks / 4.
template <int HeadDim, typename T>
__device__ __forceinline__ void issue_scores(float (&s)[64], uint32_t q_rows, uint32_t k_tile) {
  using G = HopperTile<HeadDim>;
#pragma unroll
  for (int ks = 0; ks < HeadDim / 16; ++ks) {
    const uint32_t q = q_rows + uint32_t((ks / 4) * G::kRows * 128 + (ks % 4) * 32);
    const uint32_t k = k_tile + uint32_t((ks / 4) * G::kKeys * 128 + (ks % 4) * 32);
    wgmma_m64n128k16_ss<T>(s, smem_descriptor(q, 16, 1024), smem_descriptor(k, 16, 1024), ks > 0 ? 1 : 0);
  }
}

// O += P V: kKeys / 16 k16 steps of 16 keys (2048 bytes of V rows each); the two
// 64-column blocks of V (head dim 128) are kKeys * 128 bytes apart.
template <int HeadDim, typename T>
__device__ __forceinline__ void issue_values(float (&o)[HeadDim / 2], const uint32_t (&p)[32], uint32_t v_tile) {
  using G = HopperTile<HeadDim>;
#pragma unroll
  for (int kk = 0; kk < G::kKeys / 16; ++kk) {
    const uint64_t v = smem_descriptor(v_tile + uint32_t(kk * 2048), G::kKeys * 128, 1024);
    wgmma_m64k16_rs<HeadDim, T>(o, p[4 * kk], p[4 * kk + 1], p[4 * kk + 2], p[4 * kk + 3], v, 1);
  }
}

// Masks scores outside [first visible key, position] of this thread's two rows.
// row_pos = position of row g (h = 0); key0 = the tile's first key.
__device__ __forceinline__ void mask_scores(float (&s)[64], int row_pos, int key0, int window, int t) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    // Visible columns col = 8j + e (key key0 + 2t + col) satisfy lo <= col <= hi.
    const int hi = row_pos + 8 * h - (key0 + 2 * t);
    const int lo = window > 0 ? hi - window + 1 : -1;
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int col = 8 * j + e;
        if (col > hi || col < lo) s[4 * j + 2 * h + e] = -INFINITY;
      }
  }
}

// Online softmax of one tile in the log2 domain: updates the running max and sum of the
// thread's two rows, turns s into probabilities and returns the factor alpha by which
// the output accumulated so far must be scaled. With Stats, also the rows' entropy sum
// and top-1 (RowStatistics; key0: the tile's first key); Masked: the tile has -inf scores.
template <bool Stats, bool Masked>
__device__ __forceinline__ void softmax_tile(float (&s)[64], float (&row_max)[2], float (&row_sum)[2],
                                             float (&alpha)[2], float scale_log2, RowStatistics& stats, int key0,
                                             int t) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < 16; ++j) mx = fmaxf(mx, fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));  // the quad holding the row
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    if constexpr (Stats) {
      const bool record = mx >= stats.best[h] && mx != -INFINITY;
      if (__any_sync(0xffffffffu, record)) {  // rare past the first tiles: the warp looks it up
        int col = 1 << 20;
#pragma unroll
        for (int j = 15; j >= 0; --j)
#pragma unroll
          for (int e = 1; e >= 0; --e)
            if (s[4 * j + 2 * h + e] == mx) col = 8 * j + e;
        int key = key0 + 2 * t + col;
        key = min(key, __shfl_xor_sync(0xffffffffu, key, 1));
        key = min(key, __shfl_xor_sync(0xffffffffu, key, 2));
        if (record) {
          stats.best[h] = mx;
          stats.best_key[h] = key;
        }
      }
    }
    const float new_max = fmaxf(row_max[h], mx * scale_log2);
    const float use_max = new_max == -INFINITY ? 0.0f : new_max;  // row fully masked so far
    alpha[h] = detail::exp2_approx(row_max[h] - use_max);
    if constexpr (Stats) {  // nothing seen yet: alpha = 0 and v = 0
      const float shift = row_max[h] == -INFINITY ? 0.0f : use_max - row_max[h];
      stats.plogp[h] = alpha[h] * fmaf(-shift, row_sum[h], stats.plogp[h]);
    }
    row_max[h] = new_max;
    float sum = 0.0f, plogp = 0.0f;
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float x = fmaf(s[4 * j + 2 * h + e], scale_log2, -use_max);
        const float p = detail::exp2_approx(x);
        s[4 * j + 2 * h + e] = p;
        sum += p;
        if constexpr (Stats) plogp = Masked && !(p > 0.0f) ? plogp : fmaf(p, x, plogp);  // masked: x = -inf
      }
    row_sum[h] = row_sum[h] * alpha[h] + sum;
    if constexpr (Stats) stats.plogp[h] += plogp;
  }
}

// The S accumulator's layout is the register A layout of the next product: key step kk
// takes n8 blocks 2kk (a0, a1) and 2kk + 1 (a2, a3).
template <typename T>
__device__ __forceinline__ void scores_to_operand(uint32_t (&p)[32], const float (&s)[64]) {
#pragma unroll
  for (int kk = 0; kk < 8; ++kk) {
    p[4 * kk] = detail::pack2<T>(s[8 * kk], s[8 * kk + 1]);
    p[4 * kk + 1] = detail::pack2<T>(s[8 * kk + 2], s[8 * kk + 3]);
    p[4 * kk + 2] = detail::pack2<T>(s[8 * kk + 4], s[8 * kk + 5]);
    p[4 * kk + 3] = detail::pack2<T>(s[8 * kk + 6], s[8 * kk + 7]);
  }
}

// Where a block's tiles and barriers live, and which tiles it visits.
template <int Stages>
struct BlockPlan {
  uint32_t q, k, v, barriers;  // shared addresses
  int row0, first_pos, last_pos;
  detail::KeyTiles tiles;
  int head, kv_head;
  __device__ uint32_t q_full() const { return barriers; }
  __device__ uint32_t full_k(int stage) const { return barriers + 8 * (1 + stage); }
  __device__ uint32_t full_v(int stage) const { return barriers + 8 * (1 + Stages + stage); }
  __device__ uint32_t empty_k(int stage) const { return barriers + 8 * (1 + 2 * Stages + stage); }
  __device__ uint32_t empty_v(int stage) const { return barriers + 8 * (1 + 3 * Stages + stage); }
  __device__ int tile_count() const { return tiles.last - tiles.first + 1; }
};

template <int HeadDim>
__device__ __forceinline__ void produce(const BlockPlan<HopperTile<HeadDim>::kStages>& b, const CUtensorMap* map_q,
                                        const CUtensorMap* map_k, const CUtensorMap* map_v) {
  using G = HopperTile<HeadDim>;
  constexpr int S = G::kStages;
  prefetch_tensor_map(map_q);
  prefetch_tensor_map(map_k);
  prefetch_tensor_map(map_v);
  mbarrier_arrive_expect_tx(b.q_full(), G::kQBytes);
#pragma unroll
  for (int c = 0; c < G::kColumnBlocks; ++c)
    tma_load_2d(b.q + c * G::kRows * 128, map_q, b.head * HeadDim + 64 * c, b.row0, b.q_full());
  const int count = b.tile_count();
  for (int i = 0; i < count; ++i) {
    const int stage = i % S;
    const uint32_t free_parity = ((i / S) & 1) ^ 1;  // the first pass finds every slot free
    const int key0 = (b.tiles.last - i) * G::kKeys;
    const int column = b.kv_head * HeadDim;
    const uint32_t k_slot = b.k + stage * G::kTileBytes, v_slot = b.v + stage * G::kTileBytes;
    mbarrier_wait(b.empty_k(stage), free_parity);
    mbarrier_arrive_expect_tx(b.full_k(stage), G::kTileBytes);
#pragma unroll
    for (int c = 0; c < G::kColumnBlocks; ++c)
      tma_load_2d(k_slot + c * G::kKeys * 128, map_k, column + 64 * c, key0, b.full_k(stage));
    mbarrier_wait(b.empty_v(stage), free_parity);
    mbarrier_arrive_expect_tx(b.full_v(stage), G::kTileBytes);
#pragma unroll
    for (int c = 0; c < G::kColumnBlocks; ++c)
      tma_load_2d(v_slot + c * G::kKeys * 128, map_v, column + 64 * c, key0, b.full_v(stage));
  }
}

template <int HeadDim, typename T, bool Stats>
__device__ __forceinline__ void consume(const BlockPlan<HopperTile<HeadDim>::kStages>& b, const HopperForwardArgs& args,
                                        int consumer, unsigned char* smem) {
  using G = HopperTile<HeadDim>;
  constexpr int S = G::kStages;
  const int thread = int(threadIdx.x) & 127;
  const int warp = thread >> 5, lane = thread & 31;
  const int g = lane >> 2, t = lane & 3;
  const int first_row = consumer * G::kConsumerRows + 16 * warp;  // the warp's first row in the block
  const int warp_pos = b.first_pos + first_row;
  const uint32_t q_rows = b.q + uint32_t(consumer * G::kConsumerRows * 128);
  const int count = b.tile_count();
  auto wait_turn = [&]() {
    if constexpr (G::kTakeTurns) named_barrier_sync(kTurnBarrier + consumer, 2 * 128);
  };
  auto pass_turn = [&]() {
    if constexpr (G::kTakeTurns) named_barrier_arrive(kTurnBarrier + (consumer ^ 1), 2 * 128);
  };
  auto release = [&](uint32_t bar) {
    if (lane == 0) mbarrier_arrive(bar);
  };
  // Only tiles crossing the diagonal or the window edge of this warp's 16 rows need a mask.
  auto needs_mask = [&](int key0) {
    return key0 + G::kKeys - 1 > warp_pos || (args.window > 0 && key0 < warp_pos + 16 - args.window);
  };

  float o[HeadDim / 2];
#pragma unroll
  for (int i = 0; i < HeadDim / 2; ++i) o[i] = 0.0f;
  float s[64];
  uint32_t p[32];
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f}, alpha[2];
  RowStatistics stats;
  // One softmax call site without Stats, as the plain forward had (no code grows there).
  auto softmax = [&](int key0) {
    const bool masked = needs_mask(key0);
    if (masked) mask_scores(s, warp_pos + g, key0, args.window, t);
    if constexpr (Stats) {
      if (masked)
        softmax_tile<true, true>(s, row_max, row_sum, alpha, args.scale_log2, stats, key0, t);
      else
        softmax_tile<true, false>(s, row_max, row_sum, alpha, args.scale_log2, stats, key0, t);
    } else {
      softmax_tile<false, false>(s, row_max, row_sum, alpha, args.scale_log2, stats, key0, t);
    }
  };

  // Consumer 0 issues first: its turn barrier gets the other consumer's share up front.
  if (G::kTakeTurns && consumer == 0) named_barrier_arrive(kTurnBarrier, 2 * 128);
  mbarrier_wait(b.q_full(), 0);

  // O *= alpha (the rows' new maxima), then the probabilities in s become the next
  // product's A operand. Runs once the previous P V has completed.
  auto rescale_and_pack = [&]() {
#pragma unroll
    for (int j = 0; j < HeadDim / 8; ++j) {
      o[4 * j] *= alpha[0];
      o[4 * j + 1] *= alpha[0];
      o[4 * j + 2] *= alpha[1];
      o[4 * j + 3] *= alpha[1];
    }
    scores_to_operand<T>(p, s);
  };

  // Tile 0 (the diagonal): S only. Its alpha is exp2(-inf) = 0 and scales an O of zeros.
  mbarrier_wait(b.full_k(0), 0);
  wait_turn();
  fence_registers(s);
  wgmma_fence();
  issue_scores<HeadDim, T>(s, q_rows, b.k);
  wgmma_commit();
  pass_turn();
  wgmma_wait<0>();
  fence_registers(s);
  release(b.empty_k(0));
  softmax(b.tiles.last * G::kKeys);

  // Iteration i: S_i and P_{i-1} V_{i-1} are issued together; the softmax of S_i runs
  // while P V does. The wait for P V sits at the top of the next iteration, after the
  // mbarrier waits: ptxas schedules within a basic block and, given the wait in the same
  // block as the softmax, moves it above the exponentials.
  for (int i = 1; i < count; ++i) {
    const int stage_k = i % S, stage_v = (i - 1) % S;
    mbarrier_wait(b.full_k(stage_k), (i / S) & 1);
    mbarrier_wait(b.full_v(stage_v), ((i - 1) / S) & 1);  // loaded with K_{i-1}: no delay
    // P_{i-2} V_{i-2} done: O and P may be touched again, V_{i-2}'s slot is free.
    wgmma_wait<0>();
    fence_registers(o);
    fence_registers(p);
    if (i > 1) release(b.empty_v((i - 2) % S));
    rescale_and_pack();

    wait_turn();
    fence_registers(s);
    fence_registers(o);
    fence_registers(p);
    wgmma_fence();
    issue_scores<HeadDim, T>(s, q_rows, b.k + stage_k * G::kTileBytes);
    wgmma_commit();
    issue_values<HeadDim, T>(o, p, b.v + stage_v * G::kTileBytes);
    wgmma_commit();
    pass_turn();

    wgmma_wait<1>();  // S_i done; P_{i-1} V_{i-1} may still run
    fence_registers(s);
    release(b.empty_k(stage_k));
    softmax((b.tiles.last - i) * G::kKeys);
  }

  // The last tile's P V.
  {
    const int stage_v = (count - 1) % S;
    mbarrier_wait(b.full_v(stage_v), ((count - 1) / S) & 1);
    wgmma_wait<0>();
    fence_registers(o);
    fence_registers(p);
    if (count > 1) release(b.empty_v((count - 2) % S));
    rescale_and_pack();
    wait_turn();
    fence_registers(o);
    fence_registers(p);
    wgmma_fence();
    issue_values<HeadDim, T>(o, p, b.v + stage_v * G::kTileBytes);
    wgmma_commit();
    pass_turn();
    wgmma_wait<0>();
    fence_registers(o);
    release(b.empty_v(stage_v));
  }

  // Epilogue: O / l into this consumer's own Q rows (no other warpgroup reads them, and
  // this one's products have completed), then 16-byte rows to global memory.
  unsigned char* staging = smem + G::kQOffset;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = row_sum[h];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int r = first_row + g + 8 * h;  // row in the block
#pragma unroll
    for (int j = 0; j < HeadDim / 8; ++j) {
      const uint32_t packed = detail::pack2<T>(o[4 * j + 2 * h] * inv, o[4 * j + 2 * h + 1] * inv);
      *reinterpret_cast<uint32_t*>(staging + swizzled_offset<G::kRows>(r, 8 * j + 2 * t)) = packed;
    }
    const int row = b.row0 + r;
    const int64_t at = int64_t(b.head) * args.lse_stride + row;
    if (args.lse != nullptr && t == 0 && row < args.n)
      args.lse[at] = (row_max[h] + detail::log2_approx(l)) * detail::kLn2;
    if constexpr (Stats) {
      float plogp = stats.plogp[h];
      plogp += __shfl_xor_sync(0xffffffffu, plogp, 1);
      plogp += __shfl_xor_sync(0xffffffffu, plogp, 2);
      if (t == 0 && row < args.n) {
        args.row_entropy[at] = l > 0.0f ? (detail::log2_approx(l) - plogp * inv) * detail::kLn2 : 0.0f;
        args.row_top1[at] = stats.best_key[h];
      }
    }
  }
  named_barrier_sync(kEpilogueBarrier + consumer, 128);
  constexpr int kChunks = HeadDim / 8;  // 16-byte chunks per row
  T* out = static_cast<T*>(args.out) + int64_t(b.head) * HeadDim;
#pragma unroll
  for (int i = 0; i < G::kConsumerRows * kChunks / 128; ++i) {
    const int index = i * 128 + thread;
    const int r = consumer * G::kConsumerRows + index / kChunks, chunk = index % kChunks;
    const int row = b.row0 + r;
    if (row < args.n) {
      const uint4 value = *reinterpret_cast<const uint4*>(staging + swizzled_offset<G::kRows>(r, chunk * 8));
      *reinterpret_cast<uint4*>(out + int64_t(row) * args.out_stride + chunk * 8) = value;
    }
  }
}

template <int HeadDim, typename T, bool RowStats>
__global__ void __launch_bounds__(HopperTile<HeadDim>::kThreads, 1)
    flash_forward_hopper_kernel(const __grid_constant__ CUtensorMap map_q, const __grid_constant__ CUtensorMap map_k,
                                const __grid_constant__ CUtensorMap map_v, const HopperForwardArgs args) {
  using G = HopperTile<HeadDim>;
  extern __shared__ unsigned char smem_raw[];
  // The swizzle pattern follows address bits 7-9: tiles must start on 1024 bytes.
  const uint32_t raw = detail::smem_address(smem_raw);
  const uint32_t base = (raw + 1023u) & ~1023u;
  unsigned char* smem = smem_raw + (base - raw);

  BlockPlan<G::kStages> b;
  b.q = base + G::kQOffset;
  b.k = base + G::kKOffset;
  b.v = base + G::kVOffset;
  b.barriers = base + G::kBarrierOffset;
  b.head = int(blockIdx.y);
  b.kv_head = b.head / args.group;
  b.row0 = int(gridDim.x - 1 - blockIdx.x) * G::kRows;
  const int rows_valid = min(G::kRows, args.n - b.row0);
  b.first_pos = args.first_position + b.row0;
  b.last_pos = b.first_pos + rows_valid - 1;
  b.tiles = detail::key_tiles(b.first_pos, b.last_pos, args.window, G::kKeys);

  if (threadIdx.x == 0) {
    mbarrier_init(b.q_full(), 1);
    for (int stage = 0; stage < G::kStages; ++stage) {
      mbarrier_init(b.full_k(stage), 1);
      mbarrier_init(b.full_v(stage), 1);
      mbarrier_init(b.empty_k(stage), G::kReleaseArrivals);
      mbarrier_init(b.empty_v(stage), G::kReleaseArrivals);
    }
    fence_mbarrier_init();
  }
  __syncthreads();

  const int warpgroup = int(threadIdx.x) / 128;
  if (warpgroup == 0) {
    setmaxnreg_decrease<G::kProducerRegisters>();
    if (threadIdx.x == 0) produce<HeadDim>(b, &map_q, &map_k, &map_v);
  } else {
    setmaxnreg_increase<G::kConsumerRegisters>();
    consume<HeadDim, T, RowStats>(b, args, warpgroup - 1, smem);
  }
}

}  // namespace attnscope::kernels::cuda::hopper
