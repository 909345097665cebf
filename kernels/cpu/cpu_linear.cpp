// linear: y = x W^T (+ b) as one SGEMM (SGEMV for a single row, as in decode).
// x and y may be column views of wider tensors: their row strides go to BLAS as
// lda / ldc, so nothing is copied. With a bias, y is first filled with b and the
// product is accumulated onto it (beta = 1), the same order as torch.addmm.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_ops.h"

namespace attnscope::kernels::cpu {

void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y, int threads) {
  require_f32("linear", "x", x);
  require_f32("linear", "weight", weight);
  require_f32("linear", "y", y);
  if (x.cols() != weight.cols())
    fail("linear", "x " + describe(x) + " has " + std::to_string(x.cols()) + " features but weight " +
                       describe(weight) + " expects " + std::to_string(weight.cols()));
  if (y.rows() != x.rows() || y.cols() != weight.rows())
    fail("linear", "y " + describe(y) + " is not [" + std::to_string(x.rows()) + ", " +
                       std::to_string(weight.rows()) + "] for x " + describe(x) + " and weight " + describe(weight));
  if (bias != nullptr) {
    require_f32("linear", "bias", *bias);
    if (bias->rows() != 1 || bias->cols() != weight.rows())
      fail("linear", "bias " + describe(*bias) + " is not [1, " + std::to_string(weight.rows()) + "]");
  }
  if (overlaps(y, x) || overlaps(y, weight) || (bias != nullptr && overlaps(y, *bias)))
    fail("linear", "y " + describe(y) + " overlaps an input");

  const int64_t n = x.rows(), out = weight.rows(), in = weight.cols();
  if (n == 0 || out == 0) return;
  float* yd = y.data<float>();
  const int64_t ys = y.row_stride();
  if (bias != nullptr) {
    const float* b = bias->data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (n * out >= (1 << 16))
    for (int64_t r = 0; r < n; ++r) std::memcpy(yd + r * ys, b, std::size_t(out) * sizeof(float));
  }
  if (in == 0) {
    if (bias == nullptr)
      for (int64_t r = 0; r < n; ++r) std::fill_n(yd + r * ys, out, 0.0f);
    return;
  }
  const float beta = bias != nullptr ? 1.0f : 0.0f;
  use_blas_threads(threads);
  if (n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(out), blasint(in), 1.0f, weight.data<float>(),
                blasint(weight.row_stride()), x.data<float>(), 1, beta, yd, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(n), blasint(out), blasint(in), 1.0f,
                x.data<float>(), blasint(x.row_stride()), weight.data<float>(), blasint(weight.row_stride()),
                beta, yd, blasint(ys));
  }
}

}  // namespace attnscope::kernels::cpu
