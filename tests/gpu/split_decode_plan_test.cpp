// The split-KV decode path's arithmetic (split_decode_plan.h), checked against direct
// enumeration: the key tiles of a call, the rows of a CTA and the warps' slices, the split
// chooser, the forward's units and partial layout, the capture's units, tile distances
// and workspace bound. Runs without a GPU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "kernels/cuda/split_decode_plan.h"

namespace plan = attnscope::kernels::cuda::split_decode;

TEST_CASE("split decode: a call's key tiles hold every key one of its rows sees, and no more", "[decode][plan]") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const int64_t n = 1 + int64_t(rng() % 16);
    const int64_t first = int64_t(rng() % 5000);
    const int64_t window = rng() % 3 == 0 ? 0 : 1 + int64_t(rng() % 700);
    int64_t lowest = first + n, highest = -1;
    for (int64_t pos = first; pos < first + n; ++pos)
      for (int64_t key = 0; key <= pos; ++key)
        if (window == 0 || key > pos - window) {
          lowest = std::min(lowest, key);
          highest = std::max(highest, key);
        }
    const plan::KeyTiles tiles = plan::call_key_tiles(first, n, window);
    INFO("first " << first << " n " << n << " window " << window);
    REQUIRE(tiles.first == lowest / plan::kTileKeys);
    REQUIRE(tiles.first + tiles.count - 1 == highest / plan::kTileKeys);
  }
}

TEST_CASE("split decode: a CTA holds at most 64 rows of whole heads in 1, 2 or 4 row tiles", "[decode][plan]") {
  for (int64_t n = 1; n <= plan::kMaxRows; ++n)
    for (int group = 1; group <= 64; ++group) {
      INFO("n " << n << " group " << group);
      const plan::CtaRows c = plan::cta_rows(n, group);
      REQUIRE(c.heads == std::min<int64_t>(group, plan::kCtaRows / n));
      REQUIRE(c.heads * n <= plan::kCtaRows);
      REQUIRE(c.row_tiles * 16 >= c.heads * n);
      REQUIRE((c.row_tiles == 1 || c.row_tiles == 2 || c.row_tiles == 4));
      REQUIRE((c.row_tiles == 1 || (c.row_tiles / 2) * 16 < c.heads * n));  // no tile more than needed, 3 -> 4
      REQUIRE(c.row_tiles * c.key_groups == plan::kWarps);
      REQUIRE(c.slices * c.key_groups * plan::kSliceKeys == plan::kTileKeys);
    }
}

TEST_CASE("split decode: the warps sharing a row tile take each 16-key slice of a tile once", "[decode][plan]") {
  for (int64_t n : {1, 2, 3, 7, 9, 16})
    for (int group : {1, 4, 8, 32}) {
      const plan::CtaRows c = plan::cta_rows(n, group);
      std::map<int, std::multiset<int>> keys_of_tile;  // row tile -> slice key offsets
      std::set<int> rows;
      for (int warp = 0; warp < plan::kWarps; ++warp) {
        const int tile = plan::warp_row_tile(c, warp), key_group = plan::warp_key_group(c, warp);
        REQUIRE(key_group < c.key_groups);
        for (int j = 0; j < c.slices; ++j) keys_of_tile[tile].insert(plan::slice_key0(c, key_group, j));
        for (int lane = 0; lane < 32; ++lane)
          for (int a = 0; a < 2; ++a) rows.insert(plan::cta_row(tile, lane, a));
      }
      INFO("n " << n << " group " << group);
      REQUIRE(int(keys_of_tile.size()) == c.row_tiles);
      for (const auto& [tile, slices] : keys_of_tile) REQUIRE(slices == std::multiset<int>{0, 16, 32, 48});
      REQUIRE(int(rows.size()) == c.row_tiles * 16);  // rows 0 .. 16 row_tiles - 1, each in one warp's tile
      REQUIRE(*rows.rbegin() == c.row_tiles * 16 - 1);
    }
}

