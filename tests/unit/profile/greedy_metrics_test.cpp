// The greedy metrics' fast paths (density by key buckets, the block-sparse and
// vertical-slash candidates without full sorts or a full queue, the span by prefix sums)
// against plain references, written the way those metrics were first written, on random
// heads with ties, zeros and sliding windows: the same values, exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <random>

#include "analysis/profile/attention_density.h"
#include "analysis/profile/pattern_class.h"
#include "analysis/profile/recall_span.h"

using namespace attnscope;

namespace {

// A mass: often one of a few repeated values (ties), sometimes 0, else spread over
// several octaves.
double random_mass(std::mt19937_64& rng, double scale) {
  std::uniform_real_distribution<double> u(0, 1);
  const double pick = u(rng);
  if (pick < 0.1) return 0;
  if (pick < 0.4) return scale * double(1 + rng() % 4) / 8;
  return scale * std::pow(2.0, -8 * u(rng));
}

// Statistics of `rows` rows as the greedy metrics read them (they need not add up):
// column and diagonal sums and a pooled map of `block` tokens, no exact rows.
kernels::HeadAccumulator random_head(int64_t rows, int64_t block, int64_t window, uint64_t seed) {
  std::mt19937_64 rng(seed);
  kernels::HeadAccumulator head;
  head.rows = rows;
  for (int64_t k = 0; k < rows; ++k) head.column_sums.push_back(random_mass(rng, k < 4 ? double(rows) / 4 : 2.0));
  for (int64_t d = 0; d < (window > 0 ? std::min(window, rows) : rows); ++d)
    head.diagonal_sums.push_back(random_mass(rng, d < 8 ? double(rows) / 8 : 2.0));
  head.pooled.block = block;
  for (int64_t i = 0; i * block < rows; ++i) {
    head.pooled.sums.emplace_back();
    for (int64_t j = 0; j <= i; ++j) head.pooled.sums.back().push_back(random_mass(rng, double(block)));
    head.pooled.rows_in_block.push_back(std::min(rows, (i + 1) * block) - i * block);
  }
  return head;
}

// The same with exact rows: every row's probabilities (random, with ties and zeros).
kernels::HeadAccumulator random_exact_head(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  kernels::HeadAccumulator head = random_head(rows, 16, 0, seed);
  for (int64_t q = 0; q < rows; ++q)
    for (int64_t k = 0; k <= q; ++k) head.exact.push_back(float(random_mass(rng, 1.0 / double(q + 1))));
  head.exact_rows = rows;
  return head;
}

// Lines whose mass is a large share of their length: crossings leave them worth taking,
// so many are taken and the budget, not their mass, ends the greedy.
kernels::HeadAccumulator heavy_lines_head(int64_t rows, int64_t window, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 1);
  kernels::HeadAccumulator head = random_head(rows, 16, window, seed);
  const profile::AttentionGeometry g{rows, window};
  for (int64_t k = 0; k < rows; ++k) head.column_sums[size_t(k)] = double(g.column_length(k)) * u(rng);
  for (size_t d = 0; d < head.diagonal_sums.size(); ++d) head.diagonal_sums[d] = double(g.diagonal_length(int64_t(d))) * u(rng);
  return head;
}

// Densities: pieces (exact entries or pooled blocks with visible entries) sorted
// heaviest first, stable; the shortest prefix reaching target x total (less 1e-12).
std::vector<double> reference_density(const kernels::HeadAccumulator& head, const profile::AttentionGeometry& g,
                                      const std::vector<double>& targets) {
  std::vector<std::pair<double, int64_t>> pieces;
  double total = 0;
  if (head.exact_rows == g.rows) {
    for (int64_t q = 0; q < g.rows; ++q)
      for (int64_t k = g.first_key(q); k <= q; ++k) {
        pieces.push_back({double(head.exact[size_t(q * (q + 1) / 2 + k)]), 1});
        total += pieces.back().first;
      }
  } else {
    for (int64_t i = 0; i < int64_t(head.pooled.sums.size()); ++i)
      for (int64_t j = 0; j <= i; ++j) {
        const int64_t entries = g.block_entries(head.pooled.block, i, j);
        if (entries == 0) continue;
        pieces.push_back({head.pooled.sums[size_t(i)][size_t(j)], entries});
        total += pieces.back().first;
      }
  }
  std::stable_sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<double> out;
  for (double target : targets) {
    const double need = target * total * (1 - 1e-12);
    double mass = 0;
    int64_t entries = 0;
    for (const auto& p : pieces) {
      if (mass >= need) break;
      mass += p.first;
      entries += p.second;
    }
    out.push_back(double(entries) / double(g.entries()));
  }
  return out;
}

