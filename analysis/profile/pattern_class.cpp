#include "analysis/profile/pattern_class.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include "analysis/profile/key_buckets.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

// Counts of chosen indices below a bound, as lines are added one by one.
class ChosenIndices {
 public:
  explicit ChosenIndices(int64_t size) : tree_(size_t(size) + 1, 0) {}
  void add(int64_t index) {
    for (size_t i = size_t(index) + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += 1;
  }
  int64_t count_below(int64_t bound) const {
    int64_t n = 0;
    for (size_t i = size_t(std::clamp<int64_t>(bound, 0, int64_t(tree_.size()) - 1)); i > 0; i -= i & (~i + 1))
      n += tree_[i];
    return n;
  }

 private:
  std::vector<int64_t> tree_;
};

double diagonal_sum(const kernels::HeadAccumulator& head, int64_t d) {
  return d < int64_t(head.diagonal_sums.size()) ? head.diagonal_sums[size_t(d)] : 0.0;
}

}  // namespace

std::string pattern_name(PatternClass pattern) {
  switch (pattern) {
    case PatternClass::Local: return "local";
    case PatternClass::AShape: return "a_shape";
    case PatternClass::VerticalSlash: return "vertical_slash";
    case PatternClass::BlockSparse: return "block_sparse";
    case PatternClass::Dense: return "dense";
  }
  return "dense";
}

PatternCandidate local_candidate(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                 int64_t budget_entries) {
  LineMask mask;
  int64_t used = 0;
  for (int64_t w = 0; w < geometry.rows; ++w) {
    const int64_t length = geometry.diagonal_length(w);
    if (length == 0 || used + length > budget_entries) break;
    used += length;
    mask.diagonals.push_back(w);
  }
  const MaskRecall r = line_mask_recall(head, geometry, mask);
  PatternCandidate c;
  c.pattern = PatternClass::Local;
  c.recall = r.recall;
  c.entries = r.entries;
  c.window = int64_t(mask.diagonals.size());
  return c;
}

PatternCandidate a_shape_candidate(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                   int64_t sink_tokens, int64_t budget_entries) {
  // Fewer sinks when the sink columns alone would overrun the budget (very short rows).
  int64_t sinks = std::clamp<int64_t>(sink_tokens, 0, geometry.rows);
  const auto sink_entries = [&](int64_t s) {
    int64_t n = 0;
    for (int64_t k = 0; k < s; ++k) n += geometry.column_length(k);
    return n;
  };
  while (sinks > 0 && sink_entries(sinks) > budget_entries) --sinks;

  // The window is the one (within the budget) whose recall the capture proves best: a
  // wider window adds its diagonals' mass but also crossings with the sink columns whose
  // mass the sums cannot tell apart. This follows line_mask_recall's bounds step by step.
  const int64_t exact = head.exact_rows;
  std::vector<double> column_rest(static_cast<size_t>(sinks), 0.0);  // sink column mass on rows past the exact ones
  std::vector<int64_t> column_crossings(static_cast<size_t>(sinks), 0);
  double columns_mass = 0;
  for (int64_t k = 0; k < sinks; ++k) {
    double exact_mass = 0;
    for (int64_t q = k; q < std::min(exact, k + geometry.column_length(k)); ++q) exact_mass += double(exact_row(head, q)[size_t(k)]);
    column_rest[size_t(k)] = std::max(0.0, head.column_sums[size_t(k)] - exact_mass);
    columns_mass += head.column_sums[size_t(k)];
  }
  double high = columns_mass, diagonals_mass = 0, diagonals_bound = 0, best = columns_mass;
  int64_t used = sink_entries(sinks), window = 0;
  for (int64_t w = 0; w < geometry.rows; ++w) {
    const int64_t length = geometry.diagonal_length(w);
    if (length == 0) break;
    // Sink column k meets diagonal w in row k + w when k + w < rows.
    const int64_t crossings = std::clamp<int64_t>(geometry.rows - w, 0, sinks);
    if (used + length - crossings > budget_entries) break;
    used += length - crossings;
    const double d_mass = diagonal_sum(head, w);
    diagonals_mass += d_mass;
    high += d_mass;
    int64_t crossings_rest = 0;
    for (int64_t k = 0; k < crossings; ++k) {
      if (k + w < exact) {
        high -= double(exact_row(head, k + w)[size_t(k)]);
      } else {
        ++column_crossings[size_t(k)];
        ++crossings_rest;
      }
    }
    double exact_mass = 0;
    for (int64_t q = w; q < exact; ++q) exact_mass += double(exact_row(head, q)[size_t(q - w)]);
    diagonals_bound += std::min(std::max(0.0, d_mass - exact_mass), double(crossings_rest));
    double columns_bound = 0;
    for (int64_t k = 0; k < sinks; ++k) columns_bound += std::min(column_rest[size_t(k)], double(column_crossings[size_t(k)]));
    const double low = std::max({high - std::min(columns_bound, diagonals_bound), columns_mass, diagonals_mass});
    if (low > best) {
      best = low;
      window = w + 1;
    }
  }
  LineMask mask;
  for (int64_t k = 0; k < sinks; ++k) mask.columns.push_back(k);
  for (int64_t w = 0; w < window; ++w) mask.diagonals.push_back(w);
  const MaskRecall r = line_mask_recall(head, geometry, mask);
  PatternCandidate c;
  c.pattern = PatternClass::AShape;
  c.recall = r.recall;
  c.entries = r.entries;
  c.sinks = sinks;
  c.window = window;
  return c;
}