TEST_CASE("split decode: splits are whole tiles, none empty, about two CTAs per SM", "[decode][plan]") {
  for (const int sms : {1, 108, 132})
    for (const int64_t units : {1, 2, 8, 9, 32, 64, 300})
      for (int64_t tiles = 1; tiles <= 2100; tiles += tiles < 70 ? 1 : 37) {
        const plan::Splits s = plan::choose_splits(tiles, units, sms);
        INFO("sms " << sms << " units " << units << " tiles " << tiles << ": " << s.count << " x " << s.tiles_per_split);
        REQUIRE(s.count >= 1);
        REQUIRE(s.tiles_per_split >= 1);
        REQUIRE(int64_t(s.count) <= plan::max_split_count(units, sms));
        REQUIRE(int64_t(s.count) <= tiles);
        // Every tile in exactly one split, no split empty.
        int64_t covered = 0;
        for (int split = 0; split < s.count; ++split) {
          const int64_t begin = plan::split_first_tile(s, split), end = plan::split_end_tile(s, split, tiles);
          REQUIRE(begin == covered);
          REQUIRE(end > begin);
          covered = end;
        }
        REQUIRE(covered == tiles);
        // As many CTAs as wanted, up to what the tiles allow, less at most half by balancing.
        const int64_t wanted = std::min(plan::max_split_count(units, sms), tiles);
        REQUIRE(2 * int64_t(s.count) >= wanted);
      }
  // The Llama-3-8B decode step (8 KV heads, 4 query heads each, one row) on an H100.
  const plan::CtaRows rows = plan::cta_rows(1, 4);
  CHECK(rows.heads == 4);
  const plan::ForwardUnits units = plan::forward_units(0, 32, 4, rows.heads);
  CHECK(units.count == 8);
  for (const int64_t keys : {4096, 16384, 32768, 65536, 131072}) {
    const plan::Splits s = plan::choose_splits(plan::call_key_tiles(keys - 1, 1, 0).count, units.count, 132);
    INFO(keys << " keys: " << s.count << " splits of " << s.tiles_per_split << " tiles");
    CHECK(s.count * units.count >= 240);  // 264 wanted: one wave of two CTAs per SM
    CHECK(s.count * units.count <= 264);
  }
}

TEST_CASE("split decode: forward units cover each head of the range once, within one KV head", "[decode][plan]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 3000; ++trial) {
    const int kv_heads = 1 + int(rng() % 8), group = 1 + int(rng() % 16), heads = kv_heads * group;
    const int64_t n = 1 + int64_t(rng() % 16);
    const int begin = int(rng() % unsigned(heads)), end = begin + 1 + int(rng() % unsigned(heads - begin));
    const plan::CtaRows c = plan::cta_rows(n, group);
    const plan::ForwardUnits u = plan::forward_units(begin, end, group, c.heads);
    std::vector<int> seen(std::size_t(heads), 0);
    for (int unit = 0; unit < u.count; ++unit) {
      const plan::HeadRange r = plan::forward_unit_heads(u, unit, group, c.heads, begin, end);
      REQUIRE(r.end - r.begin <= c.heads);
      for (int h = r.begin; h < r.end; ++h) {
        REQUIRE(h / group == r.begin / group);
        ++seen[std::size_t(h)];
      }
    }
    INFO("heads " << heads << " group " << group << " n " << n << " range [" << begin << ", " << end << ")");
    for (int h = 0; h < heads; ++h) REQUIRE(seen[std::size_t(h)] == (h >= begin && h < end ? 1 : 0));
  }
}

TEST_CASE("split decode: forward partials of distinct rows and splits never overlap", "[decode][plan]") {
  for (const int dim : {16, 80, 128})
    for (const int64_t rows : {1, 7, 64}) {
      const int splits = 5;
      const int64_t size = plan::forward_workspace_floats(rows, splits, dim);
      std::vector<int> used(std::size_t(size), 0);
      for (int64_t row = 0; row < rows; ++row)
        for (int split = 0; split < splits; ++split) {
          const int64_t out = plan::partial_output(row, split, splits, dim);
          const int64_t stats = plan::partial_stats(row, split, splits, dim, rows);
          REQUIRE(out % 4 == 0);    // float4 stores
          REQUIRE(stats % 2 == 0);  // float2 stores
          for (int64_t i = out; i < out + dim; ++i) ++used[std::size_t(i)];
          ++used[std::size_t(stats)];
          ++used[std::size_t(stats + 1)];
          // The combine reads a row's splits at stride dim (outputs) and 1 (stats).
          REQUIRE(plan::partial_output(row, split, splits, dim) ==
                  plan::partial_output(row, 0, splits, dim) + int64_t(split) * dim);
          REQUIRE(stats == plan::partial_stats(row, 0, splits, dim, rows) + 2 * split);
        }
      REQUIRE(std::all_of(used.begin(), used.end(), [](int x) { return x == 1; }));
    }
}