// Block-sparse candidate: every block with mass sorted by mass per entry (then mass,
// then position), taken in that order while it fits the budget.
profile::BlockMask reference_block_sparse(const kernels::HeadAccumulator& head, const profile::AttentionGeometry& g,
                                          int64_t budget) {
  struct Block {
    double density, mass;
    int64_t entries, i, j;
  };
  std::vector<Block> blocks;
  for (int64_t i = 0; i < int64_t(head.pooled.sums.size()); ++i)
    for (int64_t j = 0; j <= i; ++j) {
      const int64_t entries = g.block_entries(head.pooled.block, i, j);
      const double mass = head.pooled.sums[size_t(i)][size_t(j)];
      if (entries > 0 && mass > 0) blocks.push_back({mass / double(entries), mass, entries, i, j});
    }
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    if (a.density != b.density) return a.density > b.density;
    if (a.mass != b.mass) return a.mass > b.mass;
    return a.i != b.i ? a.i < b.i : a.j < b.j;
  });
  profile::BlockMask mask(head.pooled.sums.size());
  int64_t used = 0;
  for (const Block& b : blocks) {
    if (used + b.entries > budget) continue;
    used += b.entries;
    mask[size_t(b.i)].push_back(b.j);
  }
  for (auto& row : mask) std::sort(row.begin(), row.end());
  return mask;
}

// Vertical-slash candidate: lazy greedy over one queue of every line, crossings counted
// by scanning the lines taken.
profile::LineMask reference_vertical_slash(const kernels::HeadAccumulator& head, const profile::AttentionGeometry& g,
                                           int64_t budget) {
  struct Line {
    double score, mass;
    int64_t length;
    bool diagonal;
    int64_t index;
  };
  const auto before = [](const Line& a, const Line& b) {
    if (a.score != b.score) return a.score < b.score;
    if (a.mass != b.mass) return a.mass < b.mass;
    if (a.diagonal != b.diagonal) return !a.diagonal;
    return a.index > b.index;
  };
  std::priority_queue<Line, std::vector<Line>, decltype(before)> queue(before);
  for (int64_t k = 0; k < g.rows; ++k) {
    const double mass = head.column_sums[size_t(k)];
    if (mass > 0 && g.column_length(k) > 0) queue.push({mass / double(g.column_length(k)), mass, g.column_length(k), false, k});
  }
  for (int64_t d = 0; d < g.rows; ++d) {
    const double mass = d < int64_t(head.diagonal_sums.size()) ? head.diagonal_sums[size_t(d)] : 0.0;
    if (mass > 0 && g.diagonal_length(d) > 0)
      queue.push({mass / double(g.diagonal_length(d)), mass, g.diagonal_length(d), true, d});
  }
  profile::LineMask mask;
  int64_t used = 0;
  const auto below = [](const std::vector<int64_t>& taken, int64_t bound) {
    return int64_t(std::count_if(taken.begin(), taken.end(), [&](int64_t x) { return x < bound; }));
  };
  while (!queue.empty() && used < budget) {
    Line line = queue.top();
    queue.pop();
    const int64_t crossings = line.diagonal ? below(mask.columns, g.rows - line.index) : below(mask.diagonals, line.length);
    const int64_t added = line.length - crossings;
    const double sure = line.mass - double(crossings);
    if (added <= 0 || sure <= 0) continue;
    const double score = sure / double(added);
    if (score < line.score) {
      line.score = score;
      queue.push(line);
      continue;
    }
    if (used + added > budget) continue;
    used += added;
    (line.diagonal ? mask.diagonals : mask.columns).push_back(line.index);
  }
  std::sort(mask.columns.begin(), mask.columns.end());
  std::sort(mask.diagonals.begin(), mask.diagonals.end());
  return mask;
}

