// The capture kernel's in-warp reductions replayed on the CPU, lane by lane, with the
// same index functions the kernel uses (attention_capture_layout.h): the column sums
// each lane ends with and the diagonal sums the stage arrays hold must equal direct
// sums over a 32 x 64 tile. Runs without a GPU.
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <set>
#include <utility>

#include "kernels/cuda/attention_capture_layout.h"

namespace layout = attnscope::kernels::cuda::capture_layout;

namespace {

constexpr int kLanes = 32;

// A tile of distinct values (sums of distinct powers would overflow; random is enough).
std::array<std::array<double, layout::kTileKeys>, layout::kWarpRows> random_tile(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  std::array<std::array<double, layout::kTileKeys>, layout::kWarpRows> tile{};
  for (auto& row : tile)
    for (double& x : row) x = dist(rng);
  return tile;
}

}  // namespace

TEST_CASE("capture layout: the lanes' fragments cover the warp tile exactly once", "[capture][layout]") {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kLanes; ++lane)
    for (int a = 0; a < 4; ++a)
      for (int j = 0; j < 8; ++j)
        for (int e = 0; e < 2; ++e) {
          const int row = layout::row_of(lane, a), key = layout::key_of(lane, j, e);
          REQUIRE(row < layout::kWarpRows);
          REQUIRE(key < layout::kTileKeys);
          REQUIRE(seen.insert({row, key}).second);
          // The diagonal index of an element's slot is its row - key + 63.
          REQUIRE(layout::diag_index(lane, layout::diag_slot(a, j), e) == row - key + 63);
        }
  REQUIRE(seen.size() == std::size_t(layout::kWarpRows * layout::kTileKeys));
}

TEST_CASE("capture layout: three shuffle rounds leave each lane two column sums", "[capture][layout]") {
  const auto tile = random_tile(1);
  std::array<std::array<double, 16>, kLanes> v{};
  for (int lane = 0; lane < kLanes; ++lane)
    for (int j = 0; j < 8; ++j)
      for (int e = 0; e < 2; ++e)
        for (int a = 0; a < 4; ++a) v[lane][2 * j + e] += tile[layout::row_of(lane, a)][layout::key_of(lane, j, e)];
  for (int round = 0; round < 3; ++round) {
    const int half = 8 >> round;
    // As the kernel: every lane picks what it keeps and what it sends, then exchanges.
    std::array<std::array<double, 8>, kLanes> keep{}, send{};
    for (int lane = 0; lane < kLanes; ++lane) {
      const bool upper = layout::column_keeps_upper(lane, round);
      REQUIRE(upper != layout::column_keeps_upper(lane ^ layout::column_round_mask(round), round));
      for (int i = 0; i < half; ++i) {
        keep[lane][i] = upper ? v[lane][half + i] : v[lane][i];
        send[lane][i] = upper ? v[lane][i] : v[lane][half + i];
      }
    }
    for (int lane = 0; lane < kLanes; ++lane)
      for (int i = 0; i < half; ++i) v[lane][i] = keep[lane][i] + send[lane ^ layout::column_round_mask(round)][i];
  }
  for (int lane = 0; lane < kLanes; ++lane)
    for (int i = 0; i < 2; ++i) {
      const int key = layout::column_result_key(lane, i);
      double want = 0;
      for (int row = 0; row < layout::kWarpRows; ++row) want += tile[row][key];
      INFO("lane " << lane << " key " << key);
      REQUIRE(v[lane][i] == Approx(want).epsilon(1e-12));
    }
}

TEST_CASE("capture layout: diagonal chains and stage arrays give every distance once", "[capture][layout]") {
  const auto tile = random_tile(2);
  // Per-lane slot sums.
  std::array<std::array<std::array<double, layout::kDiagSlots>, 2>, kLanes> slots{};
  for (int lane = 0; lane < kLanes; ++lane)
    for (int a = 0; a < 4; ++a)
      for (int j = 0; j < 8; ++j)
        for (int e = 0; e < 2; ++e)
          slots[lane][e][layout::diag_slot(a, j)] += tile[layout::row_of(lane, a)][layout::key_of(lane, j, e)];
  // Two chain steps (each reads the source lane's value before the step, as a shuffle does).
  for (int step = 1; step <= 2; ++step) {
    auto next = slots;
    for (int lane = 0; lane < kLanes; ++lane) {
      const bool take = step == 1 ? layout::diag_chain_step1(lane) : layout::diag_chain_step2(lane);
      const int source = (lane + 9 * step) & 31;
      if (take) {
        REQUIRE(layout::diag_lane_offset(source) == layout::diag_lane_offset(lane));
        for (int e = 0; e < 2; ++e)
          for (int d = 0; d < layout::kDiagSlots; ++d) next[lane][e][d] += slots[source][e][d];
      }
    }
    slots = next;
  }
  // Chain starts write the stage arrays; no entry may be written twice.
  std::array<std::array<double, layout::kDiagStride>, layout::kDiagArrays> stage{};
  std::set<std::pair<int, int>> written;
  std::set<int> offsets;
  for (int lane = 0; lane < kLanes; ++lane) {
    if (!layout::diag_chain_start(lane)) continue;
    REQUIRE(offsets.insert(layout::diag_lane_offset(lane)).second);  // one start per chain
    for (int e = 0; e < 2; ++e)
      for (int d = 0; d < layout::kDiagSlots; ++d) {
        const int array = layout::diag_array(lane, e), index = layout::diag_index(lane, d, e);
        REQUIRE(index >= 0);
        REQUIRE(index < layout::kDiagIndices);
        REQUIRE(written.insert({array, index}).second);
        stage[std::size_t(array)][std::size_t(index)] = slots[lane][e][d];
      }
  }
  REQUIRE(offsets.size() == 14);  // g - 2t takes 14 values
  for (int index = 0; index < layout::kDiagIndices; ++index) {
    double want = 0;
    for (int row = 0; row < layout::kWarpRows; ++row) {
      const int key = row - (index - 63);
      if (key >= 0 && key < layout::kTileKeys) want += tile[row][key];
    }
    double got = 0;
    for (const auto& array : stage) got += array[std::size_t(index)];
    INFO("distance index " << index);
    REQUIRE(got == Approx(want).epsilon(1e-12));
  }
}
