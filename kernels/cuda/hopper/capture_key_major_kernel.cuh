#pragma once
// The key-major Hopper (sm_90a) capture pass: what attention_capture_hopper_kernel.cuh
// computes when the forward has computed the rows' entropy and top-1 (same arguments,
// buffers and definitions), with the column, pooled and diagonal sums on the tensor cores.
//
// Why: the row-major kernel spends ~9.5 instructions a probability, two thirds of them
// on the sums (4-row adds, a shuffle reduce-scatter, diagonal slots and their stage),
// and is latency-bound at two warps a scheduler (docs/cuda-attention.md). Here the
// consumer computes S^T = K Q^T (128 keys x 128 queries a tile, as two halves of 64 keys:
// A = the K half, B = Q, both from shared memory), turns it into p (one FFMA and one MUFU a probability), rounds
// p * 2^14 to fp16 pairs (half a F2FP) and lets two small products form every sum:
//   columns and pooled map  D_pool = P^T B_pool: P^T is already in the register layout of
//     a wgmma A operand (m64n16k16, 8 k steps); B_pool's column n marks the queries of the
//     CTA's n-th row block, so D_pool[key][n] is the key's sum over that row block;
//   diagonals  the warps store P16 transposed and skewed by whole 8-key chunks
//     (stmatrix.trans, one a 4 pairs) so that a product with B_diag[key][n] = (key % 8 ==
//     n) gives, per row c and n, a sum over one distance (capture_key_major_layout.h).
// Both products read fp16 and accumulate in fp32; B's entries are 2^-14, which undoes the
// scale. p is then exact to fp16's 11 bits (relative 2^-12 a term, 4.9e-4 for a sum at
// worst), where the row-major kernel's sums are fp32: METHOD.md's band for bf16 operands.
// The sink and local mass and the probability window use p in fp32, as before.
//
// Status (2026-11-24, session 13): opt-in (ATTNSCOPE_CAPTURE_LAYOUT=key-major;
// attention_capture_kernels.h) and passing every [capture] test, but on the H100 it takes
// 1.05-1.15x the row-major kernel's time at 4K-64K (docs/cuda-attention.md, "Key-major
// capture": 128-key tiles did not change the time; shared memory is 73% busy, the proxy
// fences and barriers around the skew stores hold the consumers 13% of their samples).
//
// Grid: x = captured heads, y = query blocks of 128 rows (longest first). CTA: 3 warpgroups.
//   warpgroup 0: one thread loads Q once, then K tiles of 128 keys by TMA into a 2-slot
//     ring, from the diagonal down; warp 1 + c sums consumer c's distances and warp 3 the
//     columns and pooled blocks of every tile from the consumers' planes (D_pool, D_diag),
//     adding them to the results with vector atomics.
//   warpgroups 1, 2: consumer c takes tiles c, c + 2, ... (consumer 1 half a tile late); a
//     tile's lower half's exponentials run while the upper half's product does.
// The planes are double-buffered per consumer and handed over by mbarriers (sums_full,
// sums_empty), as in the row-major kernel. Masked elements get the score -1e30 (p = 0);
// rows past n get lse = +1e30 (p = 0). Requires pool_block >= 16 (a CTA's 128 rows meet
// at most 9 row blocks; B_pool has 16 columns) and the rows from the forward.
#include <cuda_fp16.h>

#include "kernels/cuda/flash_attention_mma.cuh"
#include "kernels/cuda/hopper/attention_capture_hopper_reduce.cuh"
#include "kernels/cuda/hopper/capture_key_major_tile.cuh"
#include "kernels/cuda/hopper/hopper_wgmma.cuh"

