// accumulate_attention_row against the plain double reference (capture_reference.h) on
// random probability rows, plus hand-made rows for ties, one-hot rows, sliding windows,
// the exact-probability limit and bad arguments.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "kernels/attention_capture.h"
#include "kernels/error.h"
#include "tests/unit/capture/capture_reference.h"

using namespace attnscope::testing;
namespace k = attnscope::kernels;

namespace {

// Both sides see the same float probabilities and sum them in double, so they differ
// only by summation order (n * 2^-53 relative) and the capture's logarithm (4e-14
// relative); subnormal p enter its entropy as p ln FLT_MIN, off by < 1e-36 absolute.
// row_entropy is stored as float: one rounding, 2^-24 relative.
constexpr Tolerance kSameRows{1e-12, 1e-30, 1.2e-7, 1e-30, 0.0, 0.0};

k::CaptureOptions options(int64_t sinks, int64_t window, int64_t block, int64_t exact_limit) {
  k::CaptureOptions o;
  o.sink_tokens = sinks;
  o.local_window = window;
  o.pool_block = block;
  o.exact_probabilities = exact_limit > 0;
  o.exact_limit = exact_limit;
  return o;
}

// Rows at positions 0..n-1 (keys (q - sliding_window, q] when sliding_window > 0),
// logits ~ N(0, spread^2).
std::vector<ReferenceRow> random_rows(int64_t n, int64_t sliding_window, double spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ReferenceRow> rows;
  for (int64_t q = 0; q < n; ++q) {
    const int64_t first = sliding_window > 0 ? std::max<int64_t>(0, q - sliding_window + 1) : 0;
    rows.push_back({q, first, random_probabilities(rng, q - first + 1, spread)});
  }
  return rows;
}

std::string accumulate_and_compare(const std::vector<ReferenceRow>& rows, const k::CaptureOptions& o) {
  k::HeadAccumulator acc;
  accumulate_rows(acc, o, rows);
  const auto float_rows = as_float_rows(rows);
  return mismatches(acc, reference_statistics(float_rows, o), float_rows, kSameRows);
}

}  // namespace

