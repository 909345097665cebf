#pragma once
// The Hopper (sm_90a) capture pass: what attention_capture_kernel.cuh computes (same
// arguments, buffers and definitions), with S = Q K^T on wgmma, K by TMA and far fewer
// ALU operations per probability. docs/cuda-attention.md has the numbers.
//
// Grid: x = captured heads, y = query blocks of 128 rows (longest first). Heads vary
// fastest so that the CTAs running at once belong to many heads: the CTAs of one head
// that start together reach the same distances at the same time (row block b, key tile j
// covers distances first_position + 128 (b - j) + [-127, 127]), and with the row blocks
// of one head side by side their diagonal atomics pile onto the same addresses. CTA: 3
// warpgroups.
//   warpgroup 0, producer (48 registers): one thread loads Q once, then the K tiles of 128
//     keys by TMA (128-byte swizzle) into a kStages ring, from the diagonal down; warps
//     1 and 2 are the readers, one a consumer: per tile of its consumer, once the
//     consumer's warps have put their column and distance sums in shared memory, the
//     reader adds them to the results with vector atomics (so that the consumers never
//     wait for one another or for the atomics); warp 3 has nothing to do.
//   warpgroups 1 and 2, consumers (224 registers): consumer c takes the block's key tiles
//     i = c, c + 2, ... (consumer 1 starting half a tile late, so that the two do not
//     queue their products behind each other). For all 128 rows it issues two m64n128
//     products (the Q descriptor
//     steps 2048 bytes per 8-row group, so m-tile m holds rows 16k + 8m + (0..7) and
//     warp w gets the contiguous rows 32w..32w+31), frees the K slot when both are done
//     and turns scores into p = exp2(s * scale log2 e - lse log2 e), then per element:
//       entropy   one FFMA: the sum of p log2 p (the exponent is already there)
//       top-1     one LOP3 and half a 3-way integer max: p's bits, 5 low bits replaced by
//                 31 - (the element's index among the thread's 32 keys), so the maximum
//                 is the largest p and, among p equal in all higher bits (relative 2^-19),
//                 the lowest key; a tile whose maximum is >= the running one takes over
//                 (tiles come in descending key order); the quad and consumers merge last
//       columns   4 rows summed in registers, then per tile a 3-round shuffle
//                 reduce-scatter into the warp's plane in shared memory; the reader
//                 sums the 4 planes, one vector atomic per 4 keys
//       diagonals 19 x 2 slots in registers, then per tile a conflict-free stage with one
//                 writer per entry that the warp sums with 16-byte loads into its distance
//                 plane; the reader sums the 4 planes (aligned quads), one vector
//                 atomic per 4 of the tile's 255 distances
//       pooled    the reader, from the column planes of the warps whose rows lie in one row
//                 block (one warp sum per key block); a warp whose rows span row blocks
//                 adds its own per block (slow)
//     Masks, sink and local mass (kept in shared memory) and the probability window only
//     on tiles that need them. The sums are double-buffered per consumer, handed to the
//     readers and back by mbarriers (sums_full, sums_empty).
//   RowsFromForward: the forward computed each row's entropy and top-1 (args.forward_*;
//   flash_attention_hopper_kernel.cuh, RowStatistics); the loop skips both and the rows
//   are copied at the end.
//   The consumers keep their own per-row partials; consumer 1 hands them to consumer 0
//   through shared memory at the end (an mbarrier all its threads arrive on), which merges
//   them over the quad and writes the rows.
// Masked elements get the finite score -1e30 (p = 0 and p log2 p = 0, never NaN).
// Hangs become errors: an mbarrier wait unanswered for 2^26 tries traps (hopper_ptx.cuh).
// Assumes: head dim 64 or 128; positions fit in 32 bits; the K tensor map covers rows
// [0, first_position + n) only (later rows read as zeros and are masked).
#include "kernels/cuda/hopper/attention_capture_hopper_tile.cuh"

