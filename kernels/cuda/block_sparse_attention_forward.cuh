#pragma once
// The block-sparse attention forward kernel: the flash forward's warp scheme
// (flash_attention_forward.cuh: a warp owns 32 rows as two m16 tiles, key tiles of 64,
// online softmax in the log2 domain with scale * log2 e folded into one FFMA, P rounded to
// T before P V) walked over the kept blocks of a DeviceKeptKeys set instead of every
// visible tile.
//
// Grid: x = query blocks of 64 rows (the set's block; the last first, as the forward
// starts its longest rows first), y = sets. Block: 2 warps (64 threads), warp w owns rows
// [32w, 32w + 32). A query block of 64 rows (not the forward's 128) because each query
// block of a set has its own key blocks; 2 warps of 32 rows keep the forward's
// fragment reuse. Shared memory: Q, K and V tiles of 64 rows and 512 bytes of mask
// (52.7 KB at d128: four blocks, eight warps per SM as the forward).
//
// Per block: Q loaded once; the kept key blocks walked from the highest down. Per block:
//   S = Q K^T        as the forward
//   mask             a partial block's bits (its 64 words, one per row, staged in shared
//                    memory together with K); causality and the model's window only on
//                    blocks that cross the diagonal or the window edge (warp-uniform test)
//   online softmax   as the forward: running max and sum per row in registers
//   O = O alpha + P V
// V of this block is fetched while S is computed, K (and bits) of the next kept block
// while P V runs. The epilogue is the forward's (O / l through the warp's own Q rows,
// 16-byte stores, lse = (m + log2 l) ln 2), plus fp32 O straight from the registers when
// asked (the mask lab's comparisons).
//
// Assumes: the set's invariants (kernels/kept_keys.h: bits only on visible entries, every
// row keeps a key; a row with none would get O = 0 and lse = -inf); head dim a multiple of
// 16 (<= 128); rows and pointers 16-byte aligned; key rows beyond the last query's
// position are never read (zero-filled).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/flash_attention_tile.cuh"
#include "kernels/cuda/flash_warp_steps.cuh"

namespace attnscope::kernels::cuda::detail {

struct BlockSparseArgs : AttentionOperands {  // out and lse may be null
  float* out_f32;  // may be null
  int64_t out_f32_stride;
  const int32_t* heads;
  const int32_t* block_offsets;
  const int2* blocks;
  const uint64_t* mask_words;
  int64_t query_blocks;
};

template <int HeadDim>
struct SparseTile {
  static constexpr int kRows = DeviceKeptKeys::kBlock;  // query rows per block
  static constexpr int kKeys = DeviceKeptKeys::kBlock;  // keys per kept block
  static constexpr int kWarps = 2;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpRows = 32;
  static constexpr int kMaskBytes = kRows * 8;  // one 64-bit word per row
  static constexpr int kTileBytes = kRows * Tile<HeadDim>::kPitch * 2;  // Q, K and V alike
  static constexpr int kSharedBytes = 3 * kTileBytes + kMaskBytes;
};

// The 64 words of a partial block into shared memory (threads 0-31, 16 bytes each).
__device__ __forceinline__ void load_mask_async(uint32_t dst, const uint64_t* words) {
  const int i = int(threadIdx.x);
  if (i < DeviceKeptKeys::kBlock * 8 / 16) cp_async_16(dst + uint32_t(i * 16), words + 2 * i, true);
}

template <int HeadDim, typename T>
__global__ void __launch_bounds__(SparseTile<HeadDim>::kThreads, 4) block_sparse_kernel(const BlockSparseArgs args) {
  using G = Tile<HeadDim>;
  using S = SparseTile<HeadDim>;
  constexpr int D = HeadDim;
  constexpr int kDimTiles = D / 8;  // n8 tiles of the output
  constexpr int kWarpRows = S::kWarpRows;

  extern __shared__ __align__(16) unsigned char smem[];
  const uint32_t sQ = smem_address(smem);
  const uint32_t sK = sQ + S::kTileBytes;
  const uint32_t sV = sK + S::kTileBytes;
  const uint32_t sM = sV + S::kTileBytes;
  const uint64_t* mask_rows = reinterpret_cast<const uint64_t*>(smem + 3 * S::kTileBytes);

  const int lane = int(threadIdx.x) & 31;
  const int warp = int(threadIdx.x) >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int set = int(blockIdx.y);
  const int head = args.heads[set];
  const int kv_head = head / args.group;
  const int query_block = int(gridDim.x - 1 - blockIdx.x);
  const int row0 = query_block * S::kRows;
  const int rows_valid = min(S::kRows, args.n - row0);
  const int first_pos = args.first_position + row0;
  const int last_pos = first_pos + rows_valid - 1;
  const int32_t* offsets = args.block_offsets + int64_t(set) * (args.query_blocks + 1) + query_block;
  const int begin = offsets[0], end = offsets[1];

  const T* q = static_cast<const T*>(args.q) + int64_t(row0) * args.q_stride + int64_t(head) * D;
  const T* k = static_cast<const T*>(args.k) + int64_t(kv_head) * D;
  const T* v = static_cast<const T*>(args.v) + int64_t(kv_head) * D;

  load_tile_async<S::kRows, D, S::kThreads>(sQ, q, args.q_stride, rows_valid);
  int2 entry = make_int2(0, -1);
  if (end > begin) {
    entry = args.blocks[end - 1];
    const int key0 = entry.x * S::kKeys;
    load_tile_async<S::kKeys, D, S::kThreads>(sK, k + int64_t(key0) * args.k_stride, args.k_stride,
                                              last_pos - key0 + 1);
    if (entry.y >= 0) load_mask_async(sM, args.mask_words + int64_t(entry.y) * S::kRows);
  }
  cp_async_commit();

  const int warp_pos = first_pos + warp * kWarpRows;
  float acc_o[2][kDimTiles][4];
  zero_fragments(acc_o);
  float row_max[4], row_sum[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    row_max[a] = -INFINITY;
    row_sum[a] = 0.0f;
  }

  for (int i = end - 1; i >= begin; --i) {
    const int key0 = entry.x * S::kKeys;
    const bool partial = entry.y >= 0;
    if (i > begin) entry = args.blocks[i - 1];  // the next kept block (read early: the K prefetch needs it)
    const int key_rows = min(S::kKeys, last_pos - key0 + 1);
    cp_async_wait<0>();
    __syncthreads();  // K (and bits) of this block landed; every warp is done with the last V
    load_tile_async<S::kKeys, D, S::kThreads>(sV, v + int64_t(key0) * args.v_stride, args.v_stride, key_rows);
    cp_async_commit();

    // S = Q K^T for this warp's 32 rows and the block's 64 keys.
    float s[2][8][4];
    warp_scores<D, T>(s, sQ, sK, warp * kWarpRows, lane);

    // Drop what the set does not keep: the bits of a partial block, and keys past a row's
    // position or before the model's window (only where the block crosses them).
    const bool crosses_diagonal = key0 + S::kKeys - 1 > warp_pos;
    const bool crosses_window = args.window > 0 && key0 < warp_pos + kWarpRows - args.window;
    if (partial || crosses_diagonal || crosses_window) {
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        // Column col = 8j + e is key key0 + 2t + col: visible when lo <= col <= hi.
        const int hi = warp_pos + g + 8 * a - (key0 + 2 * t);
        const int lo = args.window > 0 ? hi - args.window + 1 : -1;
        const uint64_t bits = partial ? mask_rows[warp * kWarpRows + g + 8 * a] >> (2 * t) : ~uint64_t(0);
#pragma unroll
        for (int j = 0; j < 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = 8 * j + e;
            const bool kept = col <= hi && col >= lo && ((bits >> col) & 1u) != 0;
            if (!kept) s[a >> 1][j][2 * (a & 1) + e] = -INFINITY;
          }
      }
    }

    online_softmax_step(s, row_max, row_sum, acc_o, args.scale_log2);

    cp_async_wait<0>();
    __syncthreads();  // V landed; every warp is done with K and the bits
    if (i > begin) {
      // A lower kept block: all its keys precede this one's, so every row is a filled key.
      const int next0 = entry.x * S::kKeys;
      load_tile_async<S::kKeys, D, S::kThreads>(sK, k + int64_t(next0) * args.k_stride, args.k_stride, S::kKeys);
      if (entry.y >= 0) load_mask_async(sM, args.mask_words + int64_t(entry.y) * S::kRows);
      cp_async_commit();
    }

    accumulate_pv<D, T>(acc_o, s, sV, lane);
  }
  if (end == begin) {  // no kept block (never from a KeptKeysBuilder): Q's copy must land first
    cp_async_wait<0>();
    __syncthreads();
  }

