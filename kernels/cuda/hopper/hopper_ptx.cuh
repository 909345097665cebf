#pragma once
// Hopper building blocks of the sm_90a attention kernel, as thin PTX wrappers:
// mbarriers (transaction-counted arrival), the bulk tensor copy engine (TMA) into
// shared memory, wgmma fences and groups, shared-memory matrix descriptors,
// setmaxnreg and named barriers. Everything here needs -gencode arch=compute_90a.
//
// Shared-memory addresses are 32-bit offsets in the CTA's shared window
// (smem_address()), as PTX's .shared instructions take them.
#include <cuda.h>

#include <cstdint>

namespace attnscope::kernels::cuda::hopper {

// ---- mbarrier ------------------------------------------------------------------------

__device__ __forceinline__ void mbarrier_init(uint32_t bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals) : "memory");
}

// Makes the initialised barriers visible to the copy engine (async proxy) before use.
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

// One arrival that also announces `bytes` of copies that will complete on this barrier.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}

__device__ __forceinline__ void mbarrier_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

// Waits until the phase with parity `parity` has completed. A barrier starts in phase 0,
// so parity 1 on a fresh barrier completes at once (the producer's first pass over free
// slots). A wait that is still unanswered after 2^26 tries (each may suspend the thread
// for a while: about a second or more, where a real wait lasts microseconds) is taken
// for a deadlock and traps, so a broken pipeline fails the launch instead of hanging.
__device__ __forceinline__ void mbarrier_wait(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      ".reg .u32 tries;\n"
      "mov.u32 tries, 0;\n"
      "WAIT:\n"  // labels are local to the braces
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@done bra DONE;\n"
      "add.u32 tries, tries, 1;\n"
      "setp.lt.u32 done, tries, 67108864;\n"
      "@done bra WAIT;\n"
      "trap;\n"
      "DONE:\n"
      "}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

// ---- bulk tensor copies (TMA) ---------------------------------------------------------

__device__ __forceinline__ void prefetch_tensor_map(const CUtensorMap* map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}

// Copies the box at element coordinates (x = column, y = row) of a 2-D tensor map into
// shared memory at `dst`; the bytes complete on `bar`. Out-of-range elements read as 0.
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const CUtensorMap* map, int x, int y, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], "
      "[%4];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(x), "r"(y), "r"(bar)
      : "memory");
}

// ---- registers and named barriers -----------------------------------------------------

// Per-warpgroup register budget (takes effect with __launch_bounds__(threads, 1)).
template <int Registers>
__device__ __forceinline__ void setmaxnreg_increase() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Registers));
}
template <int Registers>
__device__ __forceinline__ void setmaxnreg_decrease() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Registers));
}

// Named barrier `id` (1..15; 0 is __syncthreads) among `threads` threads, a multiple of 32.
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(int id, int threads) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// ---- wgmma ------------------------------------------------------------------------------

// Orders this warp's earlier register and shared-memory accesses before the next wgmma.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most N committed groups of this warp are still running.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Pins a register between asynchronous wgmma operations: the compiler may not move its
// reads or writes across this point (a read after wgmma_wait stays after it).
__device__ __forceinline__ void fence_register(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void fence_register(uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }
template <typename R, int N>
__device__ __forceinline__ void fence_registers(R (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) fence_register(r[i]);
}

// Shared-memory matrix descriptor of a tile in the 128-byte swizzle layout (what TMA
// writes with CU_TENSOR_MAP_SWIZZLE_128B: rows of 128 bytes, the 16-byte chunk c of row r
// stored at chunk c ^ (r % 8), atoms of 8 rows = 1024 bytes, 1024-byte aligned).
//   bits 0-13 start address >> 4, 16-29 leading byte offset >> 4, 32-45 stride byte
//   offset >> 4, 49-51 base offset (0: atoms aligned), 62-63 swizzle mode (1 = 128 B).
// K-major (the reduction dimension along the 128-byte rows): stride = 1024 (next 8 rows),
//   leading offset unused (1). A k16 step inside the row moves the start by 32 bytes.
// MN-major (rows along the reduction dimension, the 128-byte rows along M or N):
//   leading = bytes between 64-column blocks of M/N, stride = 1024 (next 8 reduction rows).
__device__ __forceinline__ uint64_t smem_descriptor(uint32_t address, uint32_t leading_bytes, uint32_t stride_bytes) {
  return uint64_t((address & 0x3FFFF) >> 4) | (uint64_t(leading_bytes >> 4) << 16) |
         (uint64_t(stride_bytes >> 4) << 32) | (uint64_t(1) << 62);
}

}  // namespace attnscope::kernels::cuda::hopper