namespace attnscope::kernels::cuda::hopper {

// A reader's roles once a consumer's tile is in, from its 4 warps' sums in shared memory
// (columns: 128 keys a warp; sums: distance planes, aligned quads).

// The column sums of keys key0 + 4 lane .. + 3, one vector atomic.
__device__ __forceinline__ void add_tile_columns(const detail::CaptureArgs& args, int slot, uint32_t columns,
                                                 int key0, int lane) {
  float* const column_out = args.column_sums + int64_t(slot) * args.key_stride;
  float4 total = capture::ld_shared4(columns + 16 * lane);
#pragma unroll
  for (int w = 1; w < 4; ++w) total = capture::add4(total, capture::ld_shared4(columns + w * 512 + 16 * lane));
  // In bounds: key0 + 4 lane is a multiple of 4 below key_count <= key_stride, a multiple of 64.
  if (key0 + 4 * lane < args.key_count && (total.x != 0.0f || total.y != 0.0f || total.z != 0.0f || total.w != 0.0f))
    capture::red_add4(column_out + key0 + 4 * lane, total);
}

// The pooled map of the warps whose rows lie in one row block (the others add
// their own), per row block from those warps' column sums; blocks: the 4 warps' row block
// (-1 where a warp's rows span several or none are valid).
__device__ __forceinline__ void add_tile_pooled(const detail::CaptureArgs& args, int slot, uint32_t columns,
                                                uint32_t blocks, int key0, int lane) {
  float* const pooled = args.pooled + int64_t(slot) * args.pooled_stride;
  int block_of_warp[4];
#pragma unroll
  for (int w = 0; w < 4; ++w) block_of_warp[w] = __float_as_int(capture::ld_shared(blocks + 4 * w));
  const int key[4] = {4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3};
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    const int block = block_of_warp[w];
    if (block < 0 || (w > 0 && block_of_warp[w - 1] == block)) continue;  // summed with an earlier warp
    // Loaded where summed (not all 4 up front): the readers run in 48 registers.
    float4 sum = capture::ld_shared4(columns + w * 512 + 16 * lane);
#pragma unroll
    for (int other = w + 1; other < 4; ++other)
      if (block_of_warp[other] == block) sum = capture::add4(sum, capture::ld_shared4(columns + other * 512 + 16 * lane));
    const float v[4] = {sum.x, sum.y, sum.z, sum.w};
    capture::add_pooled(args, pooled, block, key0, v, key, lane);
  }
}

// Quad 0..64: distances d0 .. d0 + 3 of the 255 this tile reaches, d0 = lowest + 4 quad
// (lowest: the first, rounded down to a multiple of 4), summed over the 4 warps' planes
// (zero where a warp has none), one vector atomic.
template <int WarpSums>
__device__ __forceinline__ void add_tile_distances(const detail::CaptureArgs& args, int slot, uint32_t sums,
                                                   int lowest, int quad) {
  float* const diagonal_out = args.diagonal_sums + int64_t(slot) * args.key_stride;
  float4 v = capture::ld_shared4(sums + 16 * quad);
#pragma unroll
  for (int w = 1; w < 4; ++w) v = capture::add4(v, capture::ld_shared4(sums + w * WarpSums * 4 + 16 * quad));
  capture::add_distance_quad(args, diagonal_out, lowest + 4 * quad, v);
}

