#pragma once
// Reductions of the Hopper capture kernel over one warp's 32 x 128 tile of
// probabilities (layout: attention_capture_hopper_layout.h) and the fp32 atomics that
// add a tile's sums to the results. The tile arrives as two accumulators: m-tile M holds
// rows a = 2h + M in register 4j + 2h + e (key 8j + 2t + e). Each is folded into the
// column and diagonal partials as soon as it is done, so that only one is live at a time.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/hopper/attention_capture_hopper_layout.h"

namespace attnscope::kernels::cuda::hopper::capture {

namespace layout = capture_layout;

// Shared memory by 32-bit address (the CTA's shared window), so that no generic address
// is converted in the loop.
__device__ __forceinline__ void st_shared(uint32_t address, float v) {
  asm volatile("st.shared.f32 [%0], %1;\n" ::"r"(address), "f"(v) : "memory");
}
__device__ __forceinline__ void st_shared2(uint32_t address, float x, float y) {
  asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n" ::"r"(address), "f"(x), "f"(y) : "memory");
}
__device__ __forceinline__ float ld_shared(uint32_t address) {
  float v;
  asm volatile("ld.shared.f32 %0, [%1];\n" : "=f"(v) : "r"(address) : "memory");
  return v;
}
__device__ __forceinline__ float4 ld_shared4(uint32_t address) {
  float4 v;
  asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n"
               : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
               : "r"(address)
               : "memory");
  return v;
}

__device__ __forceinline__ void red_add(float* address, float value) {
  asm volatile("red.global.add.f32 [%0], %1;\n" ::"l"(address), "f"(value) : "memory");
}

// Four consecutive floats, 16-byte aligned (sm_90's vector reduction: one L2 operation).
__device__ __forceinline__ void red_add4(float* address, float4 v) {
  asm volatile("red.global.add.v4.f32 [%0], {%1, %2, %3, %4};\n" ::"l"(address), "f"(v.x), "f"(v.y), "f"(v.z),
               "f"(v.w)
               : "memory");
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

// Adds the sums v of distances d0 .. d0 + 3 (d0 a multiple of 4): one vector atomic where
// all four lie in the buffer, else one per distance below key_count; zeros are skipped.
__device__ __forceinline__ void add_distance_quad(const detail::CaptureArgs& args, float* diagonal_out, int d0,
                                                  float4 v) {
  if (d0 >= 0 && d0 + 4 <= args.key_stride) {  // distances past key_count hold 0
    if (v.x != 0.0f || v.y != 0.0f || v.z != 0.0f || v.w != 0.0f) red_add4(diagonal_out + d0, v);
  } else {
    const float q[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
      if (d0 + i >= 0 && d0 + i < args.key_count && q[i] != 0.0f) red_add(diagonal_out + d0 + i, q[i]);
  }
}

__device__ __forceinline__ float4 add4(float4 a, float4 b) { return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w); }

// One round of the column reduce-scatter on `2 * Half` values: keep half of them (the
// upper half when this lane's bit is set) and add the partner lane's copy of that half.
template <int Round, int Half>
__device__ __forceinline__ void column_round(float (&v)[32], int lane) {
  const bool upper = layout::column_keeps_upper(lane, Round);
#pragma unroll
  for (int i = 0; i < Half; ++i) {
    const float keep = upper ? v[Half + i] : v[i];
    const float send = upper ? v[i] : v[Half + i];
    v[i] = keep + __shfl_xor_sync(0xffffffffu, send, layout::column_round_mask(Round));
  }
}

// v[2j + e] holds this lane's sum over some of its rows of key 8j + 2t + e; afterwards
// v[i], i < 4, holds the warp's sum of key column_result_key(lane, i).
__device__ __forceinline__ void reduce_columns(float (&v)[32], int lane) {
  column_round<0, 16>(v, lane);
  column_round<1, 8>(v, lane);
  column_round<2, 4>(v, lane);
}

// keys[2j + e] (+)= this lane's sum of key 8j + 2t + e over the two rows of m-tile M.
template <int M>
__device__ __forceinline__ void add_to_keys(float (&keys)[32], const float (&s)[64]) {
#pragma unroll
  for (int j = 0; j < 16; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const float sum = s[4 * j + e] + s[4 * j + 2 + e];
      keys[2 * j + e] = M == 0 ? sum : keys[2 * j + e] + sum;
    }
}

// slot[e][a - j + 15] (+)= element (a, j, e) for the rows a = 2h + M of m-tile M. A
// slot's first element is assigned, not added to a zero (ptxas cannot drop 0 + x: the
// sign of zero), which saves 38 FADDs a tile (layout::first_slot_write).
template <int M>
__device__ __forceinline__ void add_to_slots(float (&slot)[2][layout::kDiagSlots], const float (&s)[64]) {
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        float& d = slot[e][layout::diag_slot(2 * h + M, j)];
        d = layout::first_slot_write(M, h, j) ? s[4 * j + 2 * h + e] : d + s[4 * j + 2 * h + e];
      }
}

