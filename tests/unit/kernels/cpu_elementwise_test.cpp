// CPU swiglu, gelu_tanh, add and rope against double references, including
// outputs aliasing inputs and column views.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/kernels/kernel_test_support.h"

using namespace attnscope::testing;
namespace k = attnscope::kernels;
using Catch::Contains;

TEST_CASE("swiglu matches silu(gate) * up on column views of one tensor", "[cpu][elementwise]") {
  auto backend = k::make_cpu_backend();
  for (auto [rows, inner] : {std::pair<int64_t, int64_t>{1, 1}, {3, 37}, {200, 512}}) {
    INFO("rows " << rows << " inner " << inner);
    std::vector<float> values = random_values(std::size_t(rows * 2 * inner), uint32_t(rows + inner), 4.0f);
    values.at(0) = -100.0f;  // exp(100) overflows float: silu must still give -0
    if (values.size() > 2) values[1] = 90.0f;
    const Tensor gate_up = make_tensor(*backend, rows, 2 * inner, values);
    Tensor out = backend->allocate(rows, inner);
    backend->swiglu(gate_up.column_slice(0, inner), gate_up.column_slice(inner, inner), out);
    const Matrix got = to_matrix(*backend, out);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < inner; ++c) {
        const double g = values[std::size_t(r * 2 * inner + c)], u = values[std::size_t(r * 2 * inner + inner + c)];
        const double want = g / (1.0 + std::exp(-g)) * u;
        // float exp (within 2 ulp), one division, one product: 1e-6 relative
        REQUIRE(std::fabs(got.at(r, c) - want) <= 1e-6 * std::fabs(want) + 1e-30);
      }
  }
  Tensor a = backend->allocate(2, 3), b = backend->allocate(2, 4), o = backend->allocate(2, 3);
  CHECK_THROWS_WITH(backend->swiglu(a, b, o), Contains("swiglu") && Contains("[2, 4]"));
}

TEST_CASE("gelu_tanh matches GPT-2's gelu_new", "[cpu][elementwise]") {
  auto backend = k::make_cpu_backend();
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {4, 33}, {300, 256}}) {
    std::vector<float> values = random_values(std::size_t(rows * cols), uint32_t(cols), 3.0f);
    values.at(0) = -30.0f;
    // x is a column view: padding columns hold 5 and must stay 5.
    std::vector<float> padded(std::size_t(rows * (cols + 2)), 5.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) padded[std::size_t(r * (cols + 2) + 1 + c)] = values[std::size_t(r * cols + c)];
    Tensor wide = make_tensor(*backend, rows, cols + 2, padded);
    Tensor x = wide.column_slice(1, cols);
    backend->gelu_tanh(x);
    const Matrix got = to_matrix(*backend, wide);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const double v = values[std::size_t(r * cols + c)];
        const double want = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
        // float evaluation of the same function: 2e-6 relative; 1e-12 absolute where
        // the double reference itself loses the value (1 + tanh(u) for u << 0)
        REQUIRE(std::fabs(got.at(r, c + 1) - want) <= 2e-6 * std::fabs(want) + 1e-12);
      }
      REQUIRE(got.at(r, 0) == 5.0);
      REQUIRE(got.at(r, cols + 1) == 5.0);
    }
  }
}

TEST_CASE("add is exact, in place or not", "[cpu][elementwise]") {
  auto backend = k::make_cpu_backend();
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {5, 17}, {300, 768}}) {
    const std::vector<float> av = random_values(std::size_t(rows * cols), 1), bv = random_values(std::size_t(rows * cols), 2);
    Tensor a = make_tensor(*backend, rows, cols, av);
    const Tensor b = make_tensor(*backend, rows, cols, bv);
    Tensor out = backend->allocate(rows, cols);
    backend->add(a, b, out);
    backend->add(a, b, a);  // out aliases a
    const std::vector<float> got = backend->download(out), got_in_place = backend->download(a);
    for (std::size_t i = 0; i < av.size(); ++i) {
      REQUIRE(got[i] == av[i] + bv[i]);  // one float addition: exact match
      REQUIRE(got_in_place[i] == av[i] + bv[i]);
    }
  }
  Tensor a = backend->allocate(2, 3), b = backend->allocate(3, 2);
  CHECK_THROWS_WITH(backend->add(a, b, a), Contains("add") && Contains("[3, 2]"));
}