// A consumer's reader (warp 1 + consumer of the producer warpgroup): each of the
// consumer's tiles in order, once its 4 warps have put their sums in shared memory, the
// atomics that add them to the results (distances, columns, pooled map); then the buffer
// goes back to the consumer for its tile after next. One reader a consumer: when three
// warps shared the roles over the block's tiles in order, they waited for a consumer that
// had fallen behind while the other, its two buffers full, waited for them (a fifth of
// the consumers' time with the rows from the forward, ncu).
template <int HeadDim>
__device__ __forceinline__ void read_capture_sums(const CapturePlan<CaptureTile<HeadDim>::kStages>& b,
                                                  const detail::CaptureArgs& args, int consumer, int lane) {
  using G = CaptureTile<HeadDim>;
  const int count = b.tile_count();
  const uint32_t base = b.q - G::kQOffset;
  const uint32_t blocks = G::blocks_at(base, consumer);
  for (int i = consumer; i < count; i += G::kConsumers) {
    const int buffer = (i / G::kConsumers) & 1;
    const uint32_t sums = G::sums_at(base, consumer, buffer), columns = G::columns_at(base, consumer, buffer);
    const int key0 = (b.tiles.last - i) * G::kKeys;
    const int lowest = (b.first_pos - key0 - 127) & ~3;
    mbarrier_wait(b.sums_full(consumer, buffer), (i / (2 * G::kConsumers)) & 1);  // its use (i / 4) of the buffer
    add_tile_pooled(args, b.slot, columns, blocks, key0, lane);
    add_tile_columns(args, b.slot, columns, key0, lane);
    add_tile_distances<G::kWarpSums>(args, b.slot, sums, lowest, lane);
    add_tile_distances<G::kWarpSums>(args, b.slot, sums, lowest, 32 + lane);
    if (lane == 0) add_tile_distances<G::kWarpSums>(args, b.slot, sums, lowest, 64);
    if (i + 2 * G::kConsumers < count) mbarrier_arrive(b.sums_empty(consumer, buffer));
  }
}

template <int HeadDim, typename T, bool RowsFromForward>
__device__ __forceinline__ void consume_capture(const CapturePlan<CaptureTile<HeadDim>::kStages>& b,
                                                const detail::CaptureArgs& args, int consumer) {
  using G = CaptureTile<HeadDim>;
  constexpr int S = G::kStages;
  const int thread = int(threadIdx.x) & 127;
  const int warp = thread >> 5, lane = thread & 31, g = lane >> 2, t = lane & 3;
  const int warp_pos = b.first_pos + 32 * warp;
  const int warp_last = min(warp_pos + 31, b.last_pos);  // below warp_pos: the warp has no valid row
  const int count = b.tile_count();

  CaptureRows r;
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int row = b.row0 + 32 * warp + 8 * a + g;
    r.lse2[a] = row < args.n ? args.lse[int64_t(b.head) * args.lse_stride + row] * detail::kLog2e : 0.0f;
    r.best[a] = 0u;
  }
  r.best_tile[0] = r.best_tile[1] = 0u;
  const uint32_t base = b.q - G::kQOffset;
  r.entropy = base + G::kEntropyOffset + uint32_t((consumer * 4 * 128 + thread) * 4);
