// Rows ranked by probability (sorted_rows.h): a ranked row lists its keys as a stable
// comparison sort does (ties: lower key), its counts for a mass or a threshold are those of
// the sequential walk over that order, and the row-wise families at a density find the same
// knob and set from a head's kept ranking as from a scan of the scores.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "analysis/masks/head_attention.h"
#include "analysis/masks/mask_builder.h"
#include "analysis/masks/sorted_rows.h"
#include "tests/unit/masks/mask_reference.h"

namespace am = attnscope::masks;
namespace mr = attnscope::testing::masks;

namespace {

// A row of `count` keys from `first_key` with probabilities drawn from a few values (many
// ties, zeros among them) or spread out, and its reference order.
struct Row {
  int64_t first_key = 0;
  std::vector<float> p;
  std::vector<int32_t> order;  // keys, heaviest first, ties to the lower key
  std::vector<uint64_t> entries, scratch;
  std::vector<double> sums;

  Row(int64_t count, int64_t first, bool ties, uint32_t seed) : first_key(first), p(std::size_t(count)) {
    std::mt19937 rng(seed);
    const float values[] = {0.0f, 1e-6f, 0.001f, 0.002f, 0.03f, 0.25f};
    std::uniform_int_distribution<int> pick(0, 5);
    std::exponential_distribution<float> spread(3.0f);
    float total = 0;
    for (float& x : p) total += (x = ties ? values[pick(rng)] : spread(rng) * spread(rng));
    if (!ties)
      for (float& x : p) x /= total;
    std::vector<int32_t> index(static_cast<std::size_t>(count));
    std::iota(index.begin(), index.end(), 0);
    std::stable_sort(index.begin(), index.end(), [&](int32_t a, int32_t b) { return p[std::size_t(a)] > p[std::size_t(b)]; });
    for (const int32_t i : index) order.push_back(int32_t(first_key + i));
    for (int64_t j = 0; j < count; ++j) entries.push_back(am::RankedRow::entry(p[std::size_t(j)], int32_t(first_key + j)));
    scratch.resize(entries.size());
    sums.resize(std::size_t(count / am::RankedRow::kSumStride + 1));
    am::RankedRow::rank(entries.data(), count, scratch.data(), sums.data());
  }
  am::RankedRow ranked() const { return am::RankedRow(entries.data(), int64_t(p.size()), sums.data()); }
  float p_of(int32_t key) const { return p[std::size_t(key - first_key)]; }

  // The sequential walks the builders' rules were written as.
  int64_t walk_mass(double mass) const {
    double sum = 0;
    for (std::size_t j = 0; j < order.size(); ++j)
      if ((sum += double(p_of(order[j]))) >= mass) return int64_t(j + 1);
    return int64_t(order.size());
  }
  int64_t walk_threshold(double t) const {
    int64_t n = 0;
    while (n < int64_t(order.size()) && double(p_of(order[std::size_t(n)])) >= t) ++n;
    return n;
  }
  double partial_sum(int64_t n) const {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += double(p_of(order[std::size_t(j)]));
    return sum;
  }
};

}  // namespace

TEST_CASE("A ranked row lists its keys as a stable comparison sort does", "[masks]") {
  for (const bool ties : {true, false})
    for (const int64_t count : {1, 15, 1000, 5000}) {
      INFO((ties ? "few values, many ties" : "spread values") << ", " << count << " keys");
      const Row row(count, 300, ties, uint32_t(count));
      const am::RankedRow ranked = row.ranked();
      REQUIRE(ranked.count() == count);
      for (int64_t i = 0; i < count; ++i) {
        REQUIRE(ranked.key(i) == row.order[std::size_t(i)]);
        REQUIRE(ranked.probability(i) == row.p_of(row.order[std::size_t(i)]));  // the same float
      }
    }
}

TEST_CASE("A ranked row's count for a mass is the sequential walk's", "[masks]") {
  for (const bool ties : {true, false}) {
    INFO((ties ? "few values, many ties" : "spread values"));
    const Row row(777, 0, ties, 9);
    std::vector<double> masses = {1e-9, 0.5, 0.9, 0.99, 1.0, 1.5};
    // Exactly the running sum at and beside the stored sums (every 16 keys) and elsewhere.
    for (const int64_t n : {1, 15, 16, 17, 32, 100, 500, 776, 777}) masses.push_back(row.partial_sum(n));
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> any(0.0, 1.05);
    for (int i = 0; i < 40; ++i) masses.push_back(any(rng));
    for (const double m : masses) {
      INFO("mass " << m);
      CHECK(row.ranked().keys_for_mass(m) == row.walk_mass(m));  // exact: counts
    }
  }
}

TEST_CASE("A ranked row's count at a threshold counts the keys at or above it", "[masks]") {
  const Row row(500, 40, true, 4);
  for (const double t : {1.0, 0.25, 0.03, 0.0299, 0.002, double(0.001f), 1e-6, 1e-9, 0.0}) {
    INFO("threshold " << t);
    CHECK(row.ranked().keys_at_least(t) == row.walk_threshold(t));
  }
  CHECK(row.walk_threshold(0.0) == 500);  // every key, zeros too
}

TEST_CASE("Row families at a density find the scan's knob and set from the kept ranking", "[masks]") {
  const mr::RefHead h = mr::random_head(150, 20, 0, 8, 21);
  const am::HeadAttention kept_ranking(h.inputs());
  REQUIRE(kept_ranking.sorted_rows() != nullptr);
  const am::HeadAttention scanned(h.inputs());
  REQUIRE(scanned.sorted_rows(10) == nullptr);  // over the bound: the builders scan every time
  for (const am::MaskFamily family : {am::MaskFamily(am::TopPMask{}), am::MaskFamily(am::ThresholdMask{}),
                                      am::MaskFamily(am::TopKMask{})})
    for (const double d : {0.02, 0.15, 0.5, 0.97, 1.0}) {
      INFO(am::method_name(family) << " at density " << d);
      const am::BuiltMask a = am::build_mask(kept_ranking, {family, d});
      const am::BuiltMask b = am::build_mask(scanned, {family, d});
      CHECK(a.used == b.used);  // the same knob, to the last bit
      CHECK(a.kept == b.kept);
      CHECK(a.density == b.density);
    }
}