// Span: bisection on line_mask_recall's lower bound of the sink columns and the first w
// diagonals.
int64_t reference_span(const kernels::HeadAccumulator& head, const profile::AttentionGeometry& g,
                       const profile::RecallSpanOptions& options) {
  profile::LineMask mask;
  mask.columns.resize(size_t(std::min(options.sink_tokens, g.rows)));
  std::iota(mask.columns.begin(), mask.columns.end(), int64_t(0));
  const auto proves = [&](int64_t w) {
    mask.diagonals.resize(size_t(w));
    std::iota(mask.diagonals.begin(), mask.diagonals.end(), int64_t(0));
    return profile::line_mask_recall(head, g, mask).recall.low >= options.target;
  };
  if (proves(0)) return std::min(options.sink_tokens, g.rows);
  int64_t lo = 0, hi = g.rows;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (proves(mid) ? hi : lo) = mid;
  }
  return std::min(options.sink_tokens + hi, g.rows);
}

struct Shape {
  int64_t rows, block, window;
};
const std::vector<Shape> kShapes{{61, 8, 0}, {200, 16, 0}, {333, 16, 0}, {512, 32, 0}, {300, 16, 64}, {450, 32, 100}};

}  // namespace

TEST_CASE("block densities by key buckets equal a stable sort of every pooled block", "[profile][density][greedy]") {
  const std::vector<double> targets{0.9, 0.95, 0.99, 0.5, 1.0};
  for (const Shape& s : kShapes)
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const auto head = random_head(s.rows, s.block, s.window, seed);
      const profile::AttentionGeometry g{s.rows, s.window};
      INFO("rows " << s.rows << " window " << s.window << " seed " << seed);
      CHECK(profile::attention_density(head, g, targets).density == reference_density(head, g, targets));  // exactly
    }
}

TEST_CASE("block densities at targets whose need falls on a running sum equal a stable sort", "[profile][density][greedy]") {
  // There the bucket walk's own rounding cannot tell where the walk ends, and the stable
  // sort must decide (each target is also tried one ulp either side).
  for (const Shape& s : kShapes)
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      const auto head = random_head(s.rows, s.block, s.window, seed);
      const profile::AttentionGeometry g{s.rows, s.window};
      std::vector<double> masses;
      double total = 0;
      for (int64_t i = 0; i < int64_t(head.pooled.sums.size()); ++i)
        for (int64_t j = 0; j <= i; ++j)
          if (g.block_entries(head.pooled.block, i, j) > 0) {
            masses.push_back(head.pooled.sums[size_t(i)][size_t(j)]);
            total += masses.back();
          }
      std::sort(masses.begin(), masses.end(), std::greater<>());
      std::vector<double> targets;
      double running = 0;
      for (size_t n = 0; n < masses.size(); ++n) {
        running += masses[n];
        if (n % 7 != 3) continue;
        const double target = running / (total * (1 - 1e-12));
        for (double t : {std::nextafter(target, 0.0), target, std::nextafter(target, 2.0)})
          if (t > 0 && t <= 1) targets.push_back(t);
      }
      INFO("rows " << s.rows << " window " << s.window << " seed " << seed);
      CHECK(profile::attention_density(head, g, targets).density == reference_density(head, g, targets));  // exactly
    }
}

