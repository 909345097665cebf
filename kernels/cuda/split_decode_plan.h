#pragma once
// The arithmetic of the split-KV ("flash-decoding") path for decode steps
// (split_decode.h): which keys a call sees, how its query heads are packed into CTAs,
// how many key splits the grid gets and where each CTA's partial results go. Plain
// functions (host and device) so that CPU tests (tests/gpu/split_decode_plan_test.cpp)
// check them without a GPU.
//
// A CTA takes one KV head's query heads, `heads` of them (all of a GQA group when they fit),
// with all n rows of each: row r of the CTA is (head r / n, query row r % n), at most
// kCtaRows rows in m16 tiles. Its 4 warps split as row_tiles x key_groups: warp w owns row
// tile w % row_tiles and, of every 64-key tile, the 16-key slices kg, kg + key_groups, ...
// (kg = w / row_tiles). Grid: x = key splits (whole 64-key tiles each), y = units (CTAs
// per split: one per KV head and chunk of its query heads).
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#ifndef ATTNSCOPE_HOST_DEVICE
#if defined(__CUDACC__)
#define ATTNSCOPE_HOST_DEVICE __host__ __device__
#else
#define ATTNSCOPE_HOST_DEVICE
#endif
#endif

namespace attnscope::kernels::cuda::split_decode {

constexpr int64_t kMaxRows = 16;  // a call of at most this many query rows may take the path
constexpr int kCtaRows = 64;      // (query head, row) pairs one CTA holds: four m16 tiles
constexpr int kSliceKeys = 16;    // keys of one warp's slice of a tile (one k16 step of P V)
constexpr int kTileKeys = 64;     // keys per tile; a split is whole tiles
constexpr int kWarps = 4;
constexpr int kCtasPerSm = 2;     // the grid aims at this many CTAs per SM: one full wave

// Key tiles a call visits: every key some row of positions [first_position,
// first_position + n) sees lies in tiles [first, first + count).
struct KeyTiles {
  int64_t first = 0;
  int64_t count = 0;
};

ATTNSCOPE_HOST_DEVICE inline KeyTiles call_key_tiles(int64_t first_position, int64_t n, int64_t window) {
  // The lowest row sees the lowest keys; the highest row the highest.
  const int64_t lowest = window > 0 && first_position - window + 1 > 0 ? first_position - window + 1 : 0;
  const int64_t highest = first_position + n - 1;
  return {lowest / kTileKeys, highest / kTileKeys - lowest / kTileKeys + 1};
}

// How one CTA's rows lie over its warps.
struct CtaRows {
  int heads = 1;       // query heads of one KV head a CTA takes
  int row_tiles = 1;   // m16 tiles over heads * n rows, rounded up to 1, 2 or 4
  int key_groups = 4;  // warps sharing a row tile (kWarps / row_tiles)
  int slices = 1;      // 16-key slices of each tile a warp takes (4 / key_groups)
};

// For n rows (1..kMaxRows) and `group` query heads per KV head.
ATTNSCOPE_HOST_DEVICE inline CtaRows cta_rows(int64_t n, int group) {
  CtaRows c;
  const int64_t fit = kCtaRows / (n > 0 ? n : 1);
  c.heads = int(group < fit ? group : fit);
  if (c.heads < 1) c.heads = 1;
  const int64_t tiles = (int64_t(c.heads) * n + 15) / 16;
  c.row_tiles = tiles <= 1 ? 1 : tiles <= 2 ? 2 : 4;
  c.key_groups = kWarps / c.row_tiles;
  c.slices = (kTileKeys / kSliceKeys) / c.key_groups;
  return c;
}

// Warp w's part of the CTA: its row tile, its key group and the key offset (in a tile) of
// its slice j < slices; lane (g = lane / 4) holds CTA rows cta_row(row_tile, lane, a), a = 0, 1.
ATTNSCOPE_HOST_DEVICE inline int warp_row_tile(const CtaRows& c, int warp) { return warp % c.row_tiles; }
ATTNSCOPE_HOST_DEVICE inline int warp_key_group(const CtaRows& c, int warp) { return warp / c.row_tiles; }
ATTNSCOPE_HOST_DEVICE inline int slice_key0(const CtaRows& c, int key_group, int j) {
  return (key_group + j * c.key_groups) * kSliceKeys;
}
ATTNSCOPE_HOST_DEVICE inline int cta_row(int row_tile, int lane, int a) { return row_tile * 16 + (lane >> 2) + 8 * a; }

// Splits of `tiles` key tiles for a grid of `units` CTAs per split on `sm_count` SMs:
// enough for kCtasPerSm CTAs per SM, at least one tile each, the tiles spread evenly
// (no split is empty: count = ceil(tiles / tiles_per_split)).
struct Splits {
  int count = 1;
  int tiles_per_split = 1;
};

ATTNSCOPE_HOST_DEVICE inline int64_t max_split_count(int64_t units, int sm_count) {
  const int64_t target = int64_t(kCtasPerSm) * (sm_count > 0 ? sm_count : 1);
  const int64_t u = units > 0 ? units : 1;
  return (target + u - 1) / u;
}

ATTNSCOPE_HOST_DEVICE inline Splits choose_splits(int64_t tiles, int64_t units, int sm_count) {
  const int64_t t = tiles > 0 ? tiles : 1;
  const int64_t wanted = max_split_count(units, sm_count);
  const int64_t count = wanted < t ? wanted : t;
  const int64_t per = (t + count - 1) / count;
  return {int((t + per - 1) / per), int(per)};
}

// The tiles [first, end) of split s (relative to the call's first tile).
ATTNSCOPE_HOST_DEVICE inline int64_t split_first_tile(const Splits& s, int split) {
  return int64_t(split) * s.tiles_per_split;
}
ATTNSCOPE_HOST_DEVICE inline int64_t split_end_tile(const Splits& s, int split, int64_t tiles) {
  const int64_t end = int64_t(split + 1) * s.tiles_per_split;
  return end < tiles ? end : tiles;
}

// Forward units: the heads [head_begin, head_end) of a call, by KV head, each KV head's
// query heads [kv * group, (kv + 1) * group) in chunks of `heads` (cta_rows). A unit whose
// chunk lies outside the range has no heads (its CTAs return at once).
struct ForwardUnits {
  int kv_first = 0;
  int per_kv = 1;  // chunks of one KV head's group
  int count = 0;   // grid y
};

ATTNSCOPE_HOST_DEVICE inline ForwardUnits forward_units(int head_begin, int head_end, int group, int heads) {
  ForwardUnits u;
  u.kv_first = head_begin / group;
  const int kv_last = (head_end - 1) / group;
  u.per_kv = (group + heads - 1) / heads;
  u.count = (kv_last - u.kv_first + 1) * u.per_kv;
  return u;
}

struct HeadRange {
  int begin = 0;
  int end = 0;
};

ATTNSCOPE_HOST_DEVICE inline HeadRange forward_unit_heads(const ForwardUnits& u, int unit, int group, int heads,
                                                          int head_begin, int head_end) {
  const int kv = u.kv_first + unit / u.per_kv;
  const int chunk = unit % u.per_kv;
  int begin = kv * group + chunk * heads;
  int end = begin + heads < (kv + 1) * group ? begin + heads : (kv + 1) * group;
  begin = begin > head_begin ? begin : head_begin;
  end = end < head_end ? end : head_end;
  return {begin, end < begin ? begin : end};
}

// Forward partials in the workspace, for the call's query row `row` = (head - head_begin)
// * n + r and split s of `splits`: the unnormalised output (head_dim floats) at
// partial_output(...) and (running max in the log2 domain, sum) at partial_stats(...),
// after all outputs.
ATTNSCOPE_HOST_DEVICE inline int64_t partial_output(int64_t row, int split, int splits, int head_dim) {
  return (row * splits + split) * head_dim;
}
ATTNSCOPE_HOST_DEVICE inline int64_t partial_stats(int64_t row, int split, int splits, int head_dim,
                                                   int64_t rows) {
  return rows * splits * head_dim + 2 * (row * splits + split);
}
// Floats of a forward's partials: rows (heads run x n) x splits x (head_dim + 2).
ATTNSCOPE_HOST_DEVICE inline int64_t forward_workspace_floats(int64_t rows, int64_t splits, int head_dim) {
  return rows * splits * (int64_t(head_dim) + 2);
}

// Distances of one tile in the capture: element (row r of a head's n rows, key key0 + kl)
// lies on index i = r - kl + kTileKeys - 1 in [0, tile_distances(n)), distance
// first_position - key0 - (kTileKeys - 1) + i; index i holds rows [first, end) at keys
// kl = r + kTileKeys - 1 - i.
ATTNSCOPE_HOST_DEVICE inline int tile_distances(int n) { return kTileKeys - 1 + n; }
ATTNSCOPE_HOST_DEVICE inline int64_t tile_distance(int64_t first_position, int64_t key0, int i) {
  return first_position - key0 - (kTileKeys - 1) + i;
}
ATTNSCOPE_HOST_DEVICE inline int tile_distance_first_row(int i) { return i > kTileKeys - 1 ? i - (kTileKeys - 1) : 0; }
ATTNSCOPE_HOST_DEVICE inline int tile_distance_end_row(int i, int n) { return i + 1 < n ? i + 1 : n; }
ATTNSCOPE_HOST_DEVICE inline int tile_distance_key(int i, int r) { return r + kTileKeys - 1 - i; }

// Capture partials: per captured slot, row and part (split * key_groups + key group: each
// warp's own, no in-CTA merge), 5 planes of [slots][n][parts]: entropy (sum of p log2 p),
// sink mass, local mass, best score, best key (int32).
constexpr int kCapturePlanes = 5;
ATTNSCOPE_HOST_DEVICE inline int64_t capture_part_index(int64_t slot, int64_t row, int part, int64_t n, int parts) {
  return (slot * n + row) * parts + part;
}
ATTNSCOPE_HOST_DEVICE inline int64_t capture_workspace_floats(int64_t slots, int64_t n, int64_t parts) {
  return kCapturePlanes * slots * n * parts;
}

// Capture units (host only): the launch's slots (slot i captures query head heads[i]) sorted
// by KV head, stably, in chunks of at most `per_unit` slots of one KV head. Unit u holds
// order[first[u]] .. order[first[u + 1] - 1].
struct CaptureUnits {
  std::vector<int> order;
  std::vector<int> first;  // count() + 1 entries
  int count() const { return int(first.size()) - 1; }
  // The most slots one KV head has (what cta_rows is given instead of the group).
  int most_per_kv_head = 0;
};

inline CaptureUnits capture_units(const int* heads, int slots, int group, int per_unit) {
  CaptureUnits u;
  u.order.resize(std::size_t(slots));
  for (int i = 0; i < slots; ++i) u.order[std::size_t(i)] = i;
  // Insertion sort: at most a few hundred slots, and stable.
  for (int i = 1; i < slots; ++i)
    for (int j = i; j > 0 && heads[u.order[std::size_t(j - 1)]] / group > heads[u.order[std::size_t(j)]] / group; --j)
      std::swap(u.order[std::size_t(j - 1)], u.order[std::size_t(j)]);
  u.first.push_back(0);
  int run_start = 0;  // where the current KV head's slots begin in order
  for (int i = 0; i < slots; ++i) {
    const auto kv_of = [&](int at) { return heads[u.order[std::size_t(at)]] / group; };
    if (i > 0 && kv_of(i) != kv_of(i - 1)) {
      run_start = i;
      u.first.push_back(i);
    } else if (i - u.first.back() == per_unit) {
      u.first.push_back(i);
    }
    u.most_per_kv_head = std::max(u.most_per_kv_head, i - run_start + 1);
  }
  if (slots > 0) u.first.push_back(slots);
  return u;
}

// Floats the capture's parts can need for `slots` slots of n <= kMaxRows rows on
// `sm_count` SMs, whatever their KV heads: units >= slots / heads-per-unit and heads-per-unit
// x n <= kCtaRows give slots x n x parts <= 4 kCtaRows (2 sm_count + slots).
inline int64_t capture_workspace_bound(int64_t slots, int64_t n, int sm_count) {
  const int64_t by_rows = slots * n * kWarps * max_split_count(1, sm_count);
  const int64_t by_units = int64_t(kWarps) * kCtaRows * (int64_t(kCtasPerSm) * sm_count + slots);
  return kCapturePlanes * (by_rows < by_units ? by_rows : by_units);
}

}  // namespace attnscope::kernels::cuda::split_decode
