#pragma once
// Helpers of the CUDA backend tests: skipping without a device, the CPU backend as the
// reference, inputs rounded to the compute type (so both backends see identical
// numbers), NaN-poisoned padded views (to prove every element of an output view was
// written and nothing around it), and the relative error of METHOD.md.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cuda/cuda_backend.h"

namespace attnscope::testing::cuda_backend {

using kernels::Backend;
using kernels::DType;
using kernels::HostTensorView;
using kernels::Tensor;

// Every GPU test starts with this: CI has no GPU and must pass, skipping visibly.
#define ATTNSCOPE_SKIP_WITHOUT_GPU()                               \
  do {                                                             \
    std::string why_no_gpu;                                        \
    if (!attnscope::kernels::cuda_device_available(&why_no_gpu)) { \
      WARN("skipped: no CUDA device: " << why_no_gpu);             \
      return;                                                      \
    }                                                              \
  } while (false)

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Largest relative error of one rounding to the type: 2^-8 for bf16, 2^-11 for fp16.
inline double unit_roundoff(DType t) { return t == DType::BF16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11); }

inline const char* type_label(DType t) { return t == DType::BF16 ? "bf16" : "fp16"; }

inline float round_to(float x, DType t) {
  return t == DType::BF16 ? kernels::bf16_to_f32(kernels::f32_to_bf16(x)) : kernels::f16_to_f32(kernels::f32_to_f16(x));
}

// n values ~ N(mean, stddev^2) rounded to `t`.
inline std::vector<float> rounded_values(std::size_t n, uint32_t seed, DType t, float stddev = 1.0f,
                                         float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = round_to(dist(rng), t);
  return v;
}

inline Tensor upload_f32(Backend& backend, int64_t rows, int64_t cols, const std::vector<float>& values) {
  const HostTensorView view{DType::F32, rows, cols, values.data(), false};
  return backend.upload(std::span<const HostTensorView>(&view, 1));
}

struct Backends {
  std::unique_ptr<Backend> cpu, gpu;
  DType dtype;
};

inline Backends make_backends(DType dtype, std::size_t staging_bytes = std::size_t(16) << 20) {
  kernels::CudaBackendOptions options;
  options.dtype = dtype;
  options.synchronous = true;  // an asynchronous failure then names its op
  options.upload_staging_bytes = staging_bytes;
  return {kernels::make_cpu_backend(2), kernels::make_cuda_backend(options), dtype};
}

// A device view [rows, cols] at column `offset` of a [rows, offset + cols + pad] tensor
// whose other columns are NaN; the view holds `values` (NaN when empty).
struct PaddedView {
  Tensor whole, view;
  int64_t offset = 0;
};

inline PaddedView padded_view(Backend& gpu, int64_t rows, int64_t cols, int64_t offset, int64_t pad,
                              const std::vector<float>& values = {}) {
  const int64_t width = offset + cols + pad;
  std::vector<float> host(std::size_t(rows * width), kNaN);
  if (!values.empty())
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) host[std::size_t(r * width + offset + c)] = values[std::size_t(r * cols + c)];
  PaddedView v;
  v.whole = upload_f32(gpu, rows, width, host);
  v.view = v.whole.column_slice(offset, cols);
  v.offset = offset;
  return v;
}

// The view's values after an op wrote it: every element inside must be a number (an
// unwritten element keeps its NaN) and every element around it must still be NaN.
inline std::vector<float> written_view(Backend& gpu, const PaddedView& v) {
  const std::vector<float> whole = gpu.download(v.whole);
  const int64_t width = v.whole.cols(), rows = v.view.rows(), cols = v.view.cols();
  std::vector<float> inside(std::size_t(rows * cols));
  int64_t unwritten = 0, outside_written = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < width; ++c) {
      const float x = whole[std::size_t(r * width + c)];
      const bool in_view = c >= v.offset && c < v.offset + cols;
      if (in_view) {
        inside[std::size_t(r * cols + c - v.offset)] = x;
        unwritten += std::isnan(x) ? 1 : 0;
      } else {
        outside_written += std::isnan(x) ? 0 : 1;
      }
    }
  INFO("elements of the view left unwritten (or NaN): " << unwritten
                                                        << "; elements written outside it: " << outside_written);
  CHECK(unwritten == 0);
  CHECK(outside_written == 0);
  return inside;
}

// ||got - ref|| / ||ref||; infinity when got holds a NaN or infinity (NaN never passes).
inline double relative_error(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double err = 0, norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    err += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
}

// Index of the first element with |got - ref| > rel |ref| + abs (or not finite); -1 if none.
inline int64_t first_outlier(const std::vector<float>& got, const std::vector<float>& ref, double rel, double abs) {
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!std::isfinite(got[i]) || std::fabs(double(got[i]) - ref[i]) > rel * std::fabs(double(ref[i])) + abs)
      return int64_t(i);
  return -1;
}

// ||got - ref||, the scale a norm-wise relative error divides by; infinity on NaN.
inline double absolute_error(const std::vector<float>& got, const std::vector<float>& ref) {
  double err = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    err += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
  }
  return std::sqrt(err);
}

// Both checks with their context in the message. The norm check is
// ||got - ref|| <= norm_tolerance ||ref|| + element_abs sqrt(n): the absolute term
// keeps a reference of a few tiny elements (fp16 subnormals, a silu of -100 that one
// side flushes to zero) from turning rounding noise into a relative error of 1.
inline void require_close(const std::vector<float>& got, const std::vector<float>& ref, double norm_tolerance,
                          double element_rel, double element_abs) {
  REQUIRE(got.size() == ref.size());
  const double error = relative_error(got, ref);
  const double reference_norm = std::sqrt(std::inner_product(ref.begin(), ref.end(), ref.begin(), 0.0));
  const double floor = element_abs * std::sqrt(double(ref.size()));
  INFO("relative error " << error << " (tolerance " << norm_tolerance << " plus an absolute " << floor << ")");
  CHECK(absolute_error(got, ref) <= norm_tolerance * reference_norm + floor);
  const int64_t bad = first_outlier(got, ref, element_rel, element_abs);
  if (bad >= 0) {
    INFO("element " << bad << ": got " << got[std::size_t(bad)] << ", reference " << ref[std::size_t(bad)]
                    << " (allowed " << element_rel << " relative + " << element_abs << ")");
    CHECK(bad < 0);
  }
}

}  // namespace attnscope::testing::cuda_backend
