#pragma once
// Index arithmetic of the Hopper capture kernel's in-warp reductions
// (attention_capture_hopper_kernel.cuh), as constexpr functions so that a CPU test
// (tests/gpu/attention_capture_hopper_layout_test.cpp) replays them lane by lane.
//
// A consumer warp holds a 32-row x 128-key tile of probabilities: lane (g = lane / 4,
// t = lane % 4), row slot a = 0..3 (row 8a + g of the warp's 32 rows), n block
// j = 0..15, element e = 0..1 (key 8j + 2t + e). Rows a = 2h + m come from the
// accumulator register 4j + 2h + e of m-tile m (the Q descriptor interleaves the two
// m64 products by 8-row groups, so that each warp's 32 rows are contiguous).
//   Column sums: each lane sums its 4 rows, then three shuffle rounds (xor 16, 8, 4)
//     each keep half of the 32 columns and add the partner's copy of that half: lane
//     (g, t) ends with the warp's sums of keys 16g + 2t + {0, 1, 8, 9}.
//   Diagonal sums (by row - key): element (a, j, e) lies at index row - key + 127 =
//     u - e + 8 (a - j) + 127 with u = g - 2t, so a lane first sums into 19 slots
//     (a - j, e). The lanes that share an index for a given e are the four with the
//     same (g - 2t) mod 8, one for each t, so (e, t) is a unique writer per index: each
//     lane stores its 38 slots into a [2 e][160 indices][4 t] stage with no conflict on
//     any store (the 32 lanes of one store hit 8 consecutive indices mod 8 x 4 t) and
//     the warp then sums each index's 8 entries with two conflict-free 16-byte loads.
#if defined(__CUDACC__)
#define ATTNSCOPE_HOST_DEVICE __host__ __device__
#else
#define ATTNSCOPE_HOST_DEVICE
#endif

namespace attnscope::kernels::cuda::hopper::capture_layout {

constexpr int kWarpRows = 32;
constexpr int kTileKeys = 128;
constexpr int kDiagSlots = 19;    // a - j in [-15, 3]
constexpr int kDiagIndices = 159; // row - key + 127 in [0, 158]
constexpr int kDiagWriters = 8;   // (e, t)
constexpr int kDiagHalf = 640;    // floats of one e: 160 indices x 4 t
constexpr int kDiagStageFloats = 2 * kDiagHalf;

ATTNSCOPE_HOST_DEVICE constexpr int row_of(int lane, int a) { return 8 * a + (lane >> 2); }
ATTNSCOPE_HOST_DEVICE constexpr int key_of(int lane, int j, int e) { return 8 * j + 2 * (lane & 3) + e; }

// Column-sum rounds r = 0, 1, 2 exchange with lane ^ (16 >> r); the lane keeps the upper
// half of its values when bit 4 - r of the lane is set.
ATTNSCOPE_HOST_DEVICE constexpr int column_round_mask(int round) { return 16 >> round; }
ATTNSCOPE_HOST_DEVICE constexpr bool column_keeps_upper(int lane, int round) { return ((lane >> (4 - round)) & 1) != 0; }
// Key of value i (0..3) that lane holds after the three rounds (value index 2j + e = 4g + i).
ATTNSCOPE_HOST_DEVICE constexpr int column_result_key(int lane, int i) {
  return 16 * (lane >> 2) + 8 * (i >> 1) + 2 * (lane & 3) + (i & 1);
}

ATTNSCOPE_HOST_DEVICE constexpr int diag_slot(int a, int j) { return a - j + 15; }
// row - key + 127 of slot (slot, e) at lane.
ATTNSCOPE_HOST_DEVICE constexpr int diag_index(int lane, int slot, int e) {
  return (lane >> 2) - 2 * (lane & 3) - e + 8 * (slot - 15) + 127;
}
// Whether element (a = 2h + m, j) is the first one add_to_slots puts into its slot:
// m-tile 0 before m-tile 1, h before j. Every slot gets a first write (a - j covers
// [-15, 3]), so none needs zeroing.
ATTNSCOPE_HOST_DEVICE constexpr bool first_slot_write(int m, int h, int j) {
  const int slot = diag_slot(2 * h + m, j);
  for (int m0 = 0; m0 <= m; ++m0)
    for (int h0 = 0; h0 < 2; ++h0)
      for (int j0 = 0; j0 < 16; ++j0) {
        if (m0 == m && h0 == h && j0 == j) return true;
        if (diag_slot(2 * h0 + m0, j0) == slot) return false;
      }
  return true;
}

// Float offset in the stage of slot (slot, e) of lane. Slots of one (lane, e) are 32
// floats apart; index v's entries are the 4 floats at 4v and the 4 at kDiagHalf + 4v.
ATTNSCOPE_HOST_DEVICE constexpr int diag_stage_offset(int lane, int slot, int e) {
  return e * kDiagHalf + 4 * diag_index(lane, slot, e) + (lane & 3);
}

}  // namespace attnscope::kernels::cuda::hopper::capture_layout
