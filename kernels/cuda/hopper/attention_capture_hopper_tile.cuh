#pragma once
// Parts of the Hopper capture kernel (attention_capture_hopper_kernel.cuh has the
// design): tile geometry and shared-memory plan, the producer, the score products and
// the statistics of one row at a time.
#include <cuda.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/flash_attention_mma.cuh"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/hopper/attention_capture_hopper_reduce.cuh"
#include "kernels/cuda/hopper/hopper_ptx.cuh"
#include "kernels/cuda/hopper/hopper_wgmma.cuh"

namespace attnscope::kernels::cuda::hopper {

template <int HeadDim>
struct CaptureTile {
  static_assert(HeadDim == 64 || HeadDim == 128, "the Hopper capture is built for head dims 64 and 128");
  static constexpr int kRows = 128;  // query rows per CTA
  static constexpr int kKeys = 128;  // keys per K tile
  static constexpr int kStages = 3;  // K ring depth (a slot is held only while its products run)
  static constexpr int kConsumers = 2;
  static constexpr int kWarps = 4;  // per consumer
  static constexpr int kThreads = 128 * (1 + kConsumers);
  // The producer warpgroup also runs the readers (warps 1 and 2), which need more than 24.
  static constexpr int kProducerRegisters = 48;
  static constexpr int kConsumerRegisters = 224;
  // setmaxnreg moves registers within what the launch gave the CTA: 168 a thread (65536 /
  // 384 rounded down to 8). A reader does all of its consumer's roles in 48 (in 40 it
  // spilled 40 bytes); the consumers fit 224 with the rows' entropy sums in shared memory
  // (in registers, the kernel that computes the rows itself spilled 36 bytes at 232).
  static_assert(kProducerRegisters * 128 + kConsumerRegisters * 128 * kConsumers <= (65536 / kThreads) / 8 * 8 * kThreads,
                "register file");
  static constexpr int kColumnBlocks = HeadDim / 64;
  static constexpr int kQBytes = kRows * HeadDim * 2;
  static constexpr int kTileBytes = kKeys * HeadDim * 2;
  static constexpr int kStageBytes = 5120;  // one warp's diagonal stage, 1280 floats
  // One warp's 159 distance sums at [32 warp + (first_pos + 1) % 4, + 159) of 288 zeroed
  // floats, so that the 4 warps' planes line up on the tile's distances in aligned quads.
  static constexpr int kWarpSums = 288;
  static constexpr int kTileDistances = kRows + kKeys - 1;
  // Shared memory: Q, the K ring, per consumer warp a diagonal stage, then per consumer
  // and buffer (two, alternating by tile) the warps' distance sums and column sums.
  static constexpr int kQOffset = 0;
  static constexpr int kKOffset = kQOffset + kQBytes;
  static constexpr int kStageOffset = kKOffset + kStages * kTileBytes;
  static constexpr int kSumsOffset = kStageOffset + kConsumers * kWarps * kStageBytes;
  static constexpr int kColumnsOffset = kSumsOffset + kConsumers * 2 * kWarps * kWarpSums * 4;
  // Per consumer thread its 4 rows' sink and local mass (touched on few tiles: kept out of
  // the registers), then per consumer the row block of each warp's rows.
  static constexpr int kMassOffset = kColumnsOffset + kConsumers * 2 * kWarps * kKeys * 4;
  static constexpr int kBlockOffset = kMassOffset + kConsumers * 128 * 8 * 4;
  // Per consumer its threads' 4 rows' entropy sums, [consumer][row a][thread] (added to
  // once per row and tile: out of the registers, where the kernel that computes the rows
  // itself spilled).
  static constexpr int kEntropyOffset = kBlockOffset + kConsumers * kWarps * 4;
  // Consumer 1's per-row partials for consumer 0 at the end (5 values x 4 rows x 128
  // threads), apart from every stage: a consumer whose tiles are few may still be zeroing
  // its stages when the other hands over.
  static constexpr int kMergeOffset = kEntropyOffset + kConsumers * 4 * 128 * 4;
  static constexpr int kMergeFloats = 5 * 4 * 128;
  static constexpr int kBarrierOffset = kMergeOffset + kMergeFloats * 4;
  // q_full, full[s], empty[s], merge_full, then per consumer and sums buffer sums_full, sums_empty
  static constexpr int kBarriers = 2 + 2 * kStages + 2 * kConsumers * 2;
  static constexpr int kSmemBytes = kBarrierOffset + kBarriers * 8 + 1024;  // + alignment slack
  static_assert(kKOffset % 1024 == 0 && kTileBytes % 1024 == 0, "swizzle atoms");
  static_assert(kStageBytes >= capture_layout::kDiagStageFloats * 4, "diagonal stage");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory of one H100 CTA");
  // Shared addresses from the aligned base, shared by the consumers that write these
  // regions and the readers: consumer c's 4 warps' distance planes and column planes of
  // sums buffer `buffer` (0, 1), and the row blocks of its warps.
  __device__ static uint32_t sums_at(uint32_t base, int consumer, int buffer) {
    return base + kSumsOffset + uint32_t((consumer * 2 + buffer) * kWarps * kWarpSums * 4);
  }
  __device__ static uint32_t columns_at(uint32_t base, int consumer, int buffer) {
    return base + kColumnsOffset + uint32_t((consumer * 2 + buffer) * kWarps * kKeys * 4);
  }
  __device__ static uint32_t blocks_at(uint32_t base, int consumer) {
    return base + kBlockOffset + uint32_t(consumer * kWarps * 4);
  }
};

// Named barrier: consumer 1 starts on kStaggerBarrier. The handovers are mbarriers (each
// arrive releases the arriving thread's own stores): per consumer c and sums buffer (two,
// alternating by the consumer's tiles) sums_full (the consumer's 128 threads arrive once
// their sums are in, its reader waits) and sums_empty (the reader's 32 threads arrive once
// they have added them; the consumer waits before it writes that buffer again), and at the end
// of the CTA merge_full.
constexpr int kStaggerBarrier = 4;
constexpr int kSumsReaders = 32;  // one warp of the producer warpgroup a consumer
constexpr float kMaskedScore = -1e30f;

template <int Stages>
struct CapturePlan {
  uint32_t q, k, barriers;  // shared addresses
  unsigned char* smem;      // generic address of the same (aligned) base
  int row0, first_pos, last_pos;
  detail::KeyTiles tiles;
  int slot, head, kv_head;
  __device__ uint32_t q_full() const { return barriers; }
  __device__ uint32_t full(int stage) const { return barriers + 8 * (1 + stage); }
  __device__ uint32_t empty(int stage) const { return barriers + 8 * (1 + Stages + stage); }
  // Consumer 1's 128 threads arrive once their row partials are in shared memory.
  __device__ uint32_t merge_full() const { return barriers + 8 * (1 + 2 * Stages); }
  __device__ uint32_t sums_full(int consumer, int buffer) const {
    return barriers + 8 * (2 + 2 * Stages + 2 * consumer + buffer);
  }
  __device__ uint32_t sums_empty(int consumer, int buffer) const { return sums_full(consumer, buffer) + 8 * 4; }
  __device__ int tile_count() const { return tiles.last - tiles.first + 1; }
};

template <int HeadDim>
__device__ __forceinline__ void produce_capture(const CapturePlan<CaptureTile<HeadDim>::kStages>& b,
                                                const CUtensorMap* map_q, const CUtensorMap* map_k) {
  using G = CaptureTile<HeadDim>;
  constexpr int S = G::kStages;
  prefetch_tensor_map(map_q);
  prefetch_tensor_map(map_k);
  mbarrier_arrive_expect_tx(b.q_full(), G::kQBytes);
#pragma unroll
  for (int c = 0; c < G::kColumnBlocks; ++c)
    tma_load_2d(b.q + c * G::kRows * 128, map_q, b.head * HeadDim + 64 * c, b.row0, b.q_full());
  const int count = b.tile_count();
  for (int i = 0; i < count; ++i) {
    const int stage = i % S;
    const uint32_t slot = b.k + stage * G::kTileBytes;
    mbarrier_wait(b.empty(stage), ((i / S) & 1) ^ 1);  // the first pass finds every slot free
    mbarrier_arrive_expect_tx(b.full(stage), G::kTileBytes);
#pragma unroll
    for (int c = 0; c < G::kColumnBlocks; ++c)
      tma_load_2d(slot + c * G::kKeys * 128, map_k, b.kv_head * HeadDim + 64 * c, (b.tiles.last - i) * G::kKeys,
                  b.full(stage));
  }
}

// S for the 64 rows of m-tile m (rows 16k + 8m + (0..7), k < 8): the Q descriptor
// (desc_q) steps 2048 bytes per 8-row group; k step ks reads 32 bytes into the 128-byte
// rows of column block ks / 4 of Q and of the K tile (desc_k). A descriptor's low field
// is the address / 16, so offsets are added to it (shared addresses stay below 2^18).
template <int HeadDim, typename T>
__device__ __forceinline__ void issue_capture_scores(float (&s)[64], uint64_t desc_q, uint64_t desc_k, int m) {
  using G = CaptureTile<HeadDim>;
#pragma unroll
  for (int ks = 0; ks < HeadDim / 16; ++ks) {
    const uint64_t a = desc_q + uint64_t((m * 1024 + (ks / 4) * G::kRows * 128 + (ks % 4) * 32) >> 4);
    const uint64_t bk = desc_k + uint64_t(((ks / 4) * G::kKeys * 128 + (ks % 4) * 32) >> 4);
    wgmma_m64n128k16_ss<T>(s, a, bk, ks > 0 ? 1 : 0);
  }
}

// m-tile m of tile i (slot i % kStages of the K ring; m-tile 0 waits for it to fill).
template <int HeadDim, typename T>
__device__ __forceinline__ void issue_products(const CapturePlan<CaptureTile<HeadDim>::kStages>& b, float (&s)[64],
                                               int i, int m) {
  using G = CaptureTile<HeadDim>;
  const int stage = i % G::kStages;
  if (m == 0) mbarrier_wait(b.full(stage), (i / G::kStages) & 1);
  fence_registers(s);
  wgmma_fence();
  issue_capture_scores<HeadDim, T>(s, smem_descriptor(b.q, 16, 2048),
                                   smem_descriptor(b.k + uint32_t(stage * G::kTileBytes), 16, 1024), m);
  wgmma_commit();
}

// p's bits with the 5 low bits replaced by `code` (mask = ~31 in a register the compiler
// cannot see through, so that this is one LOP3: (p & mask) | code).
__device__ __forceinline__ uint32_t top1_candidate(float p, uint32_t mask, uint32_t code) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;\n" : "=r"(r) : "r"(__float_as_uint(p)), "r"(mask), "r"(code));
  return r;
}

