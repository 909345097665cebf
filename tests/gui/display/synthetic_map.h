#pragma once
// A synthetic 32K-token head for drawing the attention map on a real OpenGL context (the
// display test and bench/map_frame_bench): a sink at key 0 and a local band, with pooled,
// column and diagonal sums consistent enough to draw (not to analyse), and exact tiles
// served at once with a row pattern (what the session would recompute).
#include <QObject>
#include <cmath>
#include <string>
#include <vector>

#include "views/attention_map_canvas.h"

namespace attnscope::views::testing {

struct SyntheticHead {
  static constexpr int64_t kTokens = 32768;
  static constexpr int64_t kBlock = 128;
  kernels::PooledMap pooled;
  std::vector<double> columns, diagonals;
  std::vector<std::string> labels;

  SyntheticHead() : labels(size_t(kTokens), " tok") {
    const int64_t blocks = kTokens / kBlock;
    pooled.block = kBlock;
    pooled.rows_in_block.assign(size_t(blocks), kBlock);
    for (int64_t i = 0; i < blocks; ++i) {
      std::vector<double> row(size_t(i + 1));
      for (int64_t j = 0; j <= i; ++j) row[size_t(j)] = kBlock * (j == 0 ? 0.5 : j == i ? 0.3 : 0.2 / double(i));
      pooled.sums.push_back(std::move(row));
    }
    columns.assign(size_t(kTokens), 1.0);
    columns[0] = 0.5 * kTokens;
    diagonals.assign(size_t(kTokens), 1.0);
  }

  HeadMap map() const {
    HeadMap m;
    m.layer = 0;
    m.head = 0;
    m.tokens = kTokens;
    m.pooled = &pooled;
    m.column_sums = columns;
    m.diagonal_sums = diagonals;
    return m;
  }
};

// Answers the canvas's tile requests at once.
inline void serve_synthetic_tiles(AttentionMapCanvas& canvas) {
  QObject::connect(&canvas, &AttentionMapCanvas::tilesWanted, &canvas,
                   [&canvas](int layer, int head, std::vector<TileKey> keys) {
                     std::vector<ExactTile> tiles;
                     for (const TileKey& key : keys) {
                       ExactTile t;
                       t.key = key;
                       t.span = tile_span(key, AttentionMapCanvas::kTileTokens, SyntheticHead::kTokens);
                       const int64_t w = t.span.key_end - t.span.key_begin;
                       for (int64_t q = t.span.query_begin; q < t.span.query_end; ++q)
                         for (int64_t k = t.span.key_begin; k < t.span.key_end; ++k)
                           t.values.push_back(k <= q ? float(1.0 / double(q + 1 - k)) / float(w) : std::nanf(""));
                       tiles.push_back(std::move(t));
                     }
                     canvas.addTiles(layer, head, std::move(tiles));
                   });
}

}  // namespace attnscope::views::testing