LineMask vertical_slash_lines(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                              int64_t budget_entries) {
  struct Line {
    double score, mass;
    int64_t length;
    bool diagonal;
    int64_t index;
  };
  // Densest first; then heavier, diagonals before columns, lower index: one order for ties.
  const auto before = [](const Line& a, const Line& b) {
    if (a.score != b.score) return a.score < b.score;
    if (a.mass != b.mass) return a.mass < b.mass;
    if (a.diagonal != b.diagonal) return !a.diagonal;
    return a.index > b.index;
  };
  std::vector<Line> queue;  // a heap: the best line at the front
  queue.reserve(2 * size_t(geometry.rows));
  for (int64_t k = 0; k < geometry.rows; ++k) {
    const double mass = head.column_sums[size_t(k)];
    const int64_t length = geometry.column_length(k);
    if (mass > 0 && length > 0) queue.push_back({mass / double(length), mass, length, false, k});
  }
  for (int64_t d = 0; d < geometry.rows; ++d) {
    const double mass = diagonal_sum(head, d);
    const int64_t length = geometry.diagonal_length(d);
    if (mass > 0 && length > 0) queue.push_back({mass / double(length), mass, length, true, d});
  }
  std::make_heap(queue.begin(), queue.end(), before);
  // Lazy greedy on the mass a line surely adds: its mass less one per crossing with a
  // line already taken (a crossing entry holds at most 1), per new entry. Taking lines
  // only lowers the others' scores, so a line whose score is still current when it
  // comes out of the queue is the best one left.
  ChosenIndices columns(geometry.rows), diagonals(geometry.rows);
  LineMask mask;
  int64_t used = 0;
  // Lines that can no longer be taken, dropped all at once (the order of the rest, and so
  // the result, stays): a line whose sure mass or new entries are gone (crossings only
  // grow), which after the first few lines taken is most of them (one sink column crosses
  // every diagonal; a few dozen diagonals cross every column), and, once lines stop
  // fitting, a line too long for what is left: each of the t lines taken before it comes
  // adds an entry or more, so it then meets at most chosen + t lines with left - t entries
  // left, and fits only if length <= chosen + left. Done when the lines found gone one by
  // one reach a sixty-fourth of the queue, and each time the budget left halves.
  int64_t gone = 0, pruned_at = budget_entries;
  std::vector<int64_t> columns_below, diagonals_below;  // [x]: lines taken with index < x
  const auto prune = [&] {
    const int64_t left = budget_entries - used;
    const auto chosen_columns = int64_t(mask.columns.size()), chosen_diagonals = int64_t(mask.diagonals.size());
    const auto count_below = [&](std::vector<int64_t>& below, const std::vector<int64_t>& taken) {
      below.assign(size_t(geometry.rows) + 1, 0);
      for (int64_t i : taken) below[size_t(i) + 1] += 1;
      for (size_t x = 1; x < below.size(); ++x) below[x] += below[x - 1];
    };
    count_below(columns_below, mask.columns);
    count_below(diagonals_below, mask.diagonals);
    std::erase_if(queue, [&](const Line& l) {
      const int64_t crossings =
          l.diagonal ? columns_below[size_t(geometry.rows - l.index)] : diagonals_below[size_t(l.length)];
      return l.length - crossings <= 0 || l.mass - double(crossings) <= 0 ||
             l.length > left + (l.diagonal ? chosen_columns : chosen_diagonals);
    });
    std::make_heap(queue.begin(), queue.end(), before);
    gone = 0;
    pruned_at = left;
  };
  while (!queue.empty() && used < budget_entries) {
    std::pop_heap(queue.begin(), queue.end(), before);
    Line line = queue.back();
    queue.pop_back();
    const int64_t crossings =
        line.diagonal ? columns.count_below(geometry.rows - line.index) : diagonals.count_below(line.length);
    const int64_t added = line.length - crossings;
    const double sure = line.mass - double(crossings);
    if (added <= 0 || sure <= 0) {
      if (++gone >= std::max<int64_t>(64, int64_t(queue.size()) / 64)) prune();
      continue;
    }
    const double score = sure / double(added);
    if (score < line.score) {
      line.score = score;
      queue.push_back(line);
      std::push_heap(queue.begin(), queue.end(), before);
      continue;
    }
    if (used + added > budget_entries) {
      if (2 * (budget_entries - used) < pruned_at) prune();
      continue;
    }
    used += added;
    if (line.diagonal) {
      diagonals.add(line.index);
      mask.diagonals.push_back(line.index);
    } else {
      columns.add(line.index);
      mask.columns.push_back(line.index);
    }
  }
  std::sort(mask.columns.begin(), mask.columns.end());
  std::sort(mask.diagonals.begin(), mask.diagonals.end());
  return mask;
}