TEST_CASE("token densities by key buckets equal a stable sort of every exact probability", "[profile][density][greedy]") {
  const std::vector<double> targets{0.9, 0.95, 0.99};
  for (int64_t rows : {40, 150, 300})
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      const auto head = random_exact_head(rows, seed);
      const profile::AttentionGeometry g{rows, 0};
      INFO("rows " << rows << " seed " << seed);
      CHECK(profile::attention_density(head, g, targets).density == reference_density(head, g, targets));  // exactly
    }
}

TEST_CASE("the block-sparse candidate by key buckets equals a full sort taken greedily", "[profile][pattern][greedy]") {
  for (const Shape& s : kShapes)
    for (uint64_t seed = 1; seed <= 20; ++seed)
      for (double share : {0.01, 0.05, 0.125, 0.3, 0.9}) {
        const auto head = random_head(s.rows, s.block, s.window, seed);
        const profile::AttentionGeometry g{s.rows, s.window};
        const auto budget = int64_t(share * double(g.entries()));
        INFO("rows " << s.rows << " window " << s.window << " seed " << seed << " budget " << budget);
        CHECK(profile::block_sparse_blocks(head, g, budget) == reference_block_sparse(head, g, budget));  // exactly
      }
}

TEST_CASE("the vertical-slash candidate with pruning equals the lazy greedy over every line", "[profile][pattern][greedy]") {
  for (const Shape& s : kShapes)
    for (uint64_t seed = 1; seed <= 40; ++seed)
      for (double share : {0.002, 0.01, 0.05, 0.125, 0.5}) {
        const auto head = seed <= 20 ? random_head(s.rows, s.block, s.window, seed) : heavy_lines_head(s.rows, s.window, seed);
        const profile::AttentionGeometry g{s.rows, s.window};
        const auto budget = int64_t(share * double(g.entries()));
        INFO("rows " << s.rows << " window " << s.window << " seed " << seed << " budget " << budget);
        const auto fast = profile::vertical_slash_lines(head, g, budget);
        const auto plain = reference_vertical_slash(head, g, budget);
        CHECK(fast.columns == plain.columns);  // exactly
        CHECK(fast.diagonals == plain.diagonals);
      }
}

TEST_CASE("the span by prefix sums equals a bisection on the line-mask bound", "[profile][span][greedy]") {
  for (const Shape& s : kShapes)
    for (uint64_t seed = 1; seed <= 20; ++seed)
      for (const profile::RecallSpanOptions options :
           {profile::RecallSpanOptions{}, profile::RecallSpanOptions{4, 0.5}, profile::RecallSpanOptions{0, 0.99}}) {
        auto head = random_head(s.rows, s.block, s.window, seed);
        // Rows that add up to about one each, so that targets fall inside the search.
        const double columns = std::accumulate(head.column_sums.begin(), head.column_sums.end(), 0.0);
        const double diagonals = std::accumulate(head.diagonal_sums.begin(), head.diagonal_sums.end(), 0.0);
        for (double& x : head.column_sums) x *= double(s.rows) / columns;
        for (double& x : head.diagonal_sums) x *= double(s.rows) / diagonals;
        const profile::AttentionGeometry g{s.rows, s.window};
        INFO("rows " << s.rows << " window " << s.window << " seed " << seed << " sink " << options.sink_tokens);
        CHECK(profile::recall_span(head, g, options) == reference_span(head, g, options));  // exactly
      }
}

TEST_CASE("block entries equal a count of the visible pairs of each block", "[profile][greedy]") {
  for (const Shape& s : kShapes) {
    const profile::AttentionGeometry g{s.rows, s.window};
    for (int64_t i = 0; i * s.block < s.rows; ++i)
      for (int64_t j = 0; j <= i + 1; ++j) {
        int64_t visible = 0;
        for (int64_t q = i * s.block; q < (i + 1) * s.block; ++q)
          for (int64_t k = j * s.block; k < (j + 1) * s.block; ++k) visible += g.visible(q, k) ? 1 : 0;
        CHECK(g.block_entries(s.block, i, j) == visible);  // exactly
      }
  }
}