namespace {

// HF rotate-half rope in double, with the angle rounded to float as transformers does.
std::vector<double> reference_rope(const std::vector<float>& x, int64_t rows, int64_t cols, int head_dim,
                                   int64_t first_position, const k::RopeTable& table) {
  std::vector<double> out(x.begin(), x.end());
  const int half = head_dim / 2;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < cols / head_dim; ++h)
      for (int i = 0; i < half; ++i) {
        const float angle = float(first_position + r) * table.inv_freq[std::size_t(i)];
        const double c = std::cos(double(angle)) * table.attention_scaling;
        const double s = std::sin(double(angle)) * table.attention_scaling;
        const std::size_t lo = std::size_t(r * cols + h * head_dim + i), hi = lo + std::size_t(half);
        out[lo] = double(x[lo]) * c - double(x[hi]) * s;
        out[hi] = double(x[hi]) * c + double(x[lo]) * s;
      }
  return out;
}

k::RopeTable make_table(int head_dim, double theta, float scaling) {
  k::RopeTable table;
  for (int i = 0; i < head_dim / 2; ++i) table.inv_freq.push_back(float(1.0 / std::pow(theta, 2.0 * i / head_dim)));
  table.attention_scaling = scaling;
  return table;
}

}  // namespace

TEST_CASE("rope matches HF rotate_half at any first position", "[cpu][rope]") {
  auto backend = k::make_cpu_backend();
  uint32_t seed = 400;
  for (int head_dim : {2, 16, 64, 128})
    for (int64_t rows : {1, 9, 300})
      for (int64_t first : {0, 5, 4000}) {
        INFO("head_dim " << head_dim << " rows " << rows << " first " << first);
        const int heads = 3;
        const int64_t cols = int64_t(heads) * head_dim;
        const k::RopeTable table = make_table(head_dim, head_dim == 16 ? 500000.0 : 10000.0, head_dim == 64 ? 1.25f : 1.0f);
        const std::vector<float> xv = random_values(std::size_t(rows * cols), ++seed);
        // x as the k part of a fused [q | k | v] tensor.
        std::vector<float> fused(std::size_t(rows * 3 * cols), 3.0f);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) fused[std::size_t(r * 3 * cols + cols + c)] = xv[std::size_t(r * cols + c)];
        Tensor all = make_tensor(*backend, rows, 3 * cols, fused);
        Tensor x = all.column_slice(cols, cols);
        backend->rope(x, head_dim, first, table);
        const Matrix got = to_matrix(*backend, all);
        const std::vector<double> want = reference_rope(xv, rows, cols, head_dim, first, table);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t c = 0; c < cols; ++c)
            // float cos/sin and two products: 1e-6 relative to the row's magnitude (|x| ~ 1)
            REQUIRE(std::fabs(got.at(r, cols + c) - want[std::size_t(r * cols + c)]) <= 1e-6 * 4);
          REQUIRE(got.at(r, 0) == 3.0);
          REQUIRE(got.at(r, 2 * cols) == 3.0);
        }
      }
}

TEST_CASE("rope gives the same result whatever was rotated before", "[cpu][rope]") {
  // The backend keeps the last positions' cos / sin: a change of table, position
  // range or scaling must not reuse stale values.
  auto backend = k::make_cpu_backend();
  const k::RopeTable a = make_table(32, 10000.0, 1.0f), b = make_table(32, 1000000.0, 1.0f);
  k::RopeTable a_scaled = a;
  a_scaled.attention_scaling = 0.5f;
  const std::vector<float> xv = random_values(20 * 64, 9);
  struct Call {
    const k::RopeTable* table;
    int64_t first, rows;
  };
  for (const Call& call : {Call{&a, 0, 20}, Call{&a, 0, 20}, Call{&a, 3, 10}, Call{&b, 3, 10}, Call{&a, 15, 20},
                           Call{&a_scaled, 15, 20}, Call{&a, 2, 1}}) {
    std::vector<float> rows_v(xv.begin(), xv.begin() + call.rows * 64);
    Tensor x = make_tensor(*backend, call.rows, 64, rows_v);
    backend->rope(x, 32, call.first, *call.table);
    const std::vector<float> got = backend->download(x);
    const std::vector<double> want = reference_rope(rows_v, call.rows, 64, 32, call.first, *call.table);
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(std::fabs(got[i] - want[i]) <= 4e-6);
  }
}

TEST_CASE("rope refuses head sizes that do not fit", "[cpu][rope]") {
  auto backend = k::make_cpu_backend();
  Tensor x = backend->allocate(2, 12);
  const k::RopeTable table = make_table(4, 10000.0, 1.0f);
  CHECK_THROWS_WITH(backend->rope(x, 5, 0, table), Contains("rope") && Contains("head_dim 5"));
  CHECK_THROWS_WITH(backend->rope(x, 8, 0, table), Contains("rope"));  // 12 % 8 != 0
  CHECK_THROWS_WITH(backend->rope(x, 6, 0, table), Contains("3 needs") || Contains("needs 3"));
  CHECK_THROWS_AS(backend->rope(x, 4, -1, table), attnscope::Error);
}