// The warp's diagonal partials into its stage (kDiagStageFloats floats at `stage`,
// zeroed once: entries no lane writes stay 0; slot (0, e) of this lane at stage_e[e]),
// then, after __syncwarp, each index's 8 entries summed into the float at sums + 4 index.
__device__ __forceinline__ void diagonal_sums(const float (&slot)[2][layout::kDiagSlots], uint32_t stage,
                                              const uint32_t (&stage_e)[2], uint32_t sums, int lane) {
  __syncwarp();  // the warp's reads of the stage for the previous tile are done
#pragma unroll
  for (int e = 0; e < 2; ++e)
#pragma unroll
    for (int d = 0; d < layout::kDiagSlots; ++d) st_shared(stage_e[e] + 128 * d, slot[e][d]);  // 32 floats a slot
  __syncwarp();
#pragma unroll
  for (int k = 0; k < (layout::kDiagIndices + 31) / 32; ++k) {
    const int index = lane + 32 * k;
    if (index < layout::kDiagIndices) {
      const float4 x = ld_shared4(stage + 16 * index);
      const float4 y = ld_shared4(stage + 4 * layout::kDiagHalf + 16 * index);
      st_shared(sums + 4 * index, ((x.x + x.y) + (x.z + x.w)) + ((y.x + y.y) + (y.z + y.w)));
    }
  }
}

// Adds a warp's (or a consumer's) pooled contributions for one row block: this lane
// holds the column sums `v` of 4 keys of the tile at key0 + key[i], over rows of that
// row block only; one warp sum and one atomic per key block the tile meets.
__device__ __forceinline__ void add_pooled(const detail::CaptureArgs& args, float* pooled, int row_block, int key0,
                                           const float (&v)[4], const int (&key)[4], int lane) {
  const int b = args.pool_block;
  const int last = min((key0 + layout::kTileKeys - 1) / b, args.pooled_cols - 1);
  for (int block = key0 / b; block <= last; ++block) {
    const int lo = block * b - key0, hi = lo + b;
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < 4; ++i) sum += key[i] >= lo && key[i] < hi ? v[i] : 0.0f;
    sum = warp_sum(sum);
    if (lane == 0 && sum != 0.0f)
      red_add(pooled + int64_t(row_block - args.pooled_row0) * args.pooled_cols + block, sum);
  }
}

// The pooled map for a warp whose rows (positions warp_pos .. warp_last) span several row
// blocks, from the rows of m-tile M: per row block, the column sums over its rows only.
template <int M>
__device__ __forceinline__ void add_pooled_by_rows(const detail::CaptureArgs& args, int slot, const float (&s)[64],
                                                   int warp_pos, int warp_last, int key0, int lane) {
  float* const pooled = args.pooled + int64_t(slot) * args.pooled_stride;
  const int b = args.pool_block;
  const int block0 = (warp_pos + 8 * M + (lane >> 2)) / b, block1 = (warp_pos + 8 * (2 + M) + (lane >> 2)) / b;
  int key[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) key[i] = layout::column_result_key(lane, i);
  for (int block = warp_pos / b; block <= warp_last / b; ++block) {
    const bool in0 = block0 == block, in1 = block1 == block;
    if (!__any_sync(0xffffffffu, in0 || in1)) continue;
    float v[32];
#pragma unroll
    for (int j = 0; j < 16; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e)
        v[2 * j + e] = (in0 ? s[4 * j + e] : 0.0f) + (in1 ? s[4 * j + 2 + e] : 0.0f);
    reduce_columns(v, lane);
    const float part[4] = {v[0], v[1], v[2], v[3]};
    add_pooled(args, pooled, block, key0, part, key, lane);
  }
}

}  // namespace attnscope::kernels::cuda::hopper::capture
