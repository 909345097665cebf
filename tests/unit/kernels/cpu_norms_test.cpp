// CPU rms_norm (whole rows and per-head groups, in place, on column views) and
// layer_norm against double references.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/kernels/kernel_test_support.h"

using namespace attnscope::testing;
namespace k = attnscope::kernels;
using Catch::Contains;

TEST_CASE("rms_norm matches a double reference, whole rows and groups", "[cpu][norm]") {
  auto backend = k::make_cpu_backend();
  uint32_t seed = 200;
  for (int64_t rows : {1, 5, 300})
    for (auto [cols, group] : {std::pair<int64_t, int64_t>{768, 768}, {7, 7}, {256, 64}, {96, 16}, {33, 33}})
      for (bool in_place : {false, true}) {
        INFO("rows " << rows << " cols " << cols << " group " << group << " in place " << in_place);
        const float eps = 1e-6f;
        // Offset mean and scale so the statistics are not trivially ~1.
        std::vector<float> xv = random_values(std::size_t(rows * cols), ++seed, 3.0f);
        for (float& x : xv) x += 0.5f;
        const std::vector<float> wv = random_values(std::size_t(group), ++seed);
        // x is a column view (as q inside the fused q|k|v tensor).
        std::vector<float> wide(std::size_t(rows * (cols + 3)), 7.0f);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) wide[std::size_t(r * (cols + 3) + 1 + c)] = xv[std::size_t(r * cols + c)];
        Tensor all = make_tensor(*backend, rows, cols + 3, wide);
        Tensor x = all.column_slice(1, cols);
        const Tensor w = make_tensor(*backend, 1, group, wv);
        Tensor y = in_place ? x : backend->allocate(rows, cols);
        backend->rms_norm(x, w, eps, y);
        const Matrix got = to_matrix(*backend, y);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t g = 0; g < cols; g += group) {
            double ss = 0;
            for (int64_t i = 0; i < group; ++i) ss += double(xv[std::size_t(r * cols + g + i)]) * xv[std::size_t(r * cols + g + i)];
            const double inv = 1.0 / std::sqrt(ss / double(group) + double(eps));
            for (int64_t i = 0; i < group; ++i) {
              const double want = double(xv[std::size_t(r * cols + g + i)]) * inv * wv[std::size_t(i)];
              // a few float roundings after a double statistic: 1e-6 relative
              REQUIRE(std::fabs(got.at(r, g + i) - want) <= 1e-6 * std::fabs(want) + 1e-7);
            }
          }
        if (in_place) {  // the padding columns around the view are untouched
          const Matrix whole = to_matrix(*backend, all);
          for (int64_t r = 0; r < rows; ++r) {
            REQUIRE(whole.at(r, 0) == 7.0);
            REQUIRE(whole.at(r, cols + 1) == 7.0);
          }
        }
      }
}

TEST_CASE("layer_norm matches a double reference", "[cpu][norm]") {
  auto backend = k::make_cpu_backend();
  uint32_t seed = 300;
  for (int64_t rows : {1, 4, 300})
    for (int64_t cols : {1, 3, 64, 768})
      for (bool in_place : {false, true}) {
        INFO("rows " << rows << " cols " << cols << " in place " << in_place);
        const float eps = 1e-5f;
        std::vector<float> xv = random_values(std::size_t(rows * cols), ++seed, 2.0f);
        for (float& x : xv) x += 10.0f;  // a large mean: a one-pass variance would lose digits
        const std::vector<float> wv = random_values(std::size_t(cols), ++seed);
        const std::vector<float> bv = random_values(std::size_t(cols), ++seed);
        Tensor x = make_tensor(*backend, rows, cols, xv);
        const Tensor w = make_tensor(*backend, 1, cols, wv), b = make_tensor(*backend, 1, cols, bv);
        Tensor y = in_place ? x : backend->allocate(rows, cols);
        backend->layer_norm(x, w, b, eps, y);
        const Matrix got = to_matrix(*backend, y);
        for (int64_t r = 0; r < rows; ++r) {
          double mean = 0, var = 0;
          for (int64_t c = 0; c < cols; ++c) mean += xv[std::size_t(r * cols + c)];
          mean /= double(cols);
          for (int64_t c = 0; c < cols; ++c) var += std::pow(xv[std::size_t(r * cols + c)] - mean, 2);
          var /= double(cols);
          for (int64_t c = 0; c < cols; ++c) {
            const double normed = (xv[std::size_t(r * cols + c)] - mean) / std::sqrt(var + eps);
            const double want = normed * wv[std::size_t(c)] + bv[std::size_t(c)];
            // x - mean in float loses up to ulp(|x|) ~ 1e-6 against a unit variance:
            // 2e-6 relative to the terms' magnitude
            REQUIRE(std::fabs(got.at(r, c) - want) <=
                    2e-6 * (std::fabs(normed * wv[std::size_t(c)]) + std::fabs(bv[std::size_t(c)]) + 1.0));
          }
        }
      }
}

TEST_CASE("norms refuse mismatched shapes", "[cpu][norm]") {
  auto backend = k::make_cpu_backend();
  Tensor x = random_tensor(*backend, 3, 12, 1);
  Tensor y = backend->allocate(3, 12);
  Tensor y_bad = backend->allocate(3, 11);
  const Tensor w5 = random_tensor(*backend, 1, 5, 2), w4 = random_tensor(*backend, 1, 4, 3);
  const Tensor w12 = random_tensor(*backend, 1, 12, 4), w_col = random_tensor(*backend, 12, 1, 5);
  CHECK_THROWS_WITH(backend->rms_norm(x, w5, 1e-6f, y), Contains("rms_norm") && Contains("[1, 5]"));
  CHECK_NOTHROW(backend->rms_norm(x, w4, 1e-6f, y));  // 3 groups of 4
  CHECK_THROWS_WITH(backend->rms_norm(x, w4, 1e-6f, y_bad), Contains("rms_norm") && Contains("[3, 11]"));
  CHECK_THROWS_AS(backend->layer_norm(x, w4, w12, 1e-5f, y), attnscope::Error);
  CHECK_THROWS_AS(backend->layer_norm(x, w12, w_col, 1e-5f, y), attnscope::Error);
  CHECK_THROWS_WITH(backend->layer_norm(x, w12, w12, 1e-5f, y_bad), Contains("layer_norm"));
  // y a shifted view of x's memory: neither in place nor disjoint.
  Tensor wide = backend->allocate(3, 13);
  Tensor a = wide.column_slice(0, 12), b = wide.column_slice(1, 12);
  CHECK_THROWS_WITH(backend->rms_norm(a, w12, 1e-6f, b), Contains("overlaps"));
}
