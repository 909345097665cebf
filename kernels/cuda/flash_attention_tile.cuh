#pragma once
// Tile geometry shared by the forward and the capture pass, and the cooperative
// cp.async loader of a [rows, head_dim] tile into shared memory.
//
// A block of 4 warps owns 128 query rows of one head; warp w owns rows
// [32w, 32w + 32) as two m16 tiles, so every K/V fragment a warp loads from shared
// memory feeds two MMAs. Keys come in tiles of 64. Shared-memory rows are padded by 8
// elements (16 bytes): a row is then an odd number of 16-byte chunks for every
// supported head dim, so the 8 row addresses of an ldmatrix hit 8 distinct bank
// groups (no conflicts) without a swizzle.
#include <cstdint>

#include "kernels/cuda/flash_attention_mma.cuh"

namespace attnscope::kernels::cuda::detail {

template <int HeadDim>
struct Tile {
  static_assert(HeadDim % 16 == 0 && HeadDim <= 128, "head dim must be a multiple of 16, at most 128");
  static constexpr int kHeadDim = HeadDim;
  static constexpr int kRows = 128;      // query rows per block
  static constexpr int kKeys = 64;       // keys per tile
  static constexpr int kWarps = 4;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpRows = 32;   // two m16 tiles
  static constexpr int kPitch = HeadDim + 8;  // shared-memory row, in elements
  static constexpr int kKSteps = HeadDim / 16;
  static constexpr int kQBytes = kRows * kPitch * 2;
  static constexpr int kKVBytes = kKeys * kPitch * 2;
  static_assert((kPitch / 8) % 2 == 1, "padded rows must be an odd number of 16-byte chunks");
};

// Copies rows [0, Rows) of a tile whose row 0 is at `src` (row stride in elements)
// into shared memory at `dst` (Tile pitch); rows >= valid_rows are zero-filled and
// not read. All `Threads` threads of the block call it (the forward's 128 unless a kernel
// of another block size says so: the block-sparse kernel's 64); the caller commits the group.
template <int Rows, int HeadDim, int Threads = Tile<HeadDim>::kThreads, typename T>
__device__ __forceinline__ void load_tile_async(uint32_t dst, const T* src, int64_t stride, int valid_rows) {
  using G = Tile<HeadDim>;
  constexpr int kChunks = HeadDim / 8;               // 16-byte chunks per row
  constexpr int kRowStep = Threads / kChunks;        // rows per pass (some threads idle
  constexpr int kPasses = (Rows + kRowStep - 1) / kRowStep;  // when kChunks does not divide Threads)
  // Each thread keeps one column chunk and steps down the rows: one pointer that
  // advances by a constant, not a 64-bit address per copy held in registers.
  const int row0 = int(threadIdx.x) / kChunks, chunk = int(threadIdx.x) % kChunks;
  if (row0 >= kRowStep) return;
  const T* from = src + int64_t(row0) * stride + chunk * 8;
  const uint32_t to = dst + uint32_t((row0 * G::kPitch + chunk * 8) * 2);
#pragma unroll
  for (int i = 0; i < kPasses; ++i) {
    const int row = row0 + i * kRowStep;
    if (Rows % kRowStep == 0 || row < Rows) {
      const bool valid = row < valid_rows;
      cp_async_16(to + uint32_t(i * kRowStep * G::kPitch * 2), valid ? from : src, valid);
    }
    from += kRowStep * stride;
  }
}

// Shared-memory byte offset of the row address lane `lane` gives to ldmatrix_x4 for
// an A fragment (16 rows from row0, 16 columns from col0).
template <int HeadDim>
__device__ __forceinline__ uint32_t a_fragment_offset(int row0, int col0, int lane) {
  const int row = row0 + (lane & 7) + ((lane >> 3) & 1) * 8;
  const int col = col0 + (lane >> 4) * 8;
  return uint32_t((row * Tile<HeadDim>::kPitch + col) * 2);
}

// The same for two B fragments (n tiles key0 and key0 + 8, k columns col0..col0+15)
// of a [key][dim] tile read as K^T.
template <int HeadDim>
__device__ __forceinline__ uint32_t b_fragment_offset(int key0, int col0, int lane) {
  const int key = key0 + (lane & 7) + (lane >> 4) * 8;
  const int col = col0 + ((lane >> 3) & 1) * 8;
  return uint32_t((key * Tile<HeadDim>::kPitch + col) * 2);
}

// The same for two B fragments of a [key][dim] tile read as V (k = keys key0..key0+15,
// n tiles dim0 and dim0 + 8), with ldmatrix_x4_trans.
template <int HeadDim>
__device__ __forceinline__ uint32_t v_fragment_offset(int key0, int dim0, int lane) {
  const int key = key0 + (lane & 7) + ((lane >> 3) & 1) * 8;
  const int dim = dim0 + (lane >> 4) * 8;
  return uint32_t((key * Tile<HeadDim>::kPitch + dim) * 2);
}

// First and last key tile a block visits for rows at positions [first_row, last_row].
struct KeyTiles {
  int first = 0;
  int last = 0;
};

__device__ __forceinline__ KeyTiles key_tiles(int first_row, int last_row, int window, int keys_per_tile) {
  const int first_key = window > 0 ? max(0, first_row - window + 1) : 0;
  return {first_key / keys_per_tile, last_row / keys_per_tile};
}

}  // namespace attnscope::kernels::cuda::detail
