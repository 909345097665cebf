// The mask drawn over the map: block shades and dropped runs against brute force over
// every (row, key) of small kept sets.
#include <catch2/catch.hpp>

#include <cstdint>

#include "kernels/kept_keys.h"
#include "views/mask_overlay.h"

using namespace attnscope;
using namespace attnscope::views;

namespace {

// Sinks [0, 4) and a window of 16 keys per row, over `rows` rows in blocks of `block`.
kernels::KeptKeys sink_window(int64_t rows, int64_t block, int64_t model_window = 0) {
  kernels::KeptKeysBuilder b(0, rows, model_window, block);
  for (int64_t r = 0; r < rows; ++r) {
    b.keep(r, 0, 4);
    b.keep(r, r - 15, r + 1);
  }
  return b.finish();
}

uint8_t alpha(PackedColor c) { return uint8_t(c >> 24); }

}  // namespace

TEST_CASE("dropped runs cover exactly the visible entries the mask does not keep", "[gui][mask]") {
  for (int64_t window : {int64_t(0), int64_t(40)}) {
    const kernels::KeptKeys kept = sink_window(150, 16, window);
    const auto runs = dropped_runs(kept, 0, 150, 0, 150);
    std::vector<std::vector<int>> covered(150, std::vector<int>(150, 0));
    for (const DroppedRun& r : runs)
      for (int64_t k = r.key_begin; k < r.key_end; ++k) ++covered[size_t(r.query)][size_t(k)];
    for (int64_t q = 0; q < 150; ++q)
      for (int64_t k = 0; k < 150; ++k) {
        const int expected = kept.visible(q, k) && !kept.kept(q, k) ? 1 : 0;
        REQUIRE(covered[size_t(q)][size_t(k)] == expected);  // exact: no entry twice, none missed
      }
  }
}

TEST_CASE("dropped runs are clipped to the rows and keys in view", "[gui][mask]") {
  const kernels::KeptKeys kept = sink_window(150, 16);
  const auto runs = dropped_runs(kept, 100, 110, 50, 60);
  REQUIRE(runs.size() == 10);  // one run per row: keys 50..59 lie between the sinks and each row's window
  for (const DroppedRun& r : runs) {
    REQUIRE(r.key_begin == 50);
    REQUIRE(r.key_end == 60);
    REQUIRE(r.query >= 100);
    REQUIRE(r.query < 110);
  }
}

TEST_CASE("visible entries of a block follow causality and the model's window", "[gui][mask]") {
  const kernels::KeptKeys kept = sink_window(100, 16, 24);
  for (int64_t qb = 0; qb < kept.query_blocks(); ++qb)
    for (int64_t kb = 0; kb <= qb; ++kb) {
      int64_t brute = 0;
      for (int64_t q = qb * 16; q < std::min<int64_t>((qb + 1) * 16, 100); ++q)
        for (int64_t k = kb * 16; k < (kb + 1) * 16; ++k) brute += kept.visible(q, k) ? 1 : 0;
      REQUIRE(visible_entries_in_block(kept, qb, kb) == brute);
    }
}

TEST_CASE("block shades are clear where kept, full where dropped and in between for partial blocks", "[gui][mask]") {
  const kernels::KeptKeys kept = sink_window(128, 16);
  const MaskBlockImage image = mask_block_image(kept);
  REQUIRE(image.blocks == 8);
  REQUIRE(image.block == 16);
  const auto at = [&](int64_t qb, int64_t kb) { return image.pixels[size_t(qb * image.blocks + kb)]; };
  REQUIRE(alpha(at(0, 1)) == 0);                      // above the diagonal: nothing to shade
  REQUIRE(alpha(at(7, 3)) == alpha(kDroppedShade));   // far from the sinks and the window: all dropped
  REQUIRE(alpha(at(7, 7)) == 0);                      // the diagonal block: the window keeps every visible entry
  // The first key block keeps 4 of 16 keys in each later row: 12/16 of it dropped.
  const double expected = 0.75 * alpha(kDroppedShade);
  REQUIRE(std::abs(double(alpha(at(7, 0))) - expected) <= 0.5 + 1e-9);  // rounded to a byte
}
