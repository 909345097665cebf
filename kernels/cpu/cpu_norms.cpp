// rms_norm and layer_norm, one row per loop iteration, rows split over threads.
// Statistics are accumulated in double (16 independent partial sums so the loop
// vectorises without reassociation flags), then applied in float:
//   rms_norm:   y = (x * rsqrt(mean(x^2) + eps)) * w       (as Hugging Face's RMSNorm)
//   layer_norm: y = (x - mean) * rsqrt(var + eps) * w + b  (biased variance, two passes;
//               the normalisation itself in double, then float)
// y may be x itself (same view): each element is read before it is written.
#include <cmath>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/cpu_vector_math.h"

namespace attnscope::kernels::cpu {
namespace {

constexpr int kLanes = 16;

// sum (x[i] - shift)^2 in double.
inline double sum_squares(const float* x, int64_t n, double shift) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double d = double(x[i + j]) - shift;
      lanes[j] += d * d;
    }
  double sum = 0;
  for (; i < n; ++i) sum += (double(x[i]) - shift) * (double(x[i]) - shift);
  for (double l : lanes) sum += l;
  return sum;
}

// One row of `cols` elements normalised in groups of `group`.
ATTNSCOPE_CPU_CLONES void rms_norm_row(const float* x, const float* w, int64_t cols, int64_t group, float eps,
                                       float* y) {
  for (int64_t g = 0; g < cols; g += group) {
    const double mean_square = sum_squares(x + g, group, 0.0) / double(group);
    const float inv = float(1.0 / std::sqrt(mean_square + double(eps)));
#pragma omp simd
    for (int64_t i = 0; i < group; ++i) y[g + i] = (x[g + i] * inv) * w[i];
  }
}

ATTNSCOPE_CPU_CLONES void layer_norm_row(const float* x, const float* w, const float* b, int64_t cols, float eps,
                                         float* y) {
  const double mean = sum_in_double(x, cols) / double(cols);
  const double variance = sum_squares(x, cols, mean) / double(cols);
  const double inv = 1.0 / std::sqrt(variance + double(eps));
  // x - mean in double: the mean rounded to float would be off by up to ulp(mean) / 2,
  // which a small standard deviation then magnifies.
#pragma omp simd
  for (int64_t i = 0; i < cols; ++i) y[i] = float((double(x[i]) - mean) * inv) * w[i] + b[i];
}

// y may be x itself, but not a different view of the same memory.
void require_same_or_disjoint(std::string_view op, const Tensor& x, const Tensor& y) {
  const bool same = x.data<float>() == y.data<float>() && x.row_stride() == y.row_stride();
  if (!same && overlaps(x, y)) fail(op, "y " + describe(y) + " partly overlaps x " + describe(x));
}

void require_vector(std::string_view op, std::string_view name, const Tensor& v, int64_t cols) {
  require_f32(op, name, v);
  if (v.rows() != 1 || v.cols() != cols)
    fail(op, std::string(name) + " " + describe(v) + " is not [1, " + std::to_string(cols) + "]");
}

}  // namespace

void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& y, int threads) {
  require_f32("rms_norm", "x", x);
  require_f32("rms_norm", "weight", weight);
  require_f32("rms_norm", "y", y);
  require_same_shape("rms_norm", "x", x, "y", y);
  const int64_t group = weight.cols();
  if (weight.rows() != 1 || group == 0 || x.cols() % group != 0)
    fail("rms_norm", "weight " + describe(weight) + " is not [1, g] with g dividing the " +
                         std::to_string(x.cols()) + " columns of x " + describe(x));
  require_same_or_disjoint("rms_norm", x, y);
  const float* xd = x.data<float>();
  const float* w = weight.data<float>();
  float* yd = y.data<float>();
  const int64_t cols = x.cols();
#pragma omp parallel for schedule(static) num_threads(threads) if (x.elements() >= (1 << 15))
  for (int64_t r = 0; r < x.rows(); ++r)
    rms_norm_row(xd + r * x.row_stride(), w, cols, group, eps, yd + r * y.row_stride());
}

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y, int threads) {
  require_f32("layer_norm", "x", x);
  require_f32("layer_norm", "y", y);
  require_same_shape("layer_norm", "x", x, "y", y);
  require_vector("layer_norm", "weight", weight, x.cols());
  require_vector("layer_norm", "bias", bias, x.cols());
  if (x.cols() == 0) fail("layer_norm", "x " + describe(x) + " has no columns");
  require_same_or_disjoint("layer_norm", x, y);
  const float* xd = x.data<float>();
  const float* w = weight.data<float>();
  const float* b = bias.data<float>();
  float* yd = y.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (x.elements() >= (1 << 15))
  for (int64_t r = 0; r < x.rows(); ++r)
    layer_norm_row(xd + r * x.row_stride(), w, b, x.cols(), eps, yd + r * y.row_stride());
}

}  // namespace attnscope::kernels::cpu