BlockMask block_sparse_blocks(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                              int64_t budget_entries) {
  // Blocks with the most attention per entry first, across all query blocks, while the
  // budget lasts: each query block then keeps its own heaviest blocks (top-k per query
  // block, with k chosen per block by the oracle).
  struct Block {
    double density, mass;
    int64_t entries, i, j;
  };
  const auto before = [](const Block& a, const Block& b) {
    if (a.density != b.density) return a.density > b.density;
    if (a.mass != b.mass) return a.mass > b.mass;
    return a.i != b.i ? a.i < b.i : a.j < b.j;
  };
  // In that order the blocks fit until the running count of entries passes the budget:
  // every block of the density buckets (key_buckets.h) above the one where it passes is
  // taken (entries are whole numbers: their order changes nothing), and only that
  // bucket's blocks are sorted. No block is sorted or even stored but those.
  const auto& sums = head.pooled.sums;
  constexpr uint16_t kNone = UINT16_MAX;  // not a candidate (no visible entry or no mass); buckets are below 2^15
  std::vector<uint16_t> bucket_of;        // [cell, row by row]
  bucket_of.reserve(sums.size() * (sums.size() + 1) / 2);
  uint32_t last = 0;  // the bucket where the budget runs out (0 when it never does)
  {
    KeyBuckets buckets;
    for (int64_t i = 0; i < int64_t(sums.size()); ++i)
      for (int64_t j = 0; j <= i; ++j) {
        const int64_t entries = geometry.block_entries(head.pooled.block, i, j);
        const double mass = sums[size_t(i)][size_t(j)];
        if (entries <= 0 || !(mass > 0)) {
          bucket_of.push_back(kNone);
          continue;
        }
        const double density = mass / double(entries);
        bucket_of.push_back(uint16_t(KeyBuckets::bucket(density)));
        buckets.add(density, double(entries), 0);
      }
    double running = 0;
    for (const KeyBuckets::Bucket& b : buckets.descending()) {
      if (running + b.first > double(budget_entries)) {
        last = b.index;
        break;
      }
      running += b.first;
    }
  }
  // The candidates whose bucket passes `select`, row by row: f(i, j, entries).
  const auto for_each_block = [&](auto select, auto f) {
    size_t cell = 0;
    for (int64_t i = 0; i < int64_t(sums.size()); ++i)
      for (int64_t j = 0; j <= i; ++j, ++cell)
        if (bucket_of[cell] != kNone && select(uint32_t(bucket_of[cell])))
          f(i, j, geometry.block_entries(head.pooled.block, i, j));
  };
  const auto block = [&](int64_t i, int64_t j, int64_t entries) {
    const double mass = sums[size_t(i)][size_t(j)];
    return Block{mass / double(entries), mass, entries, i, j};
  };
  BlockMask mask(sums.size());
  int64_t used = 0;
  const auto take = [&](int64_t i, int64_t j, int64_t entries) {
    used += entries;
    mask[size_t(i)].push_back(j);
  };
  for_each_block([&](uint32_t b) { return b > last; }, take);
  std::vector<Block> inside;
  for_each_block([&](uint32_t b) { return b == last; },
                 [&](int64_t i, int64_t j, int64_t entries) { inside.push_back(block(i, j, entries)); });
  std::sort(inside.begin(), inside.end(), before);
  auto next = inside.begin();
  for (; next != inside.end() && used + next->entries <= budget_entries; ++next) take(next->i, next->j, next->entries);
  // Then, still in order, the smaller blocks that fit what is left. The budget left only
  // shrinks, so a block larger than it now is never taken: only the rest that fits now
  // (diagonal and partial blocks) is kept and sorted.
  std::vector<Block> rest;
  std::copy_if(next, inside.end(), std::back_inserter(rest), [&](const Block& b) { return used + b.entries <= budget_entries; });
  for_each_block([&](uint32_t b) { return b < last; }, [&](int64_t i, int64_t j, int64_t entries) {
    if (used + entries <= budget_entries) rest.push_back(block(i, j, entries));
  });
  std::sort(rest.begin(), rest.end(), before);
  for (const Block& b : rest)
    if (used + b.entries <= budget_entries) take(b.i, b.j, b.entries);
  for (auto& row : mask) std::sort(row.begin(), row.end());
  return mask;
}

