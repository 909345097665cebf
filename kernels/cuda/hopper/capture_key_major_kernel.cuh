#pragma once
// The key-major Hopper (sm_90a) capture pass: what attention_capture_hopper_kernel.cuh
// computes when the forward has computed the rows' entropy and top-1 (same arguments,
// buffers and definitions), with the column, pooled and diagonal sums on the tensor cores.
//
// Why: the row-major kernel spends ~9.5 instructions a probability, two thirds of them
// on the sums (4-row adds, a shuffle reduce-scatter, diagonal slots and their stage),
// and is latency-bound at two warps a scheduler (docs/cuda-attention.md). Here the
// consumer computes S^T = K Q^T (64 keys x 128 queries a tile: A = the K tile, B = Q,
// both from shared memory), turns it into p (one FFMA and one MUFU a probability), rounds
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
// Status (2026-11-24): opt-in (ATTNSCOPE_CAPTURE_LAYOUT=key-major; attention_capture_kernels.h)
// and passing every [capture] test, but on the H100 it takes 1.15-1.25x the row-major
// kernel's time at 16K-64K: the consumer issues 8.4 instructions a probability, not the ~3
// planned, because every 64-key tile pays its descriptors, address arithmetic, named
// barrier, proxy fence, two small products and the planes' handover (ncu;
// docs/cuda-attention.md, "Key-major capture", has the numbers and the next steps).
//
// Grid: x = captured heads, y = query blocks of 128 rows (longest first). CTA: 3 warpgroups.
//   warpgroup 0: one thread loads Q once, then K tiles of 64 keys by TMA into a 4-slot
//     ring, from the diagonal down; warp 1 + c is consumer c's reader: per tile, once the
//     consumer's planes (D_pool, D_diag) are in shared memory, it sums them into columns,
//     pooled blocks and distances and adds them to the results with vector atomics.
//   warpgroups 1, 2: consumer c takes tiles c, c + 2, ... (consumer 1 half a tile late).
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
constexpr int kFastPoolBlocks = 4;  // row blocks the reader's one-butterfly pooled path takes
constexpr float kUnscale = 1.0f / float(1 << kFp16Scale);

__device__ __forceinline__ float2 ld_shared2(uint32_t address) {
  float2 v;
  asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];\n" : "=f"(v.x), "=f"(v.y) : "r"(address) : "memory");
  return v;
}
__device__ __forceinline__ void red_shared_add(uint32_t address, float v) {
  asm volatile("red.shared.add.f32 [%0], %1;\n" ::"r"(address), "f"(v) : "memory");
}
__device__ __forceinline__ void red_add2(float* address, float x, float y) {
  asm volatile("red.global.add.v2.f32 [%0], {%1, %2};\n" ::"l"(address), "f"(x), "f"(y) : "memory");
}
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// What one warp's part of a tile needs: distance of (query 0, key 0) of the warp's keys is
// off - 16 warp; element (h, j, e) lies at distance base[h] + 8j + e.
struct WarpTile {
  int key0;    // the tile's first key
  int off;     // first_pos - key0: the distance of query 0 to key 0
  int kw;      // 16 warp: the warp's first key in the tile
  int base[2]; // off + 2t - kw - 8h - g
};

// Per-row sums over this thread's two keys where `take` holds, reduced over the warp's
// 8 lanes of a query (capture::reduce_columns) and added to the rows' masses.
template <typename Take>
__device__ __forceinline__ void add_row_mass(const float (&p)[64], uint32_t mass, int lane, Take take) {
  float v[32];
#pragma unroll
  for (int j = 0; j < 16; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) v[2 * j + e] = (take(0, j, e) ? p[4 * j + e] : 0.0f) + (take(1, j, e) ? p[4 * j + 2 + e] : 0.0f);
  capture::reduce_columns(v, lane);
#pragma unroll
  for (int i = 0; i < 4; ++i)
    if (v[i] != 0.0f)
      red_shared_add(mass + 4 * uint32_t(hopper::capture_layout::column_result_key(lane, i)), v[i] * kUnscale);
}

}  // namespace key_major

