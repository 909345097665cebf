// Element-wise ops: swiglu, gelu_tanh, add. Rows split over threads; each row is a
// vectorised loop (`omp simd` also tells the compiler that out aliasing an input at
// the same index is fine, which its own alias check would refuse).
//   swiglu:    out = silu(gate) * up, silu(g) = g / (1 + exp(-g))   (as PyTorch)
//   gelu_tanh: gelu_new(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
//              evaluated as x / (1 + exp(-2u)), the same function (1 + tanh(u) =
//              2 / (1 + exp(-2u))) without tanh's cancellation near u = 0.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/cpu_vector_math.h"

namespace attnscope::kernels::cpu {
namespace {

constexpr int64_t kParallelElements = 1 << 15;

ATTNSCOPE_CPU_CLONES void swiglu_row(const float* gate, const float* up, int64_t n, float* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + exp_approx(-gate[i])) * up[i];
}

ATTNSCOPE_CPU_CLONES void gelu_tanh_row(float* x, int64_t n) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = k * (v + 0.044715f * v * v * v);
    x[i] = v / (1.0f + exp_approx(-2.0f * u));
  }
}

ATTNSCOPE_CPU_CLONES void add_row(const float* a, const float* b, int64_t n, float* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

// out may be `in` itself (same view) but not a shifted view of the same memory.
void require_same_or_disjoint(std::string_view op, std::string_view name, const Tensor& in, const Tensor& out) {
  const bool same = in.data<float>() == out.data<float>() && in.row_stride() == out.row_stride();
  if (!same && overlaps(in, out))
    fail(op, "out " + describe(out) + " partly overlaps " + std::string(name) + " " + describe(in));
}

}  // namespace

void swiglu(const Tensor& gate, const Tensor& up, Tensor& out, int threads) {
  require_f32("swiglu", "gate", gate);
  require_f32("swiglu", "up", up);
  require_f32("swiglu", "out", out);
  require_same_shape("swiglu", "gate", gate, "up", up);
  require_same_shape("swiglu", "gate", gate, "out", out);
  require_same_or_disjoint("swiglu", "gate", gate, out);
  require_same_or_disjoint("swiglu", "up", up, out);
  const float* g = gate.data<float>();
  const float* u = up.data<float>();
  float* o = out.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (out.elements() >= kParallelElements)
  for (int64_t r = 0; r < out.rows(); ++r)
    swiglu_row(g + r * gate.row_stride(), u + r * up.row_stride(), out.cols(), o + r * out.row_stride());
}

void gelu_tanh(Tensor& x, int threads) {
  require_f32("gelu_tanh", "x", x);
  float* d = x.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (x.elements() >= kParallelElements)
  for (int64_t r = 0; r < x.rows(); ++r) gelu_tanh_row(d + r * x.row_stride(), x.cols());
}

void add(const Tensor& a, const Tensor& b, Tensor& out, int threads) {
  require_f32("add", "a", a);
  require_f32("add", "b", b);
  require_f32("add", "out", out);
  require_same_shape("add", "a", a, "b", b);
  require_same_shape("add", "a", a, "out", out);
  require_same_or_disjoint("add", "a", a, out);
  require_same_or_disjoint("add", "b", b, out);
  const float* ad = a.data<float>();
  const float* bd = b.data<float>();
  float* o = out.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (out.elements() >= kParallelElements)
  for (int64_t r = 0; r < out.rows(); ++r)
    add_row(ad + r * a.row_stride(), bd + r * b.row_stride(), out.cols(), o + r * out.row_stride());
}

}  // namespace attnscope::kernels::cpu
