// CUDA swiglu, gelu_tanh, add and rope against the CPU backend on identical inputs:
// column views at 16-byte aligned and unaligned offsets (both kernel widths), outputs
// aliasing inputs, rope at large positions and with changing tables.
#include <cmath>
#include <tuple>

#include "kernels/error.h"
#include "tests/gpu/cuda_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace k = attnscope::kernels;
using Catch::Contains;

TEST_CASE("swiglu matches the CPU backend on column views of one gate|up tensor", "[gpu][elementwise]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 400;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (auto [rows, inner] : {std::pair<int64_t, int64_t>{1, 1}, {3, 37}, {200, 512}, {4, 11008}})
      for (int64_t offset : {8, 3}) {
        INFO(type_label(compute) << " rows " << rows << " inner " << inner << " out offset " << offset);
        std::vector<float> values = rounded_values(std::size_t(rows * 2 * inner), ++seed, compute, 4.0f);
        values[0] = -100.0f;  // exp(100) overflows float: silu must still give -0
        const Tensor gate_up = upload_f32(*b.gpu, rows, 2 * inner, values);
        PaddedView out = padded_view(*b.gpu, rows, inner, offset, 2);
        b.gpu->swiglu(gate_up.column_slice(0, inner), gate_up.column_slice(inner, inner), out.view);
        const std::vector<float> got = written_view(*b.gpu, out);

        const Tensor cgu = upload_f32(*b.cpu, rows, 2 * inner, values);
        Tensor cout = b.cpu->allocate(rows, inner);
        b.cpu->swiglu(cgu.column_slice(0, inner), cgu.column_slice(inner, inner), cout);
        const std::vector<float> want = b.cpu->download(cout);
        // Two roundings (silu(gate), as transformers' bf16 act_fn output, then the
        // product): 2u per element; fp32 exp adds ~1e-7. Absolute: fp16 subnormals.
        const double u = unit_roundoff(compute);
        require_close(got, want, 2 * u + 1e-4, 2.02 * u, 1e-6);
      }
  }
}

TEST_CASE("gelu_tanh matches the CPU backend in place on a view", "[gpu][elementwise]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 500;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {3, 37}, {100, 3072}})
      for (int64_t offset : {0, 8, 3}) {
        INFO(type_label(compute) << " rows " << rows << " cols " << cols << " offset " << offset);
        const std::vector<float> values = rounded_values(std::size_t(rows * cols), ++seed, compute, 3.0f);
        PaddedView x = padded_view(*b.gpu, rows, cols, offset, offset > 0 ? 1 : 0, values);
        b.gpu->gelu_tanh(x.view);
        const std::vector<float> got = written_view(*b.gpu, x);
        Tensor cx = upload_f32(*b.cpu, rows, cols, values);
        b.cpu->gelu_tanh(cx);
        const std::vector<float> want = b.cpu->download(cx);
        // One rounding of an fp32 value: u per element (fp32 exp: ~1e-7).
        const double u = unit_roundoff(compute);
        require_close(got, want, u + 1e-4, 1.01 * u, 1e-6);
      }
  }
}

TEST_CASE("add matches the CPU backend, also with out aliasing a", "[gpu][elementwise]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 600;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {5, 4096}, {300, 77}})
      for (int64_t offset : {8, 3})
        for (bool alias : {false, true}) {
          INFO(type_label(compute) << " rows " << rows << " cols " << cols << " offset " << offset << " alias "
                                   << alias);
          const std::vector<float> av = rounded_values(std::size_t(rows * cols), ++seed, compute);
          const std::vector<float> bv = rounded_values(std::size_t(rows * cols), ++seed, compute);
          PaddedView a = padded_view(*b.gpu, rows, cols, offset, 2, av);
          const Tensor bt = upload_f32(*b.gpu, rows, cols, bv);
          PaddedView separate = padded_view(*b.gpu, rows, cols, offset, 2);
          PaddedView& out = alias ? a : separate;
          b.gpu->add(a.view, bt, out.view);
          const std::vector<float> got = written_view(*b.gpu, out);
          std::vector<float> want(av.size());
          for (std::size_t i = 0; i < av.size(); ++i) want[i] = round_to(av[i] + bv[i], compute);
          // The sum of two values of the type, computed in fp32 (exact here) and rounded once:
          // equal to the host's rounding of the same float sum.
          CHECK(got == want);
        }
  }
}