// The readers, from the consumers' planes, with vector atomics: warp 3 of the producer
// warpgroup takes every tile in order (both consumers') for the column sums (keys key0 +
// 2 lane + {0, 1}) and the pooled blocks; warp 1 + c takes consumer c's tiles for their
// 191 distances. (One warp doing all of a consumer's roles held the consumers a quarter of
// their time on sums_empty, ncu.)
template <int HeadDim>
__device__ __forceinline__ void read_key_major_columns(const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args,
                                                       int lane) {
  using G = KeyMajorTile<HeadDim>;
  namespace km = key_major;
  const int count = b.tile_count();
  const int pb = args.pool_block;
  const int block0 = b.first_pos / pb, blocks = b.last_pos / pb - block0 + 1;
  float* const column_out = args.column_sums + int64_t(b.slot) * args.key_stride;
  float* const pooled = args.pooled + int64_t(b.slot) * args.pooled_stride + int64_t(block0 - args.pooled_row0) * args.pooled_cols;
  for (int i = 0; i < count; ++i) {
    const int consumer = i % G::kConsumers, use = i / G::kConsumers, buffer = use & 1;
    mbarrier_wait(b.sums_full(consumer, buffer), (use >> 1) & 1);
    const int key0 = (b.tiles.last - i) * G::kKeys;
    const uint32_t pool = b.pool_plane(consumer, buffer);
    const int key = key0 + 2 * lane;
    const int block_first = key0 / pb, block_last = min((key0 + G::kKeys - 1) / pb, args.pooled_cols - 1);
    float c0 = 0.0f, c1 = 0.0f;
    if (block_first == block_last && blocks <= km::kFastPoolBlocks) {
      // The tile's keys in one key block, at most 4 row blocks (pool blocks of 43 and more):
      // the row blocks' sums in one butterfly, their shuffles interleaved.
      float x[km::kFastPoolBlocks];
#pragma unroll
      for (int n = 0; n < km::kFastPoolBlocks; ++n) {
        const float2 v = n < blocks ? km::ld_shared2(pool + 4 * uint32_t(km::pool_plane_index(n, 2 * lane)))
                                    : make_float2(0.0f, 0.0f);
        c0 += v.x;
        c1 += v.y;
        x[n] = v.x + v.y;
      }
#pragma unroll
      for (int mask = 16; mask > 0; mask >>= 1)
#pragma unroll
        for (int n = 0; n < km::kFastPoolBlocks; ++n) x[n] += __shfl_xor_sync(0xffffffffu, x[n], mask);
      if (lane < blocks && block_first < args.pooled_cols) {
        float mine = x[0];
#pragma unroll
        for (int n = 1; n < km::kFastPoolBlocks; ++n) mine = lane == n ? x[n] : mine;
        if (mine != 0.0f) capture::red_add(pooled + int64_t(lane) * args.pooled_cols + block_first, mine);
      }
    } else {
#pragma unroll 1
      for (int n = 0; n < blocks; ++n) {  // one row block at a time
        const float2 v = km::ld_shared2(pool + 4 * uint32_t(km::pool_plane_index(n, 2 * lane)));
        c0 += v.x;
        c1 += v.y;
        for (int block = block_first; block <= block_last; ++block) {
          const int lo = block * pb, hi = lo + pb;
          float x = (key >= lo && key < hi ? v.x : 0.0f) + (key + 1 >= lo && key + 1 < hi ? v.y : 0.0f);
          x = capture::warp_sum(x);
          if (lane == 0 && x != 0.0f) capture::red_add(pooled + int64_t(n) * args.pooled_cols + block, x);
        }
      }
    }
    // key + 1 < key_stride (a multiple of 64); past key_count every sum is 0.
    if (key < args.key_count && (c0 != 0.0f || c1 != 0.0f)) km::red_add2(column_out + key, c0, c1);
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
    const int off = b.first_pos - (b.tiles.last - i) * G::kKeys;
    const uint32_t diag = b.diag_plane(consumer, buffer);
    // Distances off - 63 .. off + 127 in aligned quads d0 .. d0 + 3; plane row r = d - off + 63.
    const int lowest = (off - km::kDiagOffset) & ~3;
#pragma unroll
    for (int quad = lane; quad < (km::kTileDistances + 3) / 4 + 1; quad += 32) {
      const int d0 = lowest + 4 * quad;
      float v[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = d0 + e - off + km::kDiagOffset;
        v[e] = 0.0f;
        if (r >= 0 && r < km::kTileDistances) {
          const float4 x = capture::ld_shared4(diag + 32 * uint32_t(r)), y = capture::ld_shared4(diag + 32 * uint32_t(r) + 16);
          v[e] = ((x.x + x.y) + (x.z + x.w)) + ((y.x + y.y) + (y.z + y.w));
        }
      }
      capture::add_distance_quad(args, diagonal_out, d0, make_float4(v[0], v[1], v[2], v[3]));
    }
    if (i + 2 * G::kConsumers < count) mbarrier_arrive(b.sums_empty(consumer, buffer));
  }
}