TEST_CASE("split decode: capture units group the slots by KV head in chunks that fit a CTA", "[decode][plan]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const int group = 1 + int(rng() % 8), heads = group * (1 + int(rng() % 8));
    const int slots = 1 + int(rng() % 40);
    std::vector<int> captured(static_cast<std::size_t>(slots));
    for (int& h : captured) h = int(rng() % unsigned(heads));  // any order, repeats allowed
    const int per_unit = 1 + int(rng() % 64);
    const plan::CaptureUnits u = plan::capture_units(captured.data(), slots, group, per_unit);
    std::vector<int> order = u.order;
    std::sort(order.begin(), order.end());
    for (int i = 0; i < slots; ++i) REQUIRE(order[std::size_t(i)] == i);
    REQUIRE(u.first.front() == 0);
    REQUIRE(u.first.back() == slots);
    std::map<int, int> per_kv;
    for (int h : captured) ++per_kv[h / group];
    int most = 0, fewest_units = 0;
    for (const auto& [kv, count] : per_kv) {
      most = std::max(most, count);
      fewest_units += (count + per_unit - 1) / per_unit;
    }
    REQUIRE(u.most_per_kv_head == most);
    REQUIRE(u.count() == fewest_units);
    for (int unit = 0; unit < u.count(); ++unit) {
      const int b = u.first[std::size_t(unit)], e = u.first[std::size_t(unit) + 1];
      REQUIRE(e > b);
      REQUIRE(e - b <= per_unit);
      for (int i = b; i < e; ++i)
        REQUIRE(captured[std::size_t(u.order[std::size_t(i)])] / group == captured[std::size_t(u.order[std::size_t(b)])] / group);
    }
  }
}

TEST_CASE("split decode: each element of a tile lies on its distance's index once", "[decode][plan]") {
  for (int n = 1; n <= 16; ++n) {
    const int64_t first = 1000, key0 = 960;
    std::map<std::pair<int, int>, int> seen;  // (row, key in tile) -> times
    for (int i = 0; i < plan::tile_distances(n); ++i)
      for (int r = plan::tile_distance_first_row(i); r < plan::tile_distance_end_row(i, n); ++r) {
        const int kl = plan::tile_distance_key(i, r);
        REQUIRE(kl >= 0);
        REQUIRE(kl < plan::kTileKeys);
        REQUIRE(plan::tile_distance(first, key0, i) == first + r - (key0 + kl));
        ++seen[{r, kl}];
      }
    REQUIRE(int(seen.size()) == n * plan::kTileKeys);
    for (const auto& [element, times] : seen) REQUIRE(times == 1);
  }
}

TEST_CASE("split decode: the capture's workspace bound holds for every grouping of the slots", "[decode][plan]") {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    const int sms = trial % 2 == 0 ? 132 : 1 + int(rng() % 200);
    const int group = 1 + int(rng() % 16), heads = group * (1 + int(rng() % 16));
    const int slots = 1 + int(rng() % 256);
    const int64_t n = 1 + int64_t(rng() % 16);
    std::vector<int> captured(static_cast<std::size_t>(slots));
    for (int& h : captured) h = int(rng() % unsigned(heads));
    // As the launcher plans it, with the most splits any key count gives.
    const plan::CaptureUnits u = plan::capture_units(captured.data(), slots, group, int(plan::kCtaRows / n));
    const plan::CtaRows c = plan::cta_rows(n, u.most_per_kv_head);
    const int64_t parts = plan::max_split_count(u.count(), sms) * c.key_groups;
    INFO("slots " << slots << " n " << n << " units " << u.count() << " sms " << sms);
    REQUIRE(plan::capture_workspace_floats(slots, n, parts) <= plan::capture_workspace_bound(slots, n, sms));
  }
}
