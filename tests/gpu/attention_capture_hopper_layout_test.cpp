// The Hopper capture kernel's in-warp reductions replayed on the CPU, lane by lane, with
// the index functions the kernel uses (hopper/attention_capture_hopper_layout.h): the
// column sums each lane ends with, the diagonal stage (one writer per entry, no bank
// conflict on any store) and the per-index sums must equal direct sums over a 32 x 128
// tile. Runs without a GPU.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "kernels/cuda/hopper/attention_capture_hopper_layout.h"

namespace layout = attnscope::kernels::cuda::hopper::capture_layout;

namespace {

constexpr int kLanes = 32;
using Tile = std::array<std::array<double, layout::kTileKeys>, layout::kWarpRows>;

Tile random_tile(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  Tile tile{};
  for (auto& row : tile)
    for (double& x : row) x = dist(rng);
  return tile;
}

}  // namespace

TEST_CASE("Hopper capture layout: the lanes' elements cover the warp tile exactly once", "[capture][layout]") {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kLanes; ++lane)
    for (int a = 0; a < 4; ++a)
      for (int j = 0; j < 16; ++j)
        for (int e = 0; e < 2; ++e) {
          const int row = layout::row_of(lane, a), key = layout::key_of(lane, j, e);
          REQUIRE(row < layout::kWarpRows);
          REQUIRE(key < layout::kTileKeys);
          REQUIRE(seen.insert({row, key}).second);
          // An element's diagonal slot lies at its row - key + 127.
          REQUIRE(layout::diag_index(lane, layout::diag_slot(a, j), e) == row - key + 127);
        }
  REQUIRE(seen.size() == std::size_t(layout::kWarpRows * layout::kTileKeys));
}

TEST_CASE("Hopper capture layout: three shuffle rounds leave each lane four column sums", "[capture][layout]") {
  const Tile tile = random_tile(11);
  std::array<std::array<double, 32>, kLanes> v{};
  for (int lane = 0; lane < kLanes; ++lane)
    for (int j = 0; j < 16; ++j)
      for (int e = 0; e < 2; ++e)
        for (int a = 0; a < 4; ++a) v[lane][2 * j + e] += tile[layout::row_of(lane, a)][layout::key_of(lane, j, e)];
  for (int round = 0; round < 3; ++round) {
    const int half = 16 >> round;
    // As the kernel: every lane picks what it keeps and what it sends, then exchanges.
    std::array<std::array<double, 16>, kLanes> keep{}, send{};
    for (int lane = 0; lane < kLanes; ++lane) {
      const bool upper = layout::column_keeps_upper(lane, round);
      for (int i = 0; i < half; ++i) {
        keep[lane][i] = upper ? v[lane][half + i] : v[lane][i];
        send[lane][i] = upper ? v[lane][i] : v[lane][half + i];
      }
    }
    for (int lane = 0; lane < kLanes; ++lane)
      for (int i = 0; i < half; ++i)
        v[lane][i] = keep[lane][i] + send[lane ^ layout::column_round_mask(round)][i];
  }
  std::set<int> keys;
  for (int lane = 0; lane < kLanes; ++lane)
    for (int i = 0; i < 4; ++i) {
      const int key = layout::column_result_key(lane, i);
      double want = 0;
      for (int row = 0; row < layout::kWarpRows; ++row) want += tile[row][key];
      INFO("lane " << lane << " value " << i << " key " << key);
      REQUIRE(v[lane][i] == Approx(want).epsilon(1e-12));  // same additions in another order
      REQUIRE(keys.insert(key).second);
    }
  REQUIRE(keys.size() == std::size_t(layout::kTileKeys));
}

TEST_CASE("Hopper capture layout: each diagonal stage entry has one writer and no store has a bank conflict",
          "[capture][layout]") {
  std::set<int> written;
  for (int slot = 0; slot < layout::kDiagSlots; ++slot)
    for (int e = 0; e < 2; ++e) {
      std::set<int> banks;  // one store instruction: every lane, this (slot, e)
      for (int lane = 0; lane < kLanes; ++lane) {
        const int offset = layout::diag_stage_offset(lane, slot, e);
        INFO("lane " << lane << " slot " << slot << " e " << e << " offset " << offset);
        REQUIRE(offset >= 0);
        REQUIRE(offset < layout::kDiagStageFloats);
        REQUIRE((offset % layout::kDiagHalf) / 4 == layout::diag_index(lane, slot, e));  // its index's entries
        REQUIRE(offset / layout::kDiagHalf == e);
        REQUIRE(offset == layout::diag_stage_offset(lane, 0, e) + 32 * slot);  // the kernel's base + 32 slot
        REQUIRE(written.insert(offset).second);
        REQUIRE(banks.insert(offset % 32).second);
      }
    }
  REQUIRE(written.size() == std::size_t(kLanes * layout::kDiagSlots * 2));
}

TEST_CASE("Hopper capture layout: the stage summed by index gives the tile's diagonal sums", "[capture][layout]") {
  const Tile tile = random_tile(12);
  std::vector<double> stage(layout::kDiagStageFloats, 0.0);
  for (int lane = 0; lane < kLanes; ++lane) {
    double slot[2][layout::kDiagSlots] = {};
    for (int a = 0; a < 4; ++a)
      for (int j = 0; j < 16; ++j)
        for (int e = 0; e < 2; ++e)
          slot[e][layout::diag_slot(a, j)] += tile[layout::row_of(lane, a)][layout::key_of(lane, j, e)];
    for (int e = 0; e < 2; ++e)
      for (int d = 0; d < layout::kDiagSlots; ++d) stage[std::size_t(layout::diag_stage_offset(lane, d, e))] = slot[e][d];
  }
  for (int index = 0; index < layout::kDiagIndices; ++index) {
    double got = 0, want = 0;
    for (int e = 0; e < 2; ++e)
      for (int t = 0; t < 4; ++t) got += stage[std::size_t(e * layout::kDiagHalf + 4 * index + t)];
    for (int row = 0; row < layout::kWarpRows; ++row) {
      const int key = row + 127 - index;
      if (key >= 0 && key < layout::kTileKeys) want += tile[row][key];
    }
    INFO("index " << index);
    REQUIRE(got == Approx(want).epsilon(1e-12));
  }
}

TEST_CASE("Hopper capture layout: each diagonal slot's first element is assigned, every later one added",
          "[capture][layout]") {
  const Tile tile = random_tile(13);
  for (int lane = 0; lane < kLanes; ++lane)
    for (int e = 0; e < 2; ++e) {
      // As add_to_slots: m-tile 0 then 1, h, then j; slots start as NaN, so a slot read
      // before its first write (or written first twice) shows.
      std::array<double, layout::kDiagSlots> slot;
      slot.fill(std::nan(""));
      std::array<int, layout::kDiagSlots> first_writes{};
      std::array<double, layout::kDiagSlots> want{};
      for (int m = 0; m < 2; ++m)
        for (int h = 0; h < 2; ++h)
          for (int j = 0; j < 16; ++j) {
            const int a = 2 * h + m, d = layout::diag_slot(a, j);
            const double x = tile[layout::row_of(lane, a)][layout::key_of(lane, j, e)];
            if (layout::first_slot_write(m, h, j)) {
              slot[d] = x;
              ++first_writes[d];
            } else {
              slot[d] += x;
            }
            want[d] += x;
          }
      for (int d = 0; d < layout::kDiagSlots; ++d) {
        INFO("lane " << lane << " e " << e << " slot " << d);
        REQUIRE(first_writes[d] == 1);
        REQUIRE(slot[d] == Approx(want[d]).epsilon(1e-12));
      }
    }
}