#pragma unroll
  for (int a = 0; a < 4; ++a) capture::st_shared(r.entropy + 512 * a, 0.0f);
  r.mass = base + G::kMassOffset + uint32_t((consumer * 128 + thread) * 32);
  // Pooled map: warp 3 handles the warps whose valid rows lie in one row block (their
  // block in `blocks`); a warp whose rows span several adds its own.
  const int pb = args.pool_block;
  const bool spans_blocks = warp_last >= warp_pos && warp_pos / pb != warp_last / pb;
  const uint32_t blocks = G::blocks_at(base, consumer);
  if (lane == 0)
    capture::st_shared(blocks + 4 * warp,
                       __int_as_float(warp_last >= warp_pos && !spans_blocks ? warp_pos / pb : -1));
  for (int i = 0; i < 8; ++i) capture::st_shared(r.mass + 4 * i, 0.0f);

  // This warp's diagonal stage (the planes it writes per buffer: G::sums_at, G::columns_at).
  const uint32_t stage = base + G::kStageOffset + uint32_t((consumer * G::kWarps + warp) * G::kStageBytes);
  if (args.statistics) {
    for (int i = lane; i < capture_layout::kDiagStageFloats; i += 32) capture::st_shared(stage + 4 * i, 0.0f);
    for (int buffer = 0; buffer < 2; ++buffer)  // this warp's own distance plane of each buffer
      for (int i = lane; i < G::kWarpSums; i += 32)
        capture::st_shared(G::sums_at(base, consumer, buffer) + 4 * uint32_t(warp * G::kWarpSums + i), 0.0f);
    __syncwarp();
  }
  uint32_t mask;  // ~31, opaque to the compiler (top1_candidate)
  asm volatile("mov.b32 %0, 0xffffffe0;\n" : "=r"(mask));
  mbarrier_wait(b.q_full(), 0);

  // Per tile: both m-tiles' products, then m-tile 0's rows while m-tile 1's product runs,
  // then m-tile 1's, the partials to shared memory, the consumer's barrier and the reader.
  // (Issuing the next tile's products before the barrier and the reader would hide more
  // of them, but with the accumulators in flight there the consumer spills, and ptxas
  // serialises the products, which would be live across the readers' divergent paths;
  // tried again with the rows from the forward: 104 bytes spilled, serialised.)
  // The consumers issue half a tile apart: consumer 1 starts when consumer 0 is halfway
  // through its first tile. Started together they stay in step, and each waits for the
  // other's products on the tensor cores every tile (measured: a sixth of all stall
  // samples on the first wgmma of a tile).
  if (consumer == 1 && count > 1) named_barrier_sync(kStaggerBarrier, 256);
  int buffer = 0;
  for (int i = consumer; i < count; i += G::kConsumers) {
    float p[2][64];
    issue_products<HeadDim, T>(b, p[0], i, 0);
    issue_products<HeadDim, T>(b, p[1], i, 1);
    const int key0 = (b.tiles.last - i) * G::kKeys;
    CaptureTileView v;
    v.key0 = key0;
    v.key_t = key0 + 2 * t;
    v.tile = i;
    v.warp_pos = warp_pos;
    v.last_pos = b.last_pos;
    v.g = g;
    // Warp-uniform: keys past a row, keys before a row's window, rows past n.
    v.masked = key0 + G::kKeys - 1 > warp_pos || (args.window > 0 && key0 < warp_pos + 32 - args.window) ||
               warp_pos + 31 > b.last_pos;
    v.sink_tile = key0 < args.sink_tokens;
    v.local_tile = key0 + G::kKeys - 1 > warp_pos - args.local_window;
    const bool window = args.window_probs != nullptr && key0 < args.window_k1 && key0 + G::kKeys > args.window_k0 &&
                        warp_pos < args.window_q1 && warp_last >= args.window_q0;
    // One warp-uniform branch an m-tile for all the rare work after the sums (sink and
    // local mass, the window, a warp spanning row blocks), so that the common path has none.
    const bool rare = window || (args.statistics && (v.sink_tile || v.local_tile || spans_blocks));

    // m-tile 0 while m-tile 1's product runs, each folded into the partials at once: the
    // probabilities, the column and diagonal partials (formed even when no statistics are
    // asked for, which only a window-only capture does; they are then not stored), the
    // rare work after.
    float keys[32], slot[2][capture_layout::kDiagSlots];
    wgmma_wait<1>();
    fence_registers(p[0]);
    mask_scores<0>(p[0], v, args);
    probabilities<0, RowsFromForward>(p[0], r, v, args, mask);
    capture::add_to_keys<0>(keys, p[0]);
    capture::add_to_slots<0>(slot, p[0]);
    if (rare) {
      rare_row_sums<0>(p[0], r, v, args);
      if (window) store_window<0>(p[0], v, args, b.slot);
      if (args.statistics && spans_blocks)
        capture::add_pooled_by_rows<0>(args, b.slot, p[0], warp_pos, warp_last, key0, lane);
    }
    wgmma_wait<0>();
    fence_registers(p[1]);
    if (lane == 0) mbarrier_arrive(b.empty(i % S));
    mask_scores<1>(p[1], v, args);
    probabilities<1, RowsFromForward>(p[1], r, v, args, mask);
    capture::add_to_keys<1>(keys, p[1]);
    capture::add_to_slots<1>(slot, p[1]);
    if (rare) {
      rare_row_sums<1>(p[1], r, v, args);
      if (window) store_window<1>(p[1], v, args, b.slot);
      if (args.statistics && spans_blocks)
        capture::add_pooled_by_rows<1>(args, b.slot, p[1], warp_pos, warp_last, key0, lane);
    }
    if (consumer == 0 && i == 0 && count > 1) named_barrier_arrive(kStaggerBarrier, 256);
    if (args.statistics) capture::reduce_columns(keys, lane);
    const uint32_t sums = G::sums_at(base, consumer, buffer), columns = G::columns_at(base, consumer, buffer);
    if (args.statistics) {
      // The readers are done with this buffer's previous tile (two of this consumer's ago).
      if (i >= 2 * G::kConsumers) mbarrier_wait(b.sums_empty(consumer, buffer), (i / (2 * G::kConsumers) - 1) & 1);
      // capture_layout::column_result_key: keys 16g + 2t + {0, 1, 8, 9}.
      capture::st_shared2(columns + 4 * (warp * G::kKeys + 16 * g + 2 * t), keys[0], keys[1]);
      capture::st_shared2(columns + 4 * (warp * G::kKeys + 16 * g + 8 + 2 * t), keys[2], keys[3]);
      // This warp's distance plane, index v at 32 warp + v + (first_pos - key0 - 127) mod 4
      // (the same for every tile), so that the planes line up in aligned quads of distances.
      const uint32_t stage_e[2] = {stage + 4 * capture_layout::diag_stage_offset(lane, 0, 0),
                                   stage + 4 * capture_layout::diag_stage_offset(lane, 0, 1)};
      const int align = (b.first_pos + 1) & 3;
      capture::diagonal_sums(slot, stage, stage_e, sums + 4 * uint32_t(warp * G::kWarpSums + 32 * warp + align), lane);
      mbarrier_arrive(b.sums_full(consumer, buffer));  // the readers take it from here
    }
    buffer ^= 1;
  }

  // Per-row results: consumer 1 hands its partials to consumer 0 through their own region
  // of shared memory, which merges.
  int key[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int index = 31 - int(r.best[a] & 31u);  // 2j + e
    const int tile = int((r.best_tile[a & 1] >> (16 * (a >> 1))) & 0xffffu);
    key[a] = (b.tiles.last - tile) * G::kKeys + 8 * (index >> 1) + 2 * t + (index & 1);
    r.best[a] &= 0xffffffe0u;
  }
  float* const merge = reinterpret_cast<float*>(b.smem + G::kMergeOffset);
  if (consumer == 1) {
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      merge[(5 * a) * 128 + thread] = capture::ld_shared(r.entropy + 512 * a);
      merge[(5 * a + 1) * 128 + thread] = capture::ld_shared(r.mass + 4 * a);
      merge[(5 * a + 2) * 128 + thread] = capture::ld_shared(r.mass + 16 + 4 * a);
      merge[(5 * a + 3) * 128 + thread] = __uint_as_float(r.best[a]);
      merge[(5 * a + 4) * 128 + thread] = __int_as_float(key[a]);
    }
    mbarrier_arrive(b.merge_full());  // every thread: an arrive releases this thread's stores
    return;
  }
  mbarrier_wait(b.merge_full(), 0);
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    float entropy = capture::ld_shared(r.entropy + 512 * a) + merge[(5 * a) * 128 + thread];
    float sink = capture::ld_shared(r.mass + 4 * a) + merge[(5 * a + 1) * 128 + thread];
    float local = capture::ld_shared(r.mass + 16 + 4 * a) + merge[(5 * a + 2) * 128 + thread];
    uint32_t best = r.best[a];
    int best_key = key[a];
    const uint32_t other = __float_as_uint(merge[(5 * a + 3) * 128 + thread]);
    const int other_key = __float_as_int(merge[(5 * a + 4) * 128 + thread]);
    if (other > best || (other == best && other_key < best_key)) {
      best = other;
      best_key = other_key;
    }