// This thread's 4 rows (a = 0..3: row 32 warp + 8a + g of the block): what the forward's
// lse gives and what the tiles add up.
struct CaptureRows {
  float lse2[4];  // lse * log2 e
  uint32_t entropy;  // shared address of row 0's sum of p log2 p; row a's at + 512 a
  uint32_t mass;     // shared address of the rows' sink mass [4] and local mass [4]
  uint32_t best[4];       // p bits, low 5 bits = 31 - index of the key among the thread's 32 in its tile
  uint32_t best_tile[2];  // that tile's index in the block's walk, rows a (low half) and a + 2 (high half)
};

// What every row of a warp shares for one tile.
struct CaptureTileView {
  int key0, key_t;  // the tile's first key; key of element (j = 0, e = 0) of this thread
  int tile;         // its index in the block's walk (below 65536: capture_hopper_limitation caps keys at 2^23)
  int warp_pos, last_pos, g;
  bool masked, sink_tile, local_tile;
};

// The statistics of one m-tile come in three parts: the mask (masked tiles only), the
// branch-free probabilities with the row statistics, and the rare sums (sink, local).
// The consumer adds the column and diagonal partials (attention_capture_hopper_reduce.cuh)
// between the second and the third. Measured against the single function before: 3-5%
// faster with the rows in the capture (docs/cuda-attention.md). ptxas still issues the
// m-tile's 64 exponentials back to back (ncu), whatever the source order.

