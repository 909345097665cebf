#include "analysis/profile/attention_density.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "analysis/profile/key_buckets.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

struct Piece {
  double mass;
  int64_t entries;
};

// The pieces of the head in their listed order: its exact entries row by row, or its
// pooled blocks row by row (those with visible entries). f(mass, entries).
template <typename F>
void for_each_piece(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry, bool exact, F f) {
  if (exact) {
    for (int64_t q = 0; q < geometry.rows; ++q) {
      const auto row = exact_row(head, q);
      for (int64_t k = geometry.first_key(q); k <= q; ++k) f(double(row[size_t(k)]), int64_t(1));
    }
    return;
  }
  for (size_t i = 0; i < head.pooled.sums.size(); ++i)
    for (size_t j = 0; j < head.pooled.sums[i].size(); ++j) {
      const int64_t entries = geometry.block_entries(head.pooled.block, int64_t(i), int64_t(j));
      if (entries > 0) f(head.pooled.sums[i][j], entries);
    }
}

// The definition: pieces heaviest first (equal masses in their listed order); for each
// need, the entries of the shortest prefix whose mass, added in that order, reaches it.
std::vector<int64_t> entries_by_sorting(std::vector<Piece> pieces, std::span<const double> needs) {
  std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.mass > b.mass; });
  std::vector<int64_t> out;
  for (double need : needs) {
    double mass = 0;
    int64_t entries = 0;
    for (const Piece& p : pieces) {
      if (mass >= need) break;
      mass += p.mass;
      entries += p.entries;
    }
    out.push_back(entries);
  }
  return out;
}

// Where the walk for one need ends, found without sorting every piece: whole buckets of
// pieces by mass (key_buckets.h), heaviest first, until the one where the running mass
// reaches the need; then only that bucket's pieces, sorted.
struct BucketWalk {
  bool found = false;        // false: the bucket sums never reach the need
  uint32_t bucket = 0;
  double mass = 0;           // of the whole buckets before it
  double entries = 0;
  std::vector<Piece> inside;  // its pieces, in their listed order
};

// The walk's answer from its last bucket: the pieces' masses were added in another order
// than the definition's, so the running mass differs from its by rounding, at most
// 2 gamma(n) of it for n terms (Higham, Accuracy and Stability of Numerical Algorithms,
// 4.2; the masses are not negative). The answer stands where the need lies further than
// that from the mass before and after the last piece; nullopt (sort) where it does not.
std::optional<int64_t> finish_walk(BucketWalk& walk, double need, size_t pieces) {
  if (!walk.found) return std::nullopt;
  std::stable_sort(walk.inside.begin(), walk.inside.end(), [](const Piece& a, const Piece& b) { return a.mass > b.mass; });
  double mass = walk.mass, before = walk.mass;
  auto entries = int64_t(walk.entries);
  for (const Piece& p : walk.inside) {
    if (mass >= need) break;
    before = mass;
    mass += p.mass;
    entries += p.entries;
  }
  const double u = std::numeric_limits<double>::epsilon() / 2, n = 2 * double(pieces);
  const double slack = 4 * n * u / (1 - n * u);
  if (before * (1 + slack) < need && mass * (1 - slack) >= need) return entries;
  return std::nullopt;
}

// For each target, the share of the visible entries in the shortest heaviest-first prefix
// of the pieces that keeps target * total of the mass. The slack absorbs the rounding of
// sums that add up to the row count.
std::vector<double> densities(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry, bool exact,
                              std::span<const double> targets) {
  double total = 0;
  bool negative = false;
  std::vector<uint16_t> bucket_of;  // [piece]: its bucket (they are below 2^15)
  const size_t blocks = head.pooled.sums.size();
  bucket_of.reserve(exact ? size_t(geometry.entries()) : blocks * (blocks + 1) / 2);
  std::vector<KeyBuckets::Bucket> heaviest_first;
  {
    KeyBuckets buckets;
    for_each_piece(head, geometry, exact, [&](double mass, int64_t entries) {
      total += mass;
      negative = negative || !(mass >= 0);
      bucket_of.push_back(uint16_t(KeyBuckets::bucket(mass)));
      buckets.add(mass, mass, double(entries));
    });
    heaviest_first = buckets.descending();
  }
  const size_t pieces = bucket_of.size();
  std::vector<double> needs;
  for (double target : targets) needs.push_back(target * total * (1 - 1e-12));
  std::vector<std::optional<int64_t>> entries(needs.size());
  std::vector<BucketWalk> walks(needs.size());
  for (size_t t = 0; t < needs.size(); ++t) {
    if (negative) continue;  // no bound on the rounding: sort
    if (!(needs[t] > 0)) {
      entries[t] = 0;  // the walk stops before the first piece
      continue;
    }
    BucketWalk& w = walks[t];
    for (const KeyBuckets::Bucket& b : heaviest_first) {
      if (w.mass + b.first >= needs[t]) {
        w.found = true;
        w.bucket = b.index;
        break;
      }
      w.mass += b.first;
      w.entries += b.second;
    }
  }
  if (std::any_of(walks.begin(), walks.end(), [](const BucketWalk& w) { return w.found; })) {
    size_t piece = 0;
    for_each_piece(head, geometry, exact, [&](double mass, int64_t n) {
      const uint32_t b = bucket_of[piece++];
      for (BucketWalk& w : walks)
        if (w.found && w.bucket == b) w.inside.push_back({mass, n});
    });
  }
  for (size_t t = 0; t < needs.size(); ++t)
    if (!entries[t]) entries[t] = finish_walk(walks[t], needs[t], pieces);
  if (std::any_of(entries.begin(), entries.end(), [](const auto& e) { return !e.has_value(); })) {
    std::vector<Piece> all;
    all.reserve(pieces);
    for_each_piece(head, geometry, exact, [&](double mass, int64_t n) { all.push_back({mass, n}); });
    const std::vector<int64_t> sorted = entries_by_sorting(std::move(all), needs);
    for (size_t t = 0; t < needs.size(); ++t)
      if (!entries[t]) entries[t] = sorted[t];
  }
  std::vector<double> out;
  for (const auto& e : entries) out.push_back(double(*e) / double(geometry.entries()));
  return out;
}

}  // namespace

AttentionDensity attention_density(const kernels::HeadAccumulator& head, const AttentionGeometry& geometry,
                                   std::span<const double> targets) {
  for (double t : targets)
    if (!(t > 0 && t <= 1)) throw Error("density", "the recall target " + std::to_string(t) + " is not in (0, 1]");
  if (geometry.rows == 0) throw Error("density", head_name(head) + ": the head has no rows");
  AttentionDensity out;
  out.targets.assign(targets.begin(), targets.end());
  const bool exact = head.exact_rows == geometry.rows;
  out.granularity = exact ? 1 : head.pooled.block;
  out.density = densities(head, geometry, exact, targets);
  return out;
}

}  // namespace attnscope::profile