  // Epilogue: O / l through this warp's own Q rows (only this warp ever read them).
  __syncwarp();
  unsigned char* staging = smem + size_t(warp) * kWarpRows * G::kPitch * 2;
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    const int m = a >> 1, c0 = 2 * (a & 1);
    float l = row_sum[a];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int r = g + 8 * a;
    const int row = row0 + warp * kWarpRows + r;
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j) {
      const float o0 = acc_o[m][j][c0] * inv, o1 = acc_o[m][j][c0 + 1] * inv;
      *reinterpret_cast<uint32_t*>(staging + (r * G::kPitch + 8 * j + 2 * t) * 2) = pack2<T>(o0, o1);
      if (args.out_f32 != nullptr && row < args.n)
        *reinterpret_cast<float2*>(args.out_f32 + int64_t(row) * args.out_f32_stride + int64_t(head) * D + 8 * j +
                                   2 * t) = make_float2(o0, o1);
    }
    if (args.lse != nullptr && t == 0 && row < args.n)
      args.lse[int64_t(head) * args.lse_stride + row] = (row_max[a] + log2_approx(l)) * kLn2;
  }
  if (args.out == nullptr) return;
  __syncwarp();
  T* out = static_cast<T*>(args.out) + int64_t(row0 + warp * kWarpRows) * args.out_stride + int64_t(head) * D;
  store_staged_rows<D, T>(out, args.out_stride, staging, args.n - (row0 + warp * kWarpRows), lane);
}

// Host side: one launch over every set of the call.
template <int HeadDim, typename T>
void launch_block_sparse_forward(const BlockSparseParams& params, cudaStream_t stream) {
  const FlashAttentionParams& p = params.attention;
  BlockSparseArgs args{};
  fill_attention_operands(args, p);
  args.out_f32 = params.out_f32;
  args.out_f32_stride = params.out_f32_stride;
  args.heads = params.kept.heads;
  args.block_offsets = params.kept.block_offsets;
  args.blocks = reinterpret_cast<const int2*>(params.kept.blocks);
  args.mask_words = params.kept.mask_words;
  args.query_blocks = params.kept.query_blocks;
  constexpr int kSmem = SparseTile<HeadDim>::kSharedBytes;
  auto kernel = block_sparse_kernel<HeadDim, T>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  const dim3 grid(unsigned(params.kept.query_blocks), unsigned(params.kept.sets));
  kernel<<<grid, SparseTile<HeadDim>::kThreads, kSmem, stream>>>(args);
}

}  // namespace attnscope::kernels::cuda::detail