// Masked elements (keys past a row, before its window, rows past n) get kMaskedScore.
template <int M>
__device__ __forceinline__ void mask_scores(float (&s)[64], const CaptureTileView& v, const detail::CaptureArgs& args) {
  if (!v.masked) return;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    // Visible columns col = 8j + e (key key_t + col) satisfy lo <= col <= hi.
    const int pos = v.warp_pos + 8 * (2 * h + M) + v.g;
    const int hi = pos > v.last_pos ? -1 : pos - v.key_t;
    const int lo = args.window > 0 ? hi - args.window + 1 : -1;
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e)
        if (8 * j + e > hi || 8 * j + e < lo) s[4 * j + 2 * h + e] = kMaskedScore;
  }
}

// Scores of rows a = 2h + M to probabilities, with entropy and top-1 (unless
// RowsFromForward: the forward computed them). Branch-free.
template <int M, bool RowsFromForward>
__device__ __forceinline__ void probabilities(float (&s)[64], CaptureRows& r, const CaptureTileView& v,
                                              const detail::CaptureArgs& args, uint32_t mask) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int a = 2 * h + M;
    float entropy[2] = {0.0f, 0.0f};
    uint32_t top[2] = {0u, 0u};
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float log2p = fmaf(s[4 * j + 2 * h + e], args.scale_log2, -r.lse2[a]);
        const float p = detail::exp2_approx(log2p);
        s[4 * j + 2 * h + e] = p;
        if constexpr (!RowsFromForward) {
          entropy[e] = fmaf(p, log2p, entropy[e]);
          top[e] = max(top[e], top1_candidate(p, mask, uint32_t(31 - (2 * j + e))));
        }
      }
    if constexpr (!RowsFromForward) {
      const uint32_t at = r.entropy + 512 * a;
      capture::st_shared(at, capture::ld_shared(at) + (entropy[0] + entropy[1]));
      const uint32_t tile_top = max(top[0], top[1]);
      // Ties: this tile's keys are lower (tiles come in descending key order).
      const bool takes = (tile_top & 0xffffffe0u) >= (r.best[a] & 0xffffffe0u);
      const int shift = 16 * (a >> 1);  // a = 2h + M: rows M (h = 0) and M + 2 share a word
      r.best[a] = takes ? tile_top : r.best[a];
      r.best_tile[M] = takes ? (r.best_tile[M] & ~(0xffffu << shift)) | (uint32_t(v.tile) << shift) : r.best_tile[M];
    }
  }
}

