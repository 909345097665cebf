// The block-sparse kept-key set: what the builder packs, how rows read back, counting,
// and the own-key floor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "kernels/error.h"
#include "kernels/kept_keys.h"

namespace ak = attnscope::kernels;
using Catch::Contains;

TEST_CASE("Ranges added row by row read back as the same ranges", "[masks]") {
  ak::KeptKeysBuilder b(0, 200, 0);
  b.keep(150, 0, 4);
  b.keep(150, 60, 70);   // crosses the key block boundary at 64
  b.keep(150, 140, 151);
  b.keep(150, 300, 400);  // beyond the row's position: ignored
  const ak::KeptKeys kept = b.finish();
  std::vector<std::pair<int64_t, int64_t>> ranges;
  kept.row_ranges(150, ranges);
  CHECK(ranges == std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {60, 70}, {140, 151}});
  CHECK(kept.kept(150, 65));
  CHECK(!kept.kept(150, 70));
}

TEST_CASE("A block whose every visible entry is kept is stored without bits", "[masks]") {
  ak::KeptKeysBuilder b(0, 128, 0);
  for (int64_t r = 64; r < 128; ++r) b.keep(r, 0, 64);  // rows of block 1, keys of block 0: all visible
  for (int64_t r = 64; r < 128; ++r) b.keep(r, 64, r + 1);  // the diagonal block, causal part
  const ak::KeptKeys kept = b.finish();
  const auto blocks = kept.blocks_of(1);
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].mask == -1);
  CHECK(blocks[1].mask == -1);  // causal triangle = every visible entry
  CHECK(kept.partial_blocks() > 0);  // block 0 rows kept only their own key (the floor)
}

TEST_CASE("Rows that keep nothing keep their own key", "[masks]") {
  ak::KeptKeysBuilder b(10, 5, 0);
  b.keep(2, 0, 3);
  const ak::KeptKeys kept = b.finish();
  for (int64_t r : {0, 1, 3, 4}) {
    CHECK(kept.kept(r, 10 + r));
    CHECK(!kept.kept(r, 0));
  }
  CHECK(kept.kept_entries() == 3 + 4);
}

TEST_CASE("Counts take the model's sliding window into account", "[masks]") {
  ak::KeptKeysBuilder b(0, 100, 10);
  for (int64_t r = 0; r < 100; ++r) b.keep_row(r);
  const ak::KeptKeys kept = b.finish();
  int64_t visible = 0;
  for (int64_t r = 0; r < 100; ++r) visible += std::min<int64_t>(r + 1, 10);
  CHECK(kept.visible_entries() == visible);
  CHECK(kept.kept_entries() == visible);
  CHECK(kept.density() == 1.0);
  CHECK(!kept.kept(50, 40));  // outside the model's window
}

TEST_CASE("Whole blocks kept by keep_block count only their visible entries", "[masks]") {
  ak::KeptKeysBuilder b(0, 64, 0);
  b.keep_block(0, 0);
  const ak::KeptKeys kept = b.finish();
  CHECK(kept.kept_entries() == 64 * 65 / 2);
  CHECK(kept.kept_entries_from(60) == 61 + 62 + 63 + 64);
}

TEST_CASE("A kept set out of range is refused", "[masks]") {
  CHECK_THROWS_WITH(ak::KeptKeysBuilder(0, 10, -1), Contains("kept keys"));
  ak::KeptKeysBuilder b(0, 10, 0);
  CHECK_THROWS_WITH(b.keep(10, 0, 1), Contains("row 10 is outside the 10 rows"));
}

namespace {

// Random ranges, whole blocks and untouched rows, for the counting tests below.
ak::KeptKeys random_set(int64_t first_position, int64_t rows, int64_t window, int64_t block, uint32_t seed) {
  ak::KeptKeysBuilder b(first_position, rows, window, block);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> kind(0, 5);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t position = first_position + r;
    std::uniform_int_distribution<int64_t> key(0, position);
    switch (kind(rng)) {
      case 0: break;  // nothing: the own-key floor
      case 1: b.keep_row(r); break;
      case 2: b.keep_block(r / block, key(rng) / block); break;
      default:
        for (int i = 0; i < 6; ++i) {
          const int64_t begin = key(rng);
          b.keep(r, begin, begin + std::uniform_int_distribution<int64_t>(1, 150)(rng));
        }
    }
  }
  return b.finish();
}

}  // namespace

TEST_CASE("Kept entries from any row are the entries the set answers kept for", "[masks]") {
  struct Shape {
    int64_t first_position, rows, window, block;
  };
  for (const Shape s : {Shape{0, 300, 0, 64}, Shape{37, 250, 90, 64}, Shape{5, 200, 0, 16}, Shape{100, 230, 70, 100},
                        Shape{0, 130, 0, 7}}) {
    INFO("first position " << s.first_position << ", rows " << s.rows << ", window " << s.window << ", block "
                           << s.block);
    const ak::KeptKeys kept = random_set(s.first_position, s.rows, s.window, s.block, uint32_t(s.rows + s.block));
    int64_t from = 0;  // counted by asking every (row, key) from the last row up
    for (int64_t r = s.rows; r >= 0; --r) {
      if (r < s.rows)
        for (int64_t key = 0; key <= s.first_position + r; ++key) from += kept.kept(r, key);
      REQUIRE(kept.kept_entries_from(r) == from);  // exact: integer counts
    }
    CHECK(kept.kept_entries() == from);
    CHECK(kept.kept_entries_from(-5) == from);
    CHECK(kept.kept_entries_from(s.rows + 10) == 0);
  }
}

TEST_CASE("Blocks are full, partial or dropped by their visible entries whatever the block size", "[masks]") {
  for (const int64_t block : {64, 16, 100, 7}) {
    INFO("block " << block);
    const ak::KeptKeys kept = random_set(20, 260, 120, block, uint32_t(block));
    int64_t partial = 0;
    for (int64_t qb = 0; qb < kept.query_blocks(); ++qb)
      for (const ak::KeptKeyBlock& b : kept.blocks_of(qb)) {
        int64_t visible = 0, held = 0;
        for (int64_t r = qb * block; r < std::min(kept.rows(), (qb + 1) * block); ++r)
          for (int64_t key = b.key_block * block; key < (b.key_block + 1) * block; ++key) {
            visible += kept.visible(r, key);
            held += kept.kept(r, key);
          }
        CHECK(held > 0);  // no empty block is listed
        if (b.mask < 0) {
          CHECK(held == visible);
        } else {
          ++partial;
          CHECK(held < visible);  // a mask holding every visible entry would be a full block
        }
      }
    CHECK(partial == kept.partial_blocks());
    CHECK(partial > 0);
  }
}
