// CPU linear: y = x W^T (+ b) against a double reference over a grid of shapes,
// with and without bias, on contiguous tensors and on column views (the fused
// q|k|v case), including the single-row (decode) path.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/kernels/kernel_test_support.h"

using namespace attnscope::testing;
namespace k = attnscope::kernels;
using Catch::Contains;

TEST_CASE("linear matches a double reference over a grid of shapes", "[cpu][linear]") {
  auto backend = k::make_cpu_backend();
  uint32_t seed = 100;
  for (int64_t n : {1, 3, 64, 257})
    for (int64_t in : {1, 17, 128})
      for (int64_t out : {1, 5, 96})
        for (bool with_bias : {false, true})
          for (bool views : {false, true}) {
            INFO("n " << n << " in " << in << " out " << out << " bias " << with_bias << " views " << views);
            const std::vector<float> xv = random_values(std::size_t(n * in), ++seed);
            const std::vector<float> wv = random_values(std::size_t(out * in), ++seed);
            const std::vector<float> bv = random_values(std::size_t(out), ++seed);
            // With views, x is columns [3, 3 + in) of a wider tensor and y columns [2, 2 + out).
            const int64_t x_pad = views ? 5 : 0, y_pad = views ? 4 : 0;
            std::vector<float> x_wide(std::size_t(n * (in + x_pad)), 99.0f);
            for (int64_t r = 0; r < n; ++r)
              for (int64_t c = 0; c < in; ++c)
                x_wide[std::size_t(r * (in + x_pad) + c + (views ? 3 : 0))] = xv[std::size_t(r * in + c)];
            const Tensor x_all = make_tensor(*backend, n, in + x_pad, x_wide);
            const Tensor x = views ? x_all.column_slice(3, in) : x_all;
            const Tensor w = make_tensor(*backend, out, in, wv);
            const Tensor b = make_tensor(*backend, 1, out, bv);
            Tensor y_all = backend->allocate(n, out + y_pad);
            Tensor y = views ? y_all.column_slice(2, out) : y_all;
            backend->linear(x, w, with_bias ? &b : nullptr, y);
            const Matrix got = to_matrix(*backend, y_all);
            for (int64_t r = 0; r < n; ++r) {
              for (int64_t o = 0; o < out; ++o) {
                double want = with_bias ? bv[std::size_t(o)] : 0.0, magnitude = std::fabs(want);
                for (int64_t i = 0; i < in; ++i) {
                  const double term = double(xv[std::size_t(r * in + i)]) * double(wv[std::size_t(o * in + i)]);
                  want += term;
                  magnitude += std::fabs(term);
                }
                // float accumulation of `in` products: 1e-5 relative to the sum of |terms|.
                REQUIRE(std::fabs(got.at(r, o + (views ? 2 : 0)) - want) <= 1e-5 * magnitude + 1e-30);
              }
              if (views) {  // columns outside the view are untouched
                REQUIRE(got.at(r, 0) == 0.0);
                REQUIRE(got.at(r, out + 3) == 0.0);
              }
            }
          }
}

TEST_CASE("linear refuses mismatched shapes and overlapping output", "[cpu][linear]") {
  auto backend = k::make_cpu_backend();
  const Tensor x = random_tensor(*backend, 4, 8, 1);
  const Tensor w = random_tensor(*backend, 6, 8, 2);
  const Tensor w_bad = random_tensor(*backend, 6, 7, 3);
  const Tensor b_bad = random_tensor(*backend, 1, 5, 4);
  Tensor y = backend->allocate(4, 6);
  Tensor y_bad = backend->allocate(4, 5);
  CHECK_THROWS_WITH(backend->linear(x, w_bad, nullptr, y),
                    Contains("linear") && Contains("[4, 8]") && Contains("[6, 7]"));
  CHECK_THROWS_WITH(backend->linear(x, w, nullptr, y_bad), Contains("linear") && Contains("[4, 5]"));
  CHECK_THROWS_WITH(backend->linear(x, w, &b_bad, y), Contains("bias [1, 5]"));
  Tensor fused = backend->allocate(4, 14);
  Tensor in = fused.column_slice(0, 8);
  Tensor out = fused.column_slice(6, 6);  // overlaps `in`
  CHECK_THROWS_WITH(backend->linear(in, w, nullptr, out), Contains("overlaps"));
  try {
    backend->linear(x, w_bad, nullptr, y);
  } catch (const attnscope::Error& e) {
    CHECK(e.where() == "linear");
  }
}