namespace attnscope::kernels::cuda::hopper {

namespace key_major {

constexpr float kMaskedScore = -1e30f;
constexpr float kUnscale = 1.0f / float(1 << kFp16Scale);

__device__ __forceinline__ float2 ld_shared2(uint32_t address) {
  float2 v;
  asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];\n" : "=f"(v.x), "=f"(v.y) : "r"(address) : "memory");
  return v;
}
__device__ __forceinline__ void red_shared_add(uint32_t address, float v) {
  asm volatile("red.shared.add.f32 [%0], %1;\n" ::"r"(address), "f"(v) : "memory");
}
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// Per-row sums over this thread's two keys where `take` holds, summed over the warp's 8
// lanes of a query and added to the rows' masses: 8 queries at a time (few registers: the
// other half's scores are in flight meanwhile), lane g adding the chunk's query g.
template <typename Take>
__device__ __forceinline__ void add_row_mass(const float (&p)[64], uint32_t mass, int lane, Take take) {
  const int g = lane >> 2;
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    float v[8];  // element (j = 4c + k / 2, e = k % 2)
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const int j = 4 * c + k / 2, e = k % 2;
      v[k] = (take(0, j, e) ? p[4 * j + e] : 0.0f) + (take(1, j, e) ? p[4 * j + 2 + e] : 0.0f);
    }
#pragma unroll
    for (int mask = 4; mask < 32; mask <<= 1)
#pragma unroll
      for (int k = 0; k < 8; ++k) v[k] += __shfl_xor_sync(0xffffffffu, v[k], mask);
    float mine = v[0];
#pragma unroll
    for (int k = 1; k < 8; ++k) mine = g == k ? v[k] : mine;
    if (mine != 0.0f) red_shared_add(mass + 4 * uint32_t(query_of(lane, 4 * c + g / 2, g % 2)), mine * kUnscale);
  }
}

}  // namespace key_major

// The readers, from the consumers' planes, with vector atomics: warp 3 of the producer
// warpgroup takes every tile in order (both consumers') for the column sums (keys key0 +
// 4 lane + 0..3) and the pooled blocks; warp 1 + c takes consumer c's tiles for their
// 255 distances. (One warp doing all of a consumer's roles held the consumers a quarter of
// their time on sums_empty, ncu.)
template <int HeadDim>
__device__ __forceinline__ void read_key_major_columns(const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args,
                                                       int lane) {
  using G = KeyMajorTile<HeadDim>;
  namespace km = key_major;
  const int count = b.tile_count();
  const int pb = args.pool_block;
  const int block0 = b.first_pos / pb, blocks = b.last_pos / pb - block0 + 1;
  // Pool blocks of 2^k >= 4 keys: a lane's 4 keys lie in one key block, the block's lanes
  // are `segment` aligned lanes, and one segmented butterfly sums them.
  const bool aligned = pb >= 4 && (pb & (pb - 1)) == 0;
  const int segment = min(pb / 4, 32);
  float* const column_out = args.column_sums + int64_t(b.slot) * args.key_stride;
  float* const pooled = args.pooled + int64_t(b.slot) * args.pooled_stride + int64_t(block0 - args.pooled_row0) * args.pooled_cols;
  for (int i = 0; i < count; ++i) {
    const int consumer = i % G::kConsumers, use = i / G::kConsumers, buffer = use & 1;
    mbarrier_wait(b.sums_full(consumer, buffer), (use >> 1) & 1);
    const int key0 = (b.tiles.last - i) * G::kTileKeys, key = key0 + 4 * lane;
    const uint32_t pool = b.pool_plane(consumer, buffer) + 16 * uint32_t(lane);
    float4 column = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (aligned) {
      const int block = key / pb;
#pragma unroll 1
      for (int n = 0; n < blocks; ++n) {
        const float4 v = capture::ld_shared4(pool + 4 * uint32_t(km::pool_plane_index(n, 0)));
        column = capture::add4(column, v);
        float x = (v.x + v.y) + (v.z + v.w);
        for (int mask = segment / 2; mask > 0; mask >>= 1) x += __shfl_xor_sync(0xffffffffu, x, mask);
        if ((lane & (segment - 1)) == 0 && x != 0.0f && block < args.pooled_cols)
          capture::red_add(pooled + int64_t(n) * args.pooled_cols + block, x);
      }
    } else {
      const int block_first = key0 / pb, block_last = min((key0 + G::kTileKeys - 1) / pb, args.pooled_cols - 1);
#pragma unroll 1
      for (int n = 0; n < blocks; ++n) {  // one row block at a time, each key block in turn
        const float4 v = capture::ld_shared4(pool + 4 * uint32_t(km::pool_plane_index(n, 0)));
        column = capture::add4(column, v);
        const float q[4] = {v.x, v.y, v.z, v.w};
        for (int block = block_first; block <= block_last; ++block) {
          const int lo = block * pb, hi = lo + pb;
          float x = 0.0f;
#pragma unroll
          for (int e = 0; e < 4; ++e) x += key + e >= lo && key + e < hi ? q[e] : 0.0f;
          x = capture::warp_sum(x);
          if (lane == 0 && x != 0.0f) capture::red_add(pooled + int64_t(n) * args.pooled_cols + block, x);
        }
      }
    }
    // key + 3 < key_stride (a multiple of 64) when key < key_count; past key_count every sum is 0.
    if (key < args.key_count && (column.x != 0.0f || column.y != 0.0f || column.z != 0.0f || column.w != 0.0f))
      capture::red_add4(column_out + key, column);
    if (i + 2 * G::kConsumers < count) mbarrier_arrive(b.sums_empty(consumer, buffer));
  }
}