TEST_CASE("every statistic of a row matches the plain reference", "[capture][row]") {
  struct Setup {
    int64_t sinks, local_window, block, exact_limit;
  };
  // Blocks of 1, 5 (does not divide 61), 16 and 64 (longer than the run); exact limits
  // inside the run, beyond it, and off.
  const Setup s = GENERATE(Setup{4, 8, 1, 10}, Setup{4, 8, 5, 100}, Setup{1, 3, 16, 0}, Setup{0, 1, 64, 61},
                           Setup{7, 20, 16, 30});
  const double spread = GENERATE(0.5, 3.0, 30.0);  // flat rows to rows with underflowing keys
  const int64_t sliding_window = GENERATE(int64_t(0), int64_t(1), int64_t(9));
  INFO("sinks " << s.sinks << ", local " << s.local_window << ", block " << s.block << ", exact limit "
                << s.exact_limit << ", spread " << spread << ", sliding window " << sliding_window);
  const auto rows = random_rows(61, sliding_window, spread, 5);
  const std::string diff = accumulate_and_compare(rows, options(s.sinks, s.local_window, s.block, s.exact_limit));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("rows longer than the accumulator's internal chunks match the reference", "[capture][row]") {
  // The entropy works through 256-key chunks and every sum through 16 lanes: rows of up
  // to 700 keys cross several chunks with remainders.
  const int64_t sliding_window = GENERATE(int64_t(0), int64_t(300));
  INFO("sliding window " << sliding_window);
  const std::string diff = accumulate_and_compare(random_rows(700, sliding_window, 4.0, 13), options(4, 64, 64, 270));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("a row that gives one key everything has zero entropy and that key as top-1", "[capture][row]") {
  const auto o = options(2, 2, 4, 0);
  k::HeadAccumulator acc;
  const std::vector<float> one_hot = {0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
  k::accumulate_attention_row(acc, o, 4, one_hot.data(), 0);
  CHECK(acc.row_entropy[0] == 0.0f);
  CHECK(acc.entropy_sum == 0.0);
  CHECK(acc.top1[0] == 2);
  CHECK(acc.sink_mass_sum == 0.0);   // keys 0, 1
  CHECK(acc.local_mass_sum == 0.0);  // keys 3, 4
  CHECK(acc.column_sums == std::vector<double>{0, 0, 1, 0, 0});
  CHECK(acc.diagonal_sums == std::vector<double>{0, 0, 1, 0, 0});
}

TEST_CASE("ties for the top-1 key go to the lowest key position", "[capture][row]") {
  const auto o = options(1, 1, 8, 0);
  k::HeadAccumulator acc;
  const std::vector<float> uniform(6, 1.0f / 6);
  k::accumulate_attention_row(acc, o, 5, uniform.data(), 0);
  const std::vector<float> two_peaks = {0.1f, 0.1f, 0.3f, 0.1f, 0.1f, 0.3f};
  k::accumulate_attention_row(acc, o, 5, two_peaks.data(), 0);
  // Under a sliding window the index is a key position, not an offset into the row.
  const std::vector<float> window_tie = {0.2f, 0.4f, 0.4f};
  k::accumulate_attention_row(acc, o, 9, window_tie.data(), 7);
  // One ulp more wins even when it comes later: ties are exact equality only.
  const std::vector<float> near_tie = {0.5f, std::nextafter(0.5f, 1.0f), 0.0f};
  k::accumulate_attention_row(acc, o, 2, near_tie.data(), 0);
  CHECK(acc.top1 == std::vector<int64_t>{0, 2, 8, 1});
}

TEST_CASE("exact probabilities are kept for positions below the limit and none beyond", "[capture][row]") {
  const auto rows = random_rows(9, 0, 1.0, 3);
  SECTION("limit inside the run") {
    k::HeadAccumulator acc;
    accumulate_rows(acc, options(1, 1, 4, 5), rows);
    CHECK(acc.exact_rows == 5);
    REQUIRE(acc.exact.size() == 15);  // rows 0..4 packed: 1 + 2 + 3 + 4 + 5
    for (int64_t q = 0; q < 5; ++q)
      for (int64_t key = 0; key <= q; ++key)
        CHECK(acc.exact[size_t(q * (q + 1) / 2 + key)] == float(rows[size_t(q)].p(key)));
  }
  SECTION("not asked for") {
    k::HeadAccumulator acc;
    auto o = options(1, 1, 4, 5);
    o.exact_probabilities = false;
    accumulate_rows(acc, o, rows);
    CHECK(acc.exact_rows == 0);
    CHECK(acc.exact.empty());
  }
  SECTION("limit 0") {
    k::HeadAccumulator acc;
    auto o = options(1, 1, 4, 0);
    o.exact_probabilities = true;
    accumulate_rows(acc, o, rows);
    CHECK(acc.exact_rows == 0);
    CHECK(acc.exact.empty());
  }
}

TEST_CASE("under a sliding window the keys before the window count as zero", "[capture][row]") {
  const auto o = options(2, 2, 4, 100);
  k::HeadAccumulator acc;
  // Row 6 sees keys 4..6 only.
  const std::vector<float> row = {0.25f, 0.25f, 0.5f};
  k::accumulate_attention_row(acc, o, 6, row.data(), 4);
  CHECK(acc.sink_rows == 1);           // the row counts in the sink mean...
  CHECK(acc.sink_mass_sum == 0.0);     // ...with nothing on keys 0, 1
  CHECK(acc.local_mass_sum == 0.75);   // keys 5, 6
  CHECK(acc.column_sums == std::vector<double>{0, 0, 0, 0, 0.25, 0.25, 0.5});
  CHECK(acc.diagonal_sums == std::vector<double>{0.5, 0.25, 0.25});
  CHECK(acc.pooled.sums[1] == std::vector<double>{0.0, 1.0});
  const std::vector<float> exact_row6(acc.exact.begin() + 21, acc.exact.end());
  CHECK(exact_row6 == std::vector<float>{0, 0, 0, 0, 0.25f, 0.25f, 0.5f});
}

TEST_CASE("rows shorter than the sink count or the local window stay out of those means", "[capture][row]") {
  const auto o = options(3, 2, 4, 0);
  k::HeadAccumulator acc;
  const std::vector<float> row0 = {1.0f}, row1 = {0.5f, 0.5f}, row2 = {0.5f, 0.25f, 0.25f},
                           row3 = {0.25f, 0.25f, 0.25f, 0.25f};
  k::accumulate_attention_row(acc, o, 0, row0.data(), 0);
  k::accumulate_attention_row(acc, o, 1, row1.data(), 0);
  k::accumulate_attention_row(acc, o, 2, row2.data(), 0);
  k::accumulate_attention_row(acc, o, 3, row3.data(), 0);
  CHECK(acc.sink_rows == 1);  // only row 3 has a key past the 3 sinks
  CHECK(acc.sink_mass_sum == 0.75);
  CHECK(acc.local_rows == 2);  // rows 2 and 3 have keys before the 2-key window
  CHECK(acc.local_mass_sum == 0.5 + 0.5);
}

TEST_CASE("the pooled map counts the rows of each block when the block does not divide the run", "[capture][row]") {
  const auto o = options(1, 1, 3, 0);
  k::HeadAccumulator acc;
  accumulate_rows(acc, o, random_rows(7, 0, 2.0, 17));
  CHECK(acc.pooled.block == 3);
  CHECK(acc.pooled.rows_in_block == std::vector<int64_t>{3, 3, 1});
  REQUIRE(acc.pooled.sums.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(acc.pooled.sums[i].size() == i + 1);  // nothing above the diagonal
    double mass = 0;
    for (double v : acc.pooled.sums[i]) mass += v;
    // Each row's float probabilities sum to 1 within a few float roundings.
    CHECK(mass / double(acc.pooled.rows_in_block[i]) == Approx(1.0).margin(1e-6));
  }
}

TEST_CASE("a row outside [0, position] or a block size below 1 is refused", "[capture][row]") {
  const std::vector<float> row = {0.5f, 0.5f};
  k::HeadAccumulator acc;
  CHECK_THROWS_AS(k::accumulate_attention_row(acc, options(1, 1, 4, 0), 1, row.data(), -1), attnscope::Error);
  CHECK_THROWS_AS(k::accumulate_attention_row(acc, options(1, 1, 4, 0), 1, row.data(), 2), attnscope::Error);
  CHECK_THROWS_AS(k::accumulate_attention_row(acc, options(1, 1, 0, 0), 1, row.data(), 0), attnscope::Error);
  CHECK(acc.rows == 0);  // nothing recorded by a refused row
}
