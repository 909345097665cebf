#pragma once
// Index arithmetic of the capture kernel's in-warp reductions, as plain constexpr
// functions so that a CPU test (tests/gpu/attention_capture_layout_test.cpp) can
// replay a warp's reductions lane by lane without a GPU.
//
// A warp holds a 32-row x 64-key tile of probabilities in mma accumulator layout:
// lane (g = lane / 4, t = lane % 4), slot a = 0..3 (row g + 8a), n tile j = 0..7,
// element e = 0..1 (key 8j + 2t + e).
//   Column sums: each lane sums its 4 rows, then three shuffle rounds (xor 16, 8, 4)
//     each keep half of the columns and add the partner's half, so that lane L ends
//     with the warp's sums of keys 2L and 2L + 1 (14 shuffles instead of 48).
//   Diagonal sums (row - key): a lane's element (a, j, e) lies on distance
//     u - e + 8 (a - j) with u = g - 2t, so it first sums into 22 slots (a - j, e);
//     lanes with equal u (L, L+9, L+18, L+27) then add up along a chain of two
//     shuffles, and the chain's first lane stores each slot into one of four stage
//     arrays (by e and the sign of u) at index distance + 63, where each entry has
//     exactly one writer. The block sums the four arrays of its four warps.
#if defined(__CUDACC__)
#define ATTNSCOPE_HOST_DEVICE __host__ __device__
#else
#define ATTNSCOPE_HOST_DEVICE
#endif

namespace attnscope::kernels::cuda::capture_layout {

constexpr int kWarpRows = 32;
constexpr int kTileKeys = 64;
constexpr int kDiagSlots = 11;       // a - j in [-7, 3]
constexpr int kDiagIndices = 95;     // row - key + 63 in [0, 94]
constexpr int kDiagStride = 96;      // one stage array, padded
constexpr int kDiagArrays = 4;

ATTNSCOPE_HOST_DEVICE constexpr int row_of(int lane, int a) { return (lane >> 2) + 8 * a; }
ATTNSCOPE_HOST_DEVICE constexpr int key_of(int lane, int j, int e) { return 8 * j + 2 * (lane & 3) + e; }

// Column-sum rounds r = 0, 1, 2 exchange with lane ^ (16 >> r); the lane keeps the
// upper half of its values when this bit of g is set.
ATTNSCOPE_HOST_DEVICE constexpr int column_round_mask(int round) { return 16 >> round; }
ATTNSCOPE_HOST_DEVICE constexpr bool column_keeps_upper(int lane, int round) { return ((lane >> (4 - round)) & 1) != 0; }
// Key of value i (0, 1) that lane holds after the three rounds.
ATTNSCOPE_HOST_DEVICE constexpr int column_result_key(int lane, int i) { return 2 * lane + i; }

ATTNSCOPE_HOST_DEVICE constexpr int diag_slot(int a, int j) { return a - j + 7; }
ATTNSCOPE_HOST_DEVICE constexpr int diag_lane_offset(int lane) { return (lane >> 2) - 2 * (lane & 3); }
// row - key + 63 of slot (slot, e) at lane.
ATTNSCOPE_HOST_DEVICE constexpr int diag_index(int lane, int slot, int e) {
  return diag_lane_offset(lane) - e + 8 * (slot - 7) + 63;
}
// Chain steps: add lane + 9's value when (g + 2, t + 1) exists, then lane + 18's when
// (g + 4, t + 2) does.
ATTNSCOPE_HOST_DEVICE constexpr bool diag_chain_step1(int lane) { return (lane >> 2) <= 5 && (lane & 3) <= 2; }
ATTNSCOPE_HOST_DEVICE constexpr bool diag_chain_step2(int lane) { return (lane >> 2) <= 3 && (lane & 3) <= 1; }
ATTNSCOPE_HOST_DEVICE constexpr bool diag_chain_start(int lane) { return (lane >> 2) < 2 || (lane & 3) == 0; }
ATTNSCOPE_HOST_DEVICE constexpr int diag_array(int lane, int e) { return 2 * e + (diag_lane_offset(lane) < 0 ? 1 : 0); }

}  // namespace attnscope::kernels::cuda::capture_layout