template <int HeadDim>
__device__ __forceinline__ void read_key_major_distances(const KeyMajorPlan<HeadDim>& b,
                                                         const detail::CaptureArgs& args, int consumer, int lane) {
  using G = KeyMajorTile<HeadDim>;
  namespace km = key_major;
  const int count = b.tile_count();
  float* const diagonal_out = args.diagonal_sums + int64_t(b.slot) * args.key_stride;
  for (int i = consumer; i < count; i += G::kConsumers) {
    const int use = i / G::kConsumers, buffer = use & 1;
    mbarrier_wait(b.sums_full(consumer, buffer), (use >> 1) & 1);
    const int off = b.first_pos - (b.tiles.last - i) * G::kTileKeys;
    const uint32_t diag = b.diag_plane(consumer, buffer);
    // Distances off - 127 .. off + 127 from an aligned start, lane L taking distance d =
    // lowest + 32 step + L (plane row r = d - off + 127: consecutive lanes, consecutive
    // words), then each aligned quad's 4 sums gathered into its first lane for one atomic.
    const int lowest = (off - km::kDiagOffset) & ~3;
#pragma unroll 1
    for (int step = 0; step < (km::kTileDistances + 3 + 31) / 32; ++step) {
      const int d = lowest + 32 * step + lane, r = d - off + km::kDiagOffset;
      float v = 0.0f;
      if (r >= 0 && r < km::kTileDistances) {
#pragma unroll
        for (int n = 0; n < 8; ++n) v += capture::ld_shared(diag + 4 * uint32_t(km::diag_plane_entry(r, n)));
      }
      const float v1 = __shfl_down_sync(0xffffffffu, v, 1), v2 = __shfl_down_sync(0xffffffffu, v, 2),
                  v3 = __shfl_down_sync(0xffffffffu, v, 3);
      if ((lane & 3) == 0) capture::add_distance_quad(args, diagonal_out, d, make_float4(v, v1, v2, v3));
    }
    if (i + 2 * G::kConsumers < count) mbarrier_arrive(b.sums_empty(consumer, buffer));
  }
}