TEST_CASE("rope matches the CPU backend for head dims, positions up to 131K and changing tables", "[gpu][rope]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 700;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (int head_dim : {64, 128, 80, 34})  // 34: half 17, single-element accesses
      for (auto [heads, rows] : {std::pair<int, int64_t>{1, 1}, {4, 7}, {3, 100}})
        for (int64_t first : {int64_t(0), int64_t(5000), int64_t(131000)})
          for (auto [theta, scaling] : {std::pair<double, float>{10000.0, 1.0f}, {500000.0, 1.2f}})
            for (int64_t offset : {8, 3}) {
              INFO(type_label(compute) << " head_dim " << head_dim << " heads " << heads << " rows " << rows
                                       << " first " << first << " theta " << theta << " offset " << offset);
              k::RopeTable table;
              for (int i = 0; i < head_dim / 2; ++i)
                table.inv_freq.push_back(float(std::pow(theta, -2.0 * i / head_dim)));
              table.attention_scaling = scaling;
              const int64_t cols = int64_t(heads) * head_dim;
              const std::vector<float> values = rounded_values(std::size_t(rows * cols), ++seed, compute, 2.0f);
              // q as a column view of a fused q|k|v row.
              PaddedView x = padded_view(*b.gpu, rows, cols, offset, 24, values);
              b.gpu->rope(x.view, head_dim, first, table);
              const std::vector<float> got = written_view(*b.gpu, x);
              Tensor cx = upload_f32(*b.cpu, rows, cols, values);
              b.cpu->rope(cx, head_dim, first, table);
              const std::vector<float> want = b.cpu->download(cx);
              // cos and sin are rounded to the compute type (as transformers does), then
              // the rotation is rounded once: |error| <= u scaling (|a| + |b|) + u |y| per
              // element; in norm (a rotation keeps norms) at most (sqrt(2) + 1) u.
              const double u = unit_roundoff(compute);
              const double error = relative_error(got, want);
              INFO("relative error " << error);
              CHECK(error <= 2.5 * u);
              const int half = head_dim / 2;
              for (int64_t r = 0; r < rows; ++r)
                for (int64_t c = 0; c < cols; ++c) {
                  const int64_t i = c % head_dim, pair = i < half ? c + half : c - half;
                  const std::size_t at = std::size_t(r * cols + c);
                  const double bound =
                      u * scaling * (std::fabs(values[at]) + std::fabs(values[std::size_t(r * cols + pair)])) +
                      u * std::fabs(want[at]) + 1e-5;
                  if (!(std::fabs(double(got[at]) - want[at]) <= bound)) {
                    INFO("row " << r << " col " << c << ": got " << got[at] << ", reference " << want[at]);
                    REQUIRE(std::fabs(double(got[at]) - want[at]) <= bound);
                  }
                }
            }
  }
}

TEST_CASE("element-wise ops refuse mismatched shapes and bad rope tables", "[gpu][elementwise]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  Tensor a = gpu->allocate(2, 3), c = gpu->allocate(2, 4), o = gpu->allocate(2, 3);
  CHECK_THROWS_WITH(gpu->swiglu(a, c, o), Contains("swiglu") && Contains("[2, 4]"));
  CHECK_THROWS_WITH(gpu->add(a, c, o), Contains("add") && Contains("differ in shape"));
  Tensor q = gpu->allocate(2, 16);
  k::RopeTable table;
  table.inv_freq = {1.0f, 0.5f};
  CHECK_THROWS_WITH(gpu->rope(q, 8, 0, table), Contains("rope") && Contains("needs 4"));
}
