#pragma once
// Device parts shared by the split-KV decode forward and capture kernels
// (split_decode_forward.cuh, split_decode_capture.cuh): the gather of a CTA's query rows
// (rows of several heads) into shared memory, the scores of one warp's 16-key slice, and
// the visibility of a key to a row.
//
// Fragment layout (mma.sync m16n8k16, as the forward): a warp holds rows r0 + g and
// r0 + g + 8 of its m16 tile (g = lane / 4, t = lane % 4); s[j][c] is the score of row
// g + 8 (c >> 1) and key slice + 8 j + 2 t + (c & 1).
#include <cuda_runtime.h>

#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/split_decode_plan.h"

namespace attnscope::kernels::cuda::detail {

// Shared memory of the CTA's query rows: split_decode::kCtaRows rows in the forward's padded pitch.
template <int HeadDim>
constexpr int kSplitQBytes = split_decode::kCtaRows * Tile<HeadDim>::kPitch * 2;

// Copies rows [0, rows_valid) into shared memory at sQ (row r from row_source(r), a
// pointer to its first element) and zero-fills the rest of the kCtaRows rows. All 128
// threads call it; the caller commits the group.
template <int HeadDim, typename T, typename RowSource>
__device__ __forceinline__ void load_query_rows_async(uint32_t sQ, int rows_valid, const T* any_row,
                                                      RowSource row_source) {
  constexpr int kChunks = HeadDim / 8;
  for (int i = int(threadIdx.x); i < split_decode::kCtaRows * kChunks; i += int(blockDim.x)) {
    const int r = i / kChunks, chunk = i % kChunks;
    const bool valid = r < rows_valid;
    const T* from = valid ? row_source(r) + chunk * 8 : any_row;  // any readable address when zero-filling
    cp_async_16(sQ + uint32_t((r * Tile<HeadDim>::kPitch + chunk * 8) * 2), from, valid);
  }
}

// The A fragments of the warp's m16 tile starting at row `row0`, every k step.
template <int HeadDim>
__device__ __forceinline__ void load_query_fragments(uint32_t (&qa)[HeadDim / 16][4], uint32_t sQ, int row0,
                                                     int lane) {
#pragma unroll
  for (int ks = 0; ks < HeadDim / 16; ++ks) ldmatrix_x4(qa[ks], sQ + a_fragment_offset<HeadDim>(row0, ks * 16, lane));
}

// S = Q K^T of the warp's 16 rows and the 16 keys [slice_key0, slice_key0 + 16) of the
// K tile at sK (fp32 accumulators, zeroed here).
template <int HeadDim, typename T>
__device__ __forceinline__ void slice_scores(float (&s)[2][4], const uint32_t (&qa)[HeadDim / 16][4], uint32_t sK,
                                             int slice_key0, int lane) {
#pragma unroll
  for (int j = 0; j < 2; ++j)
#pragma unroll
    for (int c = 0; c < 4; ++c) s[j][c] = 0.0f;
#pragma unroll
  for (int ks = 0; ks < HeadDim / 16; ++ks) {
    uint32_t kb[4];
    ldmatrix_x4(kb, sK + b_fragment_offset<HeadDim>(slice_key0, ks * 16, lane));
    mma_16816<T>(s[0], qa[ks], kb[0], kb[1]);
    mma_16816<T>(s[1], qa[ks], kb[2], kb[3]);
  }
}

// Whether a row at position `pos` sees `key`: causal, and inside the sliding window
// (window 0: none).
__device__ __forceinline__ bool key_visible(int key, int pos, int window) {
  return key <= pos && (window <= 0 || key > pos - window);
}

}  // namespace attnscope::kernels::cuda::detail