namespace key_major {

// S^T of one half of a tile: 64 keys (A, from the K slot) x 128 queries (B = Q).
template <int HeadDim, typename T>
__device__ __forceinline__ void issue_half_scores(float (&s)[64], uint64_t desc_k, uint64_t desc_q) {
#pragma unroll
  for (int ks = 0; ks < HeadDim / 16; ++ks) {
    const uint64_t a = desc_k + uint64_t(((ks / 4) * kKeys * 128 + (ks % 4) * 32) >> 4);
    const uint64_t bq = desc_q + uint64_t(((ks / 4) * kQueries * 128 + (ks % 4) * 32) >> 4);
    wgmma_m64n128k16_ss<T>(s, a, bq, ks > 0 ? 1 : 0);
  }
  wgmma_commit();
}

// A half's scores to p * 2^14: the mask (warp-uniform test first), the exponentials, then
// the rare sums in fp32 (sink mass, local mass, the probability window).
template <int HeadDim>
__device__ __forceinline__ void half_probabilities(float (&p)[64], uint32_t lse2,
                                                   const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args,
                                                   int key0, int warp, int lane, bool window) {
  const int g = lane >> 2, t = lane & 3;
  const int off = b.first_pos - key0, kw = 16 * warp;
  int base[2];  // element (h, j, e) lies at distance base[h] + 8j + e
#pragma unroll
  for (int h = 0; h < 2; ++h) base[h] = off + 2 * t - kw - 8 * h - g;
  if (off - kw - 15 < 0 || (args.window > 0 && off + 127 - kw >= args.window)) {
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int j = 0; j < 16; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int d = base[h] + 8 * j + e;
          if (d < 0 || (args.window > 0 && d >= args.window)) p[4 * j + 2 * h + e] = kMaskedScore;
        }
  }
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const float2 l = ld_shared2(lse2 + 32 * uint32_t(j));  // queries 8j + 2t, + 1
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      p[4 * j + 2 * h] = detail::exp2_approx(fmaf(p[4 * j + 2 * h], args.scale_log2, -l.x));
      p[4 * j + 2 * h + 1] = detail::exp2_approx(fmaf(p[4 * j + 2 * h + 1], args.scale_log2, -l.y));
    }
  }

  if (args.statistics && key0 + kw < args.sink_tokens) {
    const bool sink[2] = {key0 + kw + g < args.sink_tokens, key0 + kw + 8 + g < args.sink_tokens};
    add_row_mass(p, b.sink_mass(), lane, [&](int h, int, int) { return sink[h]; });
  }
  if (args.statistics && off - kw - 15 < args.local_window)
    add_row_mass(p, b.local_mass(), lane, [&](int h, int j, int e) { return base[h] + 8 * j + e < args.local_window; });
  if (window && key0 + kw < args.window_k1 && key0 + kw + 16 > args.window_k0) {
    float* const out = args.window_probs + int64_t(b.slot) * args.window_stride;
    const int width = args.window_k1 - args.window_k0;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int key = key0 + key_of(warp, lane, h);
      if (key < args.window_k0 || key >= args.window_k1) continue;
#pragma unroll
      for (int j = 0; j < 16; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int pos = b.first_pos + query_of(lane, j, e);
          if (pos >= args.window_q0 && pos < args.window_q1 && pos <= b.last_pos)
            out[int64_t(pos - args.window_q0) * width + key - args.window_k0] = p[4 * j + 2 * h + e] * kUnscale;
        }
    }
  }
}

__device__ __forceinline__ void pack_half(const float (&p)[64], uint32_t (&p16)[2][16]) {
#pragma unroll
  for (int j = 0; j < 16; ++j)
#pragma unroll
    for (int h = 0; h < 2; ++h) p16[h][j] = pack_half2(p[4 * j + 2 * h], p[4 * j + 2 * h + 1]);
}

// P16 of a half into the consumer's skew buffer. A warp's wait covers its own part of a
// product, so the warpgroup meets before the stores (every warp's part of the last diagonal
// product has read the buffer) and after them (all stores are in before the next reads).
__device__ __forceinline__ void store_skew(const uint32_t (&p16)[2][16], uint32_t stmatrix_at, int consumer) {
  named_barrier_sync(1 + consumer, 128);
#pragma unroll
  for (int s = 0; s < 8; ++s)
    stmatrix_x4_trans(stmatrix_at + 2048u * uint32_t(s), p16[0][2 * s], p16[1][2 * s], p16[0][2 * s + 1],
                      p16[1][2 * s + 1]);
  fence_proxy_async_shared();
  named_barrier_sync(1 + consumer, 128);
}

// A half's sums: D_pool of its 64 keys, and its diagonal m-tiles into the tile's
// accumulators (the upper half one m-tile lower: capture_key_major_layout.h).
template <int Half>
__device__ __forceinline__ void issue_half_sums(const uint32_t (&p16)[2][16], float (&pool)[8], float (&diag)[4][4],
                                                uint64_t desc_b_pool, uint64_t desc_skew, uint64_t desc_b_diag) {
#pragma unroll
  for (int ks = 0; ks < 8; ++ks)
    wgmma_m64n16k16_rs_f16(pool, p16[0][2 * ks], p16[1][2 * ks], p16[0][2 * ks + 1], p16[1][2 * ks + 1],
                           desc_b_pool + uint64_t(((ks / 4) * 2048 + (ks % 4) * 32) >> 4), ks > 0 ? 1 : 0);
#pragma unroll
  for (int mt = 0; mt < kDiagTiles; ++mt)
#pragma unroll
    for (int ks = 0; ks < 4; ++ks)
      // The first product into an accumulator overwrites it: the lower half's for m-tiles
      // 1-3, the upper half's m-tile 0 for accumulator 0.
      wgmma_m64n8k16_ss_f16(diag[diag_accumulator(mt, Half)], desc_skew + uint64_t((mt * 8192 + ks * 32) >> 4),
                            desc_b_diag + uint64_t((ks * 32) >> 4), ks > 0 || (Half == 1 && mt > 0) ? 1 : 0);
  wgmma_commit();
}

}  // namespace key_major

