// The GPU mask evaluation's results made on the host from the masked-recall kernel's
// downloads (head_evaluations): means from the per-head sums, density from the set's own
// counts over the evaluated rows, worst rows by error (ties: lower row) among the evaluated
// rows only. Host code: runs without a device.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/cuda/mask_evaluation_results.h"
#include "kernels/cuda/mask_metrics.h"

namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;

namespace {

// Rows [0, 100): row r keeps keys [0, 4) and its own; a 40-row window from position 30.
k::KeptKeys sink_set() {
  k::KeptKeysBuilder b(0, 100, 0);
  for (int64_t r = 0; r < 100; ++r) b.keep(r, 0, 4), b.keep(r, r, r + 1);
  return b.finish();
}

k::KeptKeys window_set() {
  k::KeptKeysBuilder b(30, 100, 0);
  for (int64_t r = 0; r < 100; ++r) b.keep(r, 30 + r - 39, 30 + r + 1);
  return b.finish();
}

}  // namespace

TEST_CASE("Head results take their means from the sums and their density from the set", "[sparse]") {
  const k::KeptKeys a = sink_set();
  const cuda::HeadKeptKeys sets[] = {{3, &a}};
  const int64_t first[] = {60};
  double sums[cuda::kMaskSums] = {};
  sums[cuda::kRecallSum] = 30.0;  // 40 rows evaluated
  sums[cuda::kMinRecall] = 0.25;
  sums[cuda::kDiff2] = 4.0;
  sums[cuda::kFull2] = 16.0;
  sums[cuda::kCosineSum] = 36.0;
  const auto e = cuda::head_evaluations(sets, first, 100, sums, nullptr, nullptr, 0);
  REQUIRE(e.size() == 1);
  CHECK(e[0].head == 3);
  CHECK(e[0].first_row == 60);
  CHECK(e[0].rows == 40);
  CHECK(e[0].kept_entries == 40 * 5);  // keys 0-3 and the own key of rows 60-99: exact
  CHECK(e[0].visible_entries == (61 + 100) * 40 / 2);
  CHECK(e[0].density == Approx(200.0 / 3220.0).epsilon(1e-15));
  CHECK(e[0].recall == Approx(0.75).epsilon(1e-15));
  CHECK(e[0].min_recall == 0.25);  // copied
  CHECK(e[0].output_rel_l2 == Approx(0.5).epsilon(1e-15));
  CHECK(e[0].output_cosine == Approx(0.9).epsilon(1e-15));
  CHECK(e[0].worst_rows.empty());  // none asked: the row arrays are not read
}

TEST_CASE("Worst rows are the largest errors among a head's evaluated rows, ties to the lower row", "[sparse]") {
  const k::KeptKeys a = sink_set(), b = window_set();
  const cuda::HeadKeptKeys sets[] = {{0, &a}, {5, &b}};
  const int64_t n = 100, first[] = {50, 0};
  std::vector<double> sums(2 * cuda::kMaskSums, 1.0);
  std::vector<float> recall(2 * n), error(2 * n);
  for (int64_t r = 0; r < n; ++r) {
    recall[std::size_t(r)] = float(r) / 100, error[std::size_t(r)] = float(r % 10) / 8;  // head 0
    recall[std::size_t(n + r)] = 0.5f, error[std::size_t(n + r)] = r == 7 ? 3.0f : 0.0f;  // head 5
  }
  error[10] = 99.0f;  // before head 0's first row: not evaluated
  const auto e = cuda::head_evaluations(sets, first, n, sums.data(), recall.data(), error.data(), 3);
  REQUIRE(e.size() == 2);
  // Head 0: error 9/8 at rows 59, 69, 79, 89, 99; the three lowest rows win the tie.
  REQUIRE(e[0].worst_rows.size() == 3);
  CHECK(e[0].worst_rows[0].row == 59);
  CHECK(e[0].worst_rows[1].row == 69);
  CHECK(e[0].worst_rows[2].row == 79);
  CHECK(e[0].worst_rows[0].output_rel_l2 == 1.125);  // exact in float and double
  CHECK(e[0].worst_rows[0].recall == Approx(0.59).epsilon(1e-6));  // float storage
  // Head 5: row 7 alone has an error, then rows 0 and 1 of the zeros.
  REQUIRE(e[1].worst_rows.size() == 3);
  CHECK(e[1].head == 5);
  CHECK(e[1].worst_rows[0].row == 7);
  CHECK(e[1].worst_rows[0].output_rel_l2 == 3.0);
  CHECK(e[1].worst_rows[1].row == 0);
  CHECK(e[1].worst_rows[2].row == 1);
}

TEST_CASE("A head with no evaluated rows has zero means and no worst rows", "[sparse]") {
  const k::KeptKeys a = sink_set();
  const cuda::HeadKeptKeys sets[] = {{1, &a}};
  const int64_t first[] = {100};
  const std::vector<double> sums(cuda::kMaskSums, 7.0);
  const std::vector<float> rows(100, 1.0f);
  const auto e = cuda::head_evaluations(sets, first, 100, sums.data(), rows.data(), rows.data(), 5);
  REQUIRE(e.size() == 1);
  CHECK(e[0].rows == 0);
  CHECK(e[0].kept_entries == 0);
  CHECK(e[0].density == 0.0);
  CHECK(e[0].recall == 0.0);
  CHECK(e[0].worst_rows.empty());
}