std::optional<PatternResult> classify_pattern(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                              int64_t sink_tokens, const PatternOptions& options) {
  const std::string where = "pattern";
  if (!(options.budget > 0 && options.budget <= 1))
    throw Error(where, "the budget " + std::to_string(options.budget) + " is not in (0, 1]");
  if (!(options.recall_target > 0 && options.recall_target <= 1))
    throw Error(where, "the recall target " + std::to_string(options.recall_target) + " is not in (0, 1]");
  if (!(options.tie >= 0 && options.tie < 1)) throw Error(where, "the tie margin " + std::to_string(options.tie) + " is not in [0, 1)");
  if (options.min_rows < 0 || sink_tokens < 0) throw Error(where, "the minimum row count and the sink count must not be negative");
  const int64_t min_rows = options.min_rows > 0 ? options.min_rows : 4 * head.pooled.block;
  if (geometry.rows < std::max<int64_t>(min_rows, 1)) return std::nullopt;

  PatternResult result;
  result.budget_entries = int64_t(std::floor(options.budget * double(geometry.entries())));
  result.candidates.push_back(local_candidate(head, geometry, result.budget_entries));
  result.candidates.push_back(a_shape_candidate(head, geometry, sink_tokens, result.budget_entries));

  const LineMask lines = vertical_slash_lines(head, geometry, result.budget_entries);
  const MaskRecall vs = line_mask_recall(head, geometry, lines);
  PatternCandidate vertical;
  vertical.pattern = PatternClass::VerticalSlash;
  vertical.recall = vs.recall;
  vertical.entries = vs.entries;
  vertical.columns = int64_t(lines.columns.size());
  vertical.diagonals = int64_t(lines.diagonals.size());
  result.candidates.push_back(vertical);

  const BlockMask blocks = block_sparse_blocks(head, geometry, result.budget_entries);
  const MaskRecall bs = block_mask_recall(head, geometry, blocks);
  PatternCandidate block;
  block.pattern = PatternClass::BlockSparse;
  block.recall = bs.recall;
  block.entries = bs.entries;
  for (const auto& row : blocks) block.blocks += int64_t(row.size());
  result.candidates.push_back(block);

  // The simplest family (candidates are in that order) that proves the recall target
  // and may be as good as the best recall any family proves (within `tie`). A class is
  // claimed only for recall the capture proves (the lower bound); a family is not
  // passed over for a better one on the looseness of its own bounds (the upper bound).
  double best = 0;
  for (const auto& c : result.candidates) best = std::max(best, c.recall.low);
  result.pattern = PatternClass::Dense;
  for (const auto& c : result.candidates)
    if (c.recall.high >= best - options.tie && c.recall.low >= options.recall_target) {
      result.pattern = c.pattern;
      break;
    }
  return result;
}

}  // namespace attnscope::profile