template <int HeadDim, typename T>
__device__ __forceinline__ void consume_key_major(const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args,
                                                  int consumer) {
  using G = KeyMajorTile<HeadDim>;
  namespace km = key_major;
  constexpr int S = G::kStages;
  const int thread = int(threadIdx.x) & 127;
  const int warp = thread >> 5, lane = thread & 31;
  const int count = b.tile_count();

  const uint32_t lse2 = b.lse2() + 4 * uint32_t(km::query_of(lane, 0, 0));
  const uint32_t stmatrix_at = b.skew(consumer) + uint32_t(km::stmatrix_address(warp, lane, 0));
  // Every operand's descriptor is the base's plus its offset / 16 (the address field does
  // not overflow below 256 KB): one 64-bit value, the rest immediates.
  const uint64_t desc_base = smem_descriptor(b.base, 16, 1024);
  const uint64_t desc_q = desc_base + (G::kQOffset >> 4);
  const uint64_t desc_skew = desc_base + ((G::kSkewOffset + consumer * G::kSkewBytes) >> 4);
  const uint64_t desc_b_diag = desc_base + (G::kBDiagOffset >> 4);
  const uint64_t desc_b_pool = desc_base + (G::kBPoolOffset >> 4);
  const bool window = args.window_probs != nullptr && b.first_pos < args.window_q1 && b.last_pos >= args.window_q0;
  mbarrier_wait(b.q_full(), 0);

  if (consumer == 1 && count > 1) named_barrier_sync(kKeyMajorStaggerBarrier, 256);
  int buffer = 0;
  for (int i = consumer; i < count; i += G::kConsumers) {
    const int stage = i % S;
    const int key0 = (b.tiles.last - i) * G::kTileKeys;
    mbarrier_wait(b.full(stage), (i / S) & 1);
    // Both halves' scores in flight; the lower half's exponentials run under the upper's product.
    float lo[64], hi[64];
    wgmma_fence();
    const uint64_t desc_k = desc_base + ((G::kKOffset + stage * G::kTileBytes) >> 4);
    km::issue_half_scores<HeadDim, T>(lo, desc_k, desc_q);
    km::issue_half_scores<HeadDim, T>(hi, desc_k + (G::kHalfBytes >> 4), desc_q);
    wgmma_wait<1>();
    fence_registers(lo);
    km::half_probabilities(lo, lse2, b, args, key0, warp, lane, window);
    if (consumer == 0 && i == 0 && count > 1) named_barrier_arrive(kKeyMajorStaggerBarrier, 256);

    uint32_t p16_lo[2][16], p16_hi[2][16];
    float pool_lo[8], pool_hi[8], diag[km::kDiagAccumulators][4];
    if (args.statistics) {
      km::pack_half(lo, p16_lo);
      km::store_skew(p16_lo, stmatrix_at, consumer);  // the previous tile's products are done
      wgmma_fence();
      km::issue_half_sums<0>(p16_lo, pool_lo, diag, desc_b_pool, desc_skew, desc_b_diag);
      wgmma_wait<1>();  // the upper half's scores (the sums may still run)
    } else {
      wgmma_wait<0>();
    }
    fence_registers(hi);
    if (lane == 0) mbarrier_arrive(b.empty(stage));
    km::half_probabilities(hi, lse2, b, args, key0 + G::kKeys, warp, lane, window);
    if (!args.statistics) continue;

    km::pack_half(hi, p16_hi);
    wgmma_wait<0>();  // the lower half's sums: its skew buffer is free again
    fence_registers(pool_lo);
#pragma unroll
    for (int a = 0; a < km::kDiagAccumulators; ++a) fence_registers(diag[a]);
    km::store_skew(p16_hi, stmatrix_at, consumer);
    wgmma_fence();
    km::issue_half_sums<1>(p16_hi, pool_hi, diag, desc_b_pool, desc_skew, desc_b_diag);
    wgmma_wait<0>();
    fence_registers(pool_hi);
#pragma unroll
    for (int a = 0; a < km::kDiagAccumulators; ++a) fence_registers(diag[a]);

    const int use = i / G::kConsumers;
    if (use >= 2) mbarrier_wait(b.sums_empty(consumer, buffer), ((use >> 1) - 1) & 1);
    const uint32_t pool_plane = b.pool_plane(consumer, buffer), diag_plane = b.diag_plane(consumer, buffer);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int at = km::pool_plane_index(km::pool_n(lane, j, e), km::key_of(warp, lane, h));
          capture::st_shared(pool_plane + 4 * uint32_t(at), pool_lo[4 * j + 2 * h + e]);
          capture::st_shared(pool_plane + 4 * uint32_t(at + km::kKeys), pool_hi[4 * j + 2 * h + e]);
        }
#pragma unroll
    for (int a = 0; a < km::kDiagAccumulators; ++a)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          capture::st_shared(diag_plane + 4 * uint32_t(km::diag_plane_index(km::diag_c(warp, lane, a, h), km::diag_n(lane, e))),
                             diag[a][2 * h + e]);
    mbarrier_arrive(b.sums_full(consumer, buffer));  // the readers take it from here
    buffer ^= 1;
  }

  // The rows: entropy and top-1 from the forward, sink and local mass from both consumers.
  named_barrier_sync(kKeyMajorRowsBarrier, 256);
  if (consumer != 0 || thread >= b.rows_valid) return;
  const int row = b.row0 + thread;
  const int64_t at = int64_t(b.slot) * args.row_stride + row;
  const int64_t from = int64_t(b.head) * args.forward_stride + row;
  args.row_entropy[at] = args.forward_entropy[from];
  args.row_top1[at] = args.forward_top1[from];
  if (args.statistics) {
    args.row_sink[at] = capture::ld_shared(b.sink_mass() + 4 * thread);
    args.row_local[at] = capture::ld_shared(b.local_mass() + 4 * thread);
  }
}