// Sink mass (keys [0, sink_tokens)) and local mass (keys (pos - local_window, pos]) of
// rows a = 2h + M, on the tiles that hold such keys.
template <int M>
__device__ __forceinline__ void rare_row_sums(const float (&s)[64], CaptureRows& r, const CaptureTileView& v,
                                              const detail::CaptureArgs& args) {
  if (args.statistics && v.sink_tile) {
    const int limit = args.sink_tokens - v.key_t;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < 16; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          if (8 * j + e < limit) sum += s[4 * j + 2 * h + e];
      const uint32_t at = r.mass + 4 * (2 * h + M);
      capture::st_shared(at, capture::ld_shared(at) + sum);
    }
  }
  if (args.statistics && v.local_tile) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int limit = v.warp_pos + 8 * (2 * h + M) + v.g - args.local_window - v.key_t;
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < 16; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          if (8 * j + e > limit) sum += s[4 * j + 2 * h + e];
      const uint32_t at = r.mass + 16 + 4 * (2 * h + M);
      capture::st_shared(at, capture::ld_shared(at) + sum);
    }
  }
}

// Plain stores of the probabilities of m-tile M's rows inside the requested window
// [q0, q1) x [k0, k1).
template <int M>
__device__ __forceinline__ void store_window(const float (&s)[64], const CaptureTileView& v,
                                             const detail::CaptureArgs& args, int slot) {
  float* out = args.window_probs + int64_t(slot) * args.window_stride;
  const int width = args.window_k1 - args.window_k0;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int pos = v.warp_pos + 8 * (2 * h + M) + v.g;
    if (pos < args.window_q0 || pos >= args.window_q1 || pos > v.last_pos) continue;
    float* row = out + int64_t(pos - args.window_q0) * width;
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = v.key_t + 8 * j + e;
        if (key >= args.window_k0 && key < args.window_k1) row[key - args.window_k0] = s[4 * j + 2 * h + e];
      }
  }
}

}  // namespace attnscope::kernels::cuda::hopper
