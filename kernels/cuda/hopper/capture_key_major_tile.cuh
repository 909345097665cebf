#pragma once
// Geometry, shared-memory plan and producer of the key-major Hopper capture kernel
// (capture_key_major_kernel.cuh has the design).
#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/hopper/capture_key_major_layout.h"
#include "kernels/cuda/hopper/hopper_ptx.cuh"

namespace attnscope::kernels::cuda::hopper {

template <int HeadDim>
struct KeyMajorTile {
  static_assert(HeadDim == 64 || HeadDim == 128, "the key-major capture is built for head dims 64 and 128");
  static constexpr int kRows = key_major::kQueries;       // query rows per CTA
  static constexpr int kKeys = key_major::kKeys;          // keys a half (one product)
  static constexpr int kTileKeys = key_major::kTileKeys;  // keys a K tile (a consumer's tile)
  static constexpr int kStages = 2;
  static constexpr int kConsumers = 2;
  static constexpr int kThreads = 128 * (1 + kConsumers);
  // The producer warpgroup also runs the readers (warps 1-3), which spilled in 64 registers.
  static constexpr int kProducerRegisters = 64;
  static constexpr int kConsumerRegisters = 216;
  static_assert(kProducerRegisters * 128 + kConsumerRegisters * 128 * kConsumers <= (65536 / kThreads) / 8 * 8 * kThreads,
                "register file");
  static constexpr int kColumnBlocks = HeadDim / 64;
  static constexpr int kQBytes = kRows * HeadDim * 2;
  static constexpr int kHalfBytes = kKeys * HeadDim * 2;
  static constexpr int kTileBytes = kTileKeys * HeadDim * 2;
  static constexpr int kSkewBytes = key_major::kSkewRows * 128;
  static constexpr int kPoolPlaneBytes = key_major::kPoolColumns * key_major::kPoolStride * 4;
  static constexpr int kDiagPlaneBytes = 8 * key_major::kDiagPitch * 4;
  // Shared memory: Q, the K ring (a tile's halves one after the other), per consumer its
  // skew buffer (both halves of a tile in turn), the two constant B operands, the rows' lse
  // (in registers the consumers spilled),
  // operands, per consumer and buffer (two, alternating by its tiles) the pool and
  // diagonal planes for its reader, the rows' sink and local mass, the mbarriers.
  static constexpr int kQOffset = 0;
  static constexpr int kKOffset = kQOffset + kQBytes;
  static constexpr int kSkewOffset = kKOffset + kStages * kTileBytes;
  static constexpr int kBDiagOffset = kSkewOffset + kConsumers * kSkewBytes;
  static constexpr int kBPoolOffset = kBDiagOffset + 1024;
  static constexpr int kLseOffset = kBPoolOffset + 4096;
  static constexpr int kPoolPlaneOffset = kLseOffset + kRows * 4;
  static constexpr int kDiagPlaneOffset = kPoolPlaneOffset + kConsumers * 2 * kPoolPlaneBytes;
  static constexpr int kMassOffset = kDiagPlaneOffset + kConsumers * 2 * kDiagPlaneBytes;
  static constexpr int kBarrierOffset = kMassOffset + 2 * kRows * 4;
  // q_full, full[s], empty[s], then per consumer and buffer sums_full, sums_empty
  static constexpr int kBarriers = 1 + 2 * kStages + 2 * kConsumers * 2;
  static constexpr int kSmemBytes = kBarrierOffset + kBarriers * 8 + 1024;  // + alignment slack
  static_assert(kKOffset % 1024 == 0 && kTileBytes % 1024 == 0 && kSkewOffset % 1024 == 0 &&
                    kSkewBytes % 1024 == 0 && kBDiagOffset % 1024 == 0 && kBPoolOffset % 1024 == 0,
                "swizzle atoms start on 1024 bytes");
  static_assert(kPoolPlaneBytes % 16 == 0 && kDiagPlaneBytes % 16 == 0, "16-byte loads of the planes");
  static_assert(kSmemBytes <= 227 * 1024, "shared memory of one H100 CTA");
};

// Named barriers: 1 + consumer (its 4 warps' skew stores are in before the diagonal
// product reads them), kKeyMajorRowsBarrier (both consumers, before the rows are written),
// kKeyMajorStaggerBarrier (consumer 1 starts half a tile late).
constexpr int kKeyMajorRowsBarrier = 3;
constexpr int kKeyMajorStaggerBarrier = 4;

template <int HeadDim>
struct KeyMajorPlan {
  using G = KeyMajorTile<HeadDim>;
  uint32_t base;  // shared address, 1024-aligned
  int row0, first_pos, last_pos, rows_valid;
  detail::KeyTiles tiles;
  int slot, head, kv_head;
  __device__ uint32_t q() const { return base + G::kQOffset; }
  __device__ uint32_t k(int stage) const { return base + G::kKOffset + uint32_t(stage * G::kTileBytes); }
  __device__ uint32_t skew(int consumer) const { return base + G::kSkewOffset + uint32_t(consumer * G::kSkewBytes); }
  __device__ uint32_t b_diag() const { return base + G::kBDiagOffset; }
  __device__ uint32_t b_pool() const { return base + G::kBPoolOffset; }
  // lse log2 e - 14 of the CTA's queries (p * 2^14 = exp2(s scale log2 e - that)).
  __device__ uint32_t lse2() const { return base + G::kLseOffset; }
  __device__ uint32_t pool_plane(int consumer, int buffer) const {
    return base + G::kPoolPlaneOffset + uint32_t((2 * consumer + buffer) * G::kPoolPlaneBytes);
  }
  __device__ uint32_t diag_plane(int consumer, int buffer) const {
    return base + G::kDiagPlaneOffset + uint32_t((2 * consumer + buffer) * G::kDiagPlaneBytes);
  }
  __device__ uint32_t sink_mass() const { return base + G::kMassOffset; }
  __device__ uint32_t local_mass() const { return base + G::kMassOffset + 4 * G::kRows; }
  __device__ uint32_t q_full() const { return base + G::kBarrierOffset; }
  __device__ uint32_t full(int stage) const { return q_full() + 8 * (1 + stage); }
  __device__ uint32_t empty(int stage) const { return q_full() + 8 * (1 + G::kStages + stage); }
  __device__ uint32_t sums_full(int consumer, int buffer) const {
    return q_full() + 8 * (1 + 2 * G::kStages + 2 * consumer + buffer);
  }
  __device__ uint32_t sums_empty(int consumer, int buffer) const {
    return sums_full(consumer, buffer) + 8 * 2 * G::kConsumers;
  }
  __device__ int tile_count() const { return tiles.last - tiles.first + 1; }
};

// One thread: Q once, then the K tiles of 128 keys (two boxes of 64 rows a column block)
// from the diagonal down into the ring.
template <int HeadDim>
__device__ __forceinline__ void produce_key_major(const KeyMajorPlan<HeadDim>& b, const CUtensorMap* map_q,
                                                  const CUtensorMap* map_k) {
  using G = KeyMajorTile<HeadDim>;
  prefetch_tensor_map(map_q);
  prefetch_tensor_map(map_k);
  mbarrier_arrive_expect_tx(b.q_full(), G::kQBytes);
#pragma unroll
  for (int c = 0; c < G::kColumnBlocks; ++c)
    tma_load_2d(b.q() + c * G::kRows * 128, map_q, b.head * HeadDim + 64 * c, b.row0, b.q_full());
  const int count = b.tile_count();
  for (int i = 0; i < count; ++i) {
    const int stage = i % G::kStages;
    mbarrier_wait(b.empty(stage), ((i / G::kStages) & 1) ^ 1);  // the first pass finds every slot free
    mbarrier_arrive_expect_tx(b.full(stage), G::kTileBytes);
#pragma unroll
    for (int half = 0; half < key_major::kHalves; ++half)
#pragma unroll
      for (int c = 0; c < G::kColumnBlocks; ++c)
        tma_load_2d(b.k(stage) + half * G::kHalfBytes + c * G::kKeys * 128, map_k, b.kv_head * HeadDim + 64 * c,
                    (b.tiles.last - i) * G::kTileKeys + half * G::kKeys, b.full(stage));
  }
}

// Everything in shared memory that is set once: the skew buffers' never-written chunks
// and the diagonal planes' never-written entries (all zeroed), B_diag, B_pool (its
// entries 2^-14, which undoes the fp16 scale of p inside the products), the rows' lse
// (scaled for the exponentials; +1e30 past the last row: p = 0) and masses.
// All threads of the CTA, before the kernel's first __syncthreads.
template <int HeadDim>
__device__ __forceinline__ void init_key_major_shared(const KeyMajorPlan<HeadDim>& b, const detail::CaptureArgs& args) {
  using G = KeyMajorTile<HeadDim>;
  const int thread = int(threadIdx.x);
  // (The B operands between the two ranges are written whole below, by other threads.)
  const uint32_t zero[2][2] = {{b.base + G::kSkewOffset, b.base + G::kBDiagOffset},
                               {b.base + G::kPoolPlaneOffset, b.base + G::kBarrierOffset}};
  for (const auto& range : zero)
    for (uint32_t at = range[0] + 16u * uint32_t(thread); at < range[1]; at += 16u * G::kThreads)
      asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};\n" ::"r"(at), "r"(0u) : "memory");
  constexpr uint16_t kScale = 0x0400;  // fp16 2^-14
  for (int i = thread; i < 8 * 64; i += G::kThreads) {
    const int n = i / 64, key = i % 64;
    const uint16_t v = key % 8 == n ? kScale : uint16_t(0);
    asm volatile("st.shared.u16 [%0], %1;\n" ::"r"(b.b_diag() + key_major::b_diag_offset(n, key)), "h"(v) : "memory");
  }
  if (args.statistics) {
    const int pb = args.pool_block, block0 = b.first_pos / pb;
    for (int i = thread; i < key_major::kPoolColumns * G::kRows; i += G::kThreads) {
      const int n = i / G::kRows, query = i % G::kRows;
      const bool in = query < b.rows_valid && (b.first_pos + query) / pb - block0 == n;
      asm volatile("st.shared.u16 [%0], %1;\n" ::"r"(b.b_pool() + key_major::b_pool_offset(n, query)),
                   "h"(in ? kScale : uint16_t(0))
                   : "memory");
    }
  }
  for (int query = thread; query < G::kRows; query += G::kThreads) {
    const float lse2 = query < b.rows_valid ? args.lse[int64_t(b.head) * args.lse_stride + b.row0 + query] * detail::kLog2e -
                                                  float(key_major::kFp16Scale)
                                            : 1e30f;
    asm volatile("st.shared.f32 [%0], %1;\n" ::"r"(b.lse2() + 4 * uint32_t(query)), "f"(lse2) : "memory");
  }
  fence_proxy_async_shared();  // the products read the B operands and skew buffers through the async proxy
}

}  // namespace attnscope::kernels::cuda::hopper