#pragma unroll
    for (int mask = 1; mask <= 2; mask <<= 1) {  // the quad holding the row
      entropy += __shfl_xor_sync(0xffffffffu, entropy, mask);
      sink += __shfl_xor_sync(0xffffffffu, sink, mask);
      local += __shfl_xor_sync(0xffffffffu, local, mask);
      const uint32_t o = __shfl_xor_sync(0xffffffffu, best, mask);
      const int ok = __shfl_xor_sync(0xffffffffu, best_key, mask);
      if (o > best || (o == best && ok < best_key)) {
        best = o;
        best_key = ok;
      }
    }
    const int row = b.row0 + 32 * warp + 8 * a + g;
    if (t == 0 && row < args.n) {
      const int64_t at = int64_t(b.slot) * args.row_stride + row;
      if constexpr (RowsFromForward) {
        const int64_t from = int64_t(b.head) * args.forward_stride + row;
        args.row_entropy[at] = args.forward_entropy[from];
        args.row_top1[at] = args.forward_top1[from];
      } else {
        args.row_entropy[at] = -entropy * detail::kLn2;
        args.row_top1[at] = best_key;
      }
      if (args.statistics) {
        args.row_sink[at] = sink;
        args.row_local[at] = local;
      }
    }
  }
}

template <int HeadDim, typename T, bool RowsFromForward>
__global__ void __launch_bounds__(CaptureTile<HeadDim>::kThreads, 1)
    attention_capture_hopper_kernel(const __grid_constant__ CUtensorMap map_q, const __grid_constant__ CUtensorMap map_k,
                                    const __grid_constant__ detail::CaptureArgs args) {
  using G = CaptureTile<HeadDim>;
  extern __shared__ unsigned char smem_raw[];
  // The swizzle pattern follows address bits 7-9: tiles must start on 1024 bytes.
  const uint32_t raw = detail::smem_address(smem_raw);
  const uint32_t base = (raw + 1023u) & ~1023u;

  CapturePlan<G::kStages> b;
  b.smem = smem_raw + (base - raw);
  b.q = base + G::kQOffset;
  b.k = base + G::kKOffset;
  b.barriers = base + G::kBarrierOffset;
  b.slot = int(blockIdx.x);
  b.head = args.heads[b.slot];
  b.kv_head = b.head / args.group;
  b.row0 = int(gridDim.y - 1 - blockIdx.y) * G::kRows;
  const int rows_valid = min(G::kRows, args.n - b.row0);
  b.first_pos = args.first_position + b.row0;
  b.last_pos = b.first_pos + rows_valid - 1;
  b.tiles = detail::key_tiles(b.first_pos, b.last_pos, args.window, G::kKeys);

  if (threadIdx.x == 0) {
    mbarrier_init(b.q_full(), 1);
    for (int stage = 0; stage < G::kStages; ++stage) {
      mbarrier_init(b.full(stage), 1);
      mbarrier_init(b.empty(stage), G::kWarps);  // the 4 warps of the consumer that used it
    }
    mbarrier_init(b.merge_full(), 128);
    for (int c = 0; c < G::kConsumers; ++c)
      for (int buffer = 0; buffer < 2; ++buffer) {
        mbarrier_init(b.sums_full(c, buffer), 128);
        mbarrier_init(b.sums_empty(c, buffer), kSumsReaders);
      }
    fence_mbarrier_init();
  }
  __syncthreads();

  // Broadcast from lane 0 so that ptxas knows it is warp-uniform (CUTLASS does the same;
  // the descriptors are still moved to uniform registers by 32 R2UR a tile, ncu).
  const int warpgroup = __shfl_sync(0xffffffffu, int(threadIdx.x) / 128, 0);
  if (warpgroup == 0) {
    setmaxnreg_decrease<G::kProducerRegisters>();
    if (threadIdx.x == 0)
      produce_capture<HeadDim>(b, &map_q, &map_k);
    else if (threadIdx.x >= 32 && threadIdx.x < 32 * (1 + G::kConsumers) && args.statistics)
      read_capture_sums<HeadDim>(b, args, int(threadIdx.x) / 32 - 1, int(threadIdx.x) & 31);
  } else {
    setmaxnreg_increase<G::kConsumerRegisters>();
    consume_capture<HeadDim, T, RowsFromForward>(b, args, warpgroup - 1);
  }
}

}  // namespace attnscope::kernels::cuda::hopper
