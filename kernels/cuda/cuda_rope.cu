// Rotary embedding, "rotate half" layout, in place: in each head, element i pairs with
// i + half and both rotate by angle = float(position) * inv_freq[i]:
//   x[i]        = x[i] * cos - x[i + half] * sin
//   x[i + half] = x[i + half] * cos + x[i] * sin
// As transformers computes it: the angle is one fp32 product (its rounding, ~1e-4 rad
// at positions in the thousands, is larger than any other error, so we reproduce it
// rather than compute it better); cos and sin are accurate sincosf of that angle (not
// __sinf, whose error grows with the angle), times attention_scaling, rounded to the
// compute type (transformers' cos.to(x.dtype)); the rotation itself is fp32, rounded once.
//
// A thread owns V consecutive frequencies of one row: it evaluates their cos and sin
// once and applies them to every head of the row. Angles above ~1e5 rad take sincosf's
// slow exact path (positions past 100K at inv_freq near 1): a few elements per row.
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_vector.cuh"

namespace attnscope::kernels::cuda {
namespace {

template <typename T, int V>
__global__ void rope_kernel(T* x, int64_t stride, int64_t rows, int heads, int half, int64_t first_position,
                            const float* inv_freq, float scaling) {
  for_each_row_item(rows, half / V, [&](int64_t r, int64_t item) {
    const int i0 = int(item) * V;
    const float position = float(first_position + r);
    float c[V], s[V];
#pragma unroll
    for (int e = 0; e < V; ++e) {
      const float angle = position * inv_freq[i0 + e];
      sincosf(angle, &s[e], &c[e]);
      c[e] = round_to<T>(c[e] * scaling);
      s[e] = round_to<T>(s[e] * scaling);
    }
    T* row = x + r * stride + i0;
    for (int h = 0; h < heads; ++h) {
      T* lo = row + int64_t(h) * 2 * half;
      T* hi = lo + half;
      const Vec<T, V> a = load_vec<T, V>(lo), b = load_vec<T, V>(hi);
      Vec<T, V> out_lo, out_hi;
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float av = to_float(a.v[e]), bv = to_float(b.v[e]);
        out_lo.v[e] = from_float<T>(av * c[e] - bv * s[e]);
        out_hi.v[e] = from_float<T>(bv * c[e] + av * s[e]);
      }
      store_vec<T, V>(lo, out_lo);
      store_vec<T, V>(hi, out_hi);
    }
  });
}

}  // namespace

void launch_rope(Tensor& x, int head_dim, int64_t first_position, const float* inv_freq, float attention_scaling,
                 cudaStream_t stream) {
  if (x.elements() == 0) return;
  const int half = head_dim / 2;
  const int heads = int(x.cols() / head_dim);
  // 16-byte accesses need each half-head to start on a 16-byte boundary.
  const bool wide = half % kVector == 0 && x.row_stride() % kVector == 0 &&
                    reinterpret_cast<std::uintptr_t>(x.data<uint16_t>()) % 16 == 0;
  with_device_type(x.dtype(), [&]<typename T>() {
    const auto run = [&]<int V>() {
      const LaunchShape s = row_item_launch(x.rows(), half / V);
      rope_kernel<T, V><<<s.grid, s.block, 0, stream>>>(x.data<T>(), x.row_stride(), x.rows(), heads, half,
                                                        first_position, inv_freq, attention_scaling);
    };
    if (wide)
      run.template operator()<kVector>();
    else
      run.template operator()<1>();
  });
  check_launch("rope");
}

}  // namespace attnscope::kernels::cuda