template <int HeadDim, typename T>
__device__ __forceinline__ void consume_key_major(const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args,
                                                  int consumer) {
  using G = KeyMajorTile<HeadDim>;
  namespace km = key_major;
  constexpr int S = G::kStages;
  const int thread = int(threadIdx.x) & 127;
  const int warp = thread >> 5, lane = thread & 31, g = lane >> 2, t = lane & 3;
  const int count = b.tile_count();

  // lse * log2 e - 14 of this thread's 32 queries (p * 2^14 = exp2(s scale log2 e - that)).
  float lse2[16][2];
#pragma unroll
  for (int j = 0; j < 16; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int query = km::query_of(lane, j, e);
      lse2[j][e] = query < b.rows_valid
                       ? args.lse[int64_t(b.head) * args.lse_stride + b.row0 + query] * detail::kLog2e - float(km::kFp16Scale)
                       : 1e30f;
    }
  const uint32_t stmatrix_at = b.skew(consumer) + uint32_t(km::stmatrix_address(warp, lane, 0));
  const uint64_t desc_q = smem_descriptor(b.q(), 16, 1024);
  const uint64_t desc_skew = smem_descriptor(b.skew(consumer), 16, 1024);
  const uint64_t desc_b_diag = smem_descriptor(b.b_diag(), 16, 1024);
  const uint64_t desc_b_pool = smem_descriptor(b.b_pool(), 16, 1024);
  const bool window = args.window_probs != nullptr && b.first_pos < args.window_q1 && b.last_pos >= args.window_q0;
  mbarrier_wait(b.q_full(), 0);

  if (consumer == 1 && count > 1) named_barrier_sync(kKeyMajorStaggerBarrier, 256);
  int buffer = 0;
  for (int i = consumer; i < count; i += G::kConsumers) {
    const int stage = i % S;
    mbarrier_wait(b.full(stage), (i / S) & 1);
    float p[64];
    wgmma_fence();
    const uint64_t desc_k = smem_descriptor(b.k(stage), 16, 1024);
#pragma unroll
    for (int ks = 0; ks < HeadDim / 16; ++ks) {
      const uint64_t a = desc_k + uint64_t(((ks / 4) * G::kKeys * 128 + (ks % 4) * 32) >> 4);
      const uint64_t bq = desc_q + uint64_t(((ks / 4) * G::kRows * 128 + (ks % 4) * 32) >> 4);
      wgmma_m64n128k16_ss<T>(p, a, bq, ks > 0 ? 1 : 0);
    }
    wgmma_commit();
    wgmma_wait<0>();
    fence_registers(p);
    if (lane == 0) mbarrier_arrive(b.empty(stage));

    km::WarpTile v;
    v.key0 = (b.tiles.last - i) * G::kKeys;
    v.off = b.first_pos - v.key0;
    v.kw = 16 * warp;
#pragma unroll
    for (int h = 0; h < 2; ++h) v.base[h] = v.off + 2 * t - v.kw - 8 * h - g;
    // Warp-uniform: any element past its query (distance < 0) or outside the window.
    if (v.off - v.kw - 15 < 0 || (args.window > 0 && v.off + 127 - v.kw >= args.window)) {
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int j = 0; j < 16; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int d = v.base[h] + 8 * j + e;
            if (d < 0 || (args.window > 0 && d >= args.window)) p[4 * j + 2 * h + e] = km::kMaskedScore;
          }
    }
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          p[4 * j + 2 * h + e] = detail::exp2_approx(fmaf(p[4 * j + 2 * h + e], args.scale_log2, -lse2[j][e]));

    // The rare sums, in fp32: sink mass, local mass, the probability window.
    if (args.statistics && v.key0 + v.kw < args.sink_tokens) {
      const bool sink[2] = {v.key0 + v.kw + g < args.sink_tokens, v.key0 + v.kw + 8 + g < args.sink_tokens};
      km::add_row_mass(p, b.sink_mass(), lane, [&](int h, int, int) { return sink[h]; });
    }
    if (args.statistics && v.off - v.kw - 15 < args.local_window)
      km::add_row_mass(p, b.local_mass(), lane,
                       [&](int h, int j, int e) { return v.base[h] + 8 * j + e < args.local_window; });
    if (window && v.key0 + v.kw < args.window_k1 && v.key0 + v.kw + 16 > args.window_k0) {
      float* const out = args.window_probs + int64_t(b.slot) * args.window_stride;
      const int width = args.window_k1 - args.window_k0;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int key = v.key0 + km::key_of(warp, lane, h);
        if (key < args.window_k0 || key >= args.window_k1) continue;
#pragma unroll
        for (int j = 0; j < 16; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int pos = b.first_pos + km::query_of(lane, j, e);
            if (pos >= args.window_q0 && pos < args.window_q1 && pos <= b.last_pos)
              out[int64_t(pos - args.window_q0) * width + key - args.window_k0] = p[4 * j + 2 * h + e] * km::kUnscale;
          }
      }
    }
    if (consumer == 0 && i == 0 && count > 1) named_barrier_arrive(kKeyMajorStaggerBarrier, 256);
    if (!args.statistics) continue;

    uint32_t p16[2][16];
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) p16[h][j] = km::pack_half2(p[4 * j + 2 * h], p[4 * j + 2 * h + 1]);
    // The previous tile's diagonal product is done (waited before this tile's scores).