template <int HeadDim, typename T>
__global__ void __launch_bounds__(KeyMajorTile<HeadDim>::kThreads, 1)
    attention_capture_key_major_kernel(const __grid_constant__ CUtensorMap map_q, const __grid_constant__ CUtensorMap map_k,
                                       const __grid_constant__ detail::CaptureArgs args) {
  using G = KeyMajorTile<HeadDim>;
  extern __shared__ unsigned char smem_raw[];
  const uint32_t raw = detail::smem_address(smem_raw);

  KeyMajorPlan<HeadDim> b;
  b.base = (raw + 1023u) & ~1023u;  // swizzle atoms start on 1024 bytes
  b.slot = int(blockIdx.x);
  b.head = args.heads[b.slot];
  b.kv_head = b.head / args.group;
  b.row0 = int(gridDim.y - 1 - blockIdx.y) * G::kRows;
  b.rows_valid = min(G::kRows, args.n - b.row0);
  b.first_pos = args.first_position + b.row0;
  b.last_pos = b.first_pos + b.rows_valid - 1;
  b.tiles = detail::key_tiles(b.first_pos, b.last_pos, args.window, G::kTileKeys);

  if (threadIdx.x == 0) {
    mbarrier_init(b.q_full(), 1);
    for (int stage = 0; stage < G::kStages; ++stage) {
      mbarrier_init(b.full(stage), 1);
      mbarrier_init(b.empty(stage), 4);  // the 4 warps of the consumer that used it
    }
    for (int c = 0; c < G::kConsumers; ++c)
      for (int buffer = 0; buffer < 2; ++buffer) {
        mbarrier_init(b.sums_full(c, buffer), 128);
        mbarrier_init(b.sums_empty(c, buffer), 64);  // its distance reader and the column reader
      }
    fence_mbarrier_init();
  }
  init_key_major_shared(b, args);
  __syncthreads();

  const int warpgroup = int(threadIdx.x) / 128;
  if (warpgroup == 0) {
    setmaxnreg_decrease<G::kProducerRegisters>();
    if (threadIdx.x == 0)
      produce_key_major<HeadDim>(b, &map_q, &map_k);
    else if (threadIdx.x >= 32 && threadIdx.x < 96 && args.statistics)
      read_key_major_distances<HeadDim>(b, args, int(threadIdx.x) / 32 - 1, int(threadIdx.x) & 31);
    else if (threadIdx.x >= 96 && args.statistics)
      read_key_major_columns<HeadDim>(b, args, int(threadIdx.x) & 31);
  } else {
    setmaxnreg_increase<G::kConsumerRegisters>();
    consume_key_major<HeadDim, T>(b, args, warpgroup - 1);
  }
}

}  // namespace attnscope::kernels::cuda::hopper
