// CUDA rms_norm (whole rows and per-head groups, in place on column views, team sizes
// from 1 thread to 1024) and layer_norm against the CPU backend on identical inputs.
#include <tuple>

#include "kernels/error.h"
#include "tests/gpu/cuda_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace k = attnscope::kernels;
using Catch::Contains;

TEST_CASE("rms_norm matches the CPU backend for rows and head groups, in place and not", "[gpu][norm]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 200;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (int64_t rows : {1, 5, 300})
      for (auto [cols, group] : {std::pair<int64_t, int64_t>{4096, 4096},
                                 {4096, 128},  // Qwen3 q_norm over 32 heads
                                 {16384, 16384},
                                 {768, 768},
                                 {256, 64},
                                 {96, 16},
                                 {33, 33},
                                 {7, 7}})
        for (int64_t offset : {0, 8, 3})  // 3: single-element accesses
          for (bool in_place : {false, true}) {
            if (rows == 300 && cols == 16384) continue;  // enough of the biggest team from 5 rows
            INFO(type_label(compute) << " rows " << rows << " cols " << cols << " group " << group << " offset "
                                     << offset << " in place " << in_place);
            const float eps = 1e-6f;
            const std::vector<float> xv = rounded_values(std::size_t(rows * cols), ++seed, compute, 3.0f, 0.5f);
            const std::vector<float> wv = rounded_values(std::size_t(group), ++seed, compute);
            PaddedView x = padded_view(*b.gpu, rows, cols, offset, offset > 0 ? 3 : 0, xv);
            const Tensor w = upload_f32(*b.gpu, 1, group, wv);
            PaddedView separate = padded_view(*b.gpu, rows, cols, offset, offset > 0 ? 3 : 0);
            PaddedView& y = in_place ? x : separate;
            b.gpu->rms_norm(x.view, w, eps, y.view);
            const std::vector<float> got = written_view(*b.gpu, y);

            const Tensor cx = upload_f32(*b.cpu, rows, cols, xv), cw = upload_f32(*b.cpu, 1, group, wv);
            Tensor cy = b.cpu->allocate(rows, cols);
            b.cpu->rms_norm(cx, cw, eps, cy);
            const std::vector<float> want = b.cpu->download(cy);
            // Two roundings to the compute type (x * inv, as transformers casts before the
            // weight, then the product): at most 2u per element relative to the float
            // reference; fp32 statistics add ~1e-6.
            const double u = unit_roundoff(compute);
            require_close(got, want, 2 * u + 1e-4, 2.02 * u, 1e-6);
          }
  }
}

TEST_CASE("layer_norm matches the CPU backend, also with a mean far from zero", "[gpu][norm]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 300;
  for (DType compute : {DType::BF16, DType::F16}) {
    Backends b = make_backends(compute);
    for (int64_t rows : {1, 4, 300})
      for (int64_t cols : {1, 3, 64, 768, 1000, 4096})
        for (bool in_place : {false, true}) {
          INFO(type_label(compute) << " rows " << rows << " cols " << cols << " in place " << in_place);
          const float eps = 1e-5f;
          // A large mean: a one-pass variance would lose the digits that matter.
          const std::vector<float> xv = rounded_values(std::size_t(rows * cols), ++seed, compute, 2.0f, 10.0f);
          const std::vector<float> wv = rounded_values(std::size_t(cols), ++seed, compute);
          const std::vector<float> bv = rounded_values(std::size_t(cols), ++seed, compute);
          PaddedView x = padded_view(*b.gpu, rows, cols, 8, 2, xv);
          const Tensor w = upload_f32(*b.gpu, 1, cols, wv), bias = upload_f32(*b.gpu, 1, cols, bv);
          PaddedView separate = padded_view(*b.gpu, rows, cols, 8, 2);
          PaddedView& y = in_place ? x : separate;
          b.gpu->layer_norm(x.view, w, bias, eps, y.view);
          const std::vector<float> got = written_view(*b.gpu, y);

          const Tensor cx = upload_f32(*b.cpu, rows, cols, xv);
          const Tensor cw = upload_f32(*b.cpu, 1, cols, wv), cb = upload_f32(*b.cpu, 1, cols, bv);
          Tensor cy = b.cpu->allocate(rows, cols);
          b.cpu->layer_norm(cx, cw, cb, eps, cy);
          const std::vector<float> want = b.cpu->download(cy);
          // One rounding of an fp32 result: u per element; where (x - mean) w / std and b
          // cancel, fp32's own error (~1e-6 of the terms, which are O(1)) shows: 1e-4 absolute.
          // cols 1: x - mean = 0 exactly, y = b on both sides.
          const double u = unit_roundoff(compute);
          require_close(got, want, u + 1e-4, 1.01 * u, 1e-4);
        }
  }
}

TEST_CASE("norms refuse weights that do not fit and partial overlaps", "[gpu][norm]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  Tensor x = gpu->allocate(2, 12);
  const Tensor w5 = gpu->allocate(1, 5);
  CHECK_THROWS_WITH(gpu->rms_norm(x, w5, 1e-6f, x), Contains("rms_norm") && Contains("dividing"));
  const Tensor w12 = gpu->allocate(1, 12), b11 = gpu->allocate(1, 11);
  CHECK_THROWS_WITH(gpu->layer_norm(x, w12, b11, 1e-5f, x), Contains("layer_norm") && Contains("bias"));
  Tensor wide = gpu->allocate(2, 16);
  Tensor shifted = wide.column_slice(2, 12);
  Tensor original = wide.column_slice(0, 12);
  CHECK_THROWS_WITH(gpu->rms_norm(original, w12, 1e-6f, shifted), Contains("overlaps"));
}