#pragma unroll
    for (int s = 0; s < 8; ++s)
      stmatrix_x4_trans(stmatrix_at + 2048u * uint32_t(s), p16[0][2 * s], p16[1][2 * s], p16[0][2 * s + 1],
                        p16[1][2 * s + 1]);
    fence_proxy_async_shared();
    named_barrier_sync(1 + consumer, 128);

    float pool[8], diag[3][4];
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < 8; ++ks)
      wgmma_m64n16k16_rs_f16(pool, p16[0][2 * ks], p16[1][2 * ks], p16[0][2 * ks + 1], p16[1][2 * ks + 1],
                             desc_b_pool + uint64_t(((ks / 4) * 2048 + (ks % 4) * 32) >> 4), ks > 0 ? 1 : 0);
#pragma unroll
    for (int mt = 0; mt < 3; ++mt)
#pragma unroll
      for (int ks = 0; ks < 4; ++ks)
        wgmma_m64n8k16_ss_f16(diag[mt], desc_skew + uint64_t((mt * 8192 + ks * 32) >> 4),
                              desc_b_diag + uint64_t((ks * 32) >> 4), ks > 0 ? 1 : 0);
    wgmma_commit();
    wgmma_wait<0>();
    fence_registers(pool);
#pragma unroll
    for (int mt = 0; mt < 3; ++mt) fence_registers(diag[mt]);

    const int use = i / G::kConsumers;
    if (use >= 2) mbarrier_wait(b.sums_empty(consumer, buffer), ((use >> 1) - 1) & 1);
    const uint32_t pool_plane = b.pool_plane(consumer, buffer), diag_plane = b.diag_plane(consumer, buffer);
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          capture::st_shared(pool_plane + 4 * uint32_t(km::pool_plane_index(km::pool_n(lane, j, e), km::key_of(warp, lane, h))),
                             pool[4 * j + 2 * h + e]);
#pragma unroll
    for (int mt = 0; mt < 3; ++mt)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < 2; ++e)
          capture::st_shared(diag_plane + 4 * uint32_t(km::diag_plane_index(km::diag_c(warp, lane, mt, h), km::diag_n(lane, e))),
                             diag[mt][2 * h + e]);
    mbarrier_arrive(b.sums_full(consumer, buffer));  // the reader takes it from here
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
  b.tiles = detail::key_tiles(b.first_pos, b.last_pos, args.window, G::kKeys);

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
