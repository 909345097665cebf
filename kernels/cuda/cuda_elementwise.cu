// Element-wise kernels: swiglu, gelu_tanh, add, the embedding row gather and row
// fills. Each thread handles V consecutive elements of one row (V = 8: 16-byte
// accesses, when vectorizable(); else 1), computes in fp32 and rounds once, except:
//   swiglu:    out = round(silu(gate)) * up: transformers applies act_fn to the bf16
//              gate (a bf16 tensor) before the bf16 product.
//   gelu_tanh: x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3): the same function
//              as 0.5 x (1 + tanh(u)) without tanh's cancellation near u = 0.
// Outputs may alias an input at the same view: each thread reads its elements before
// writing them. expf (not __expf): full float accuracy.
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_vector.cuh"

namespace attnscope::kernels::cuda {
namespace {

template <typename T, int V>
__global__ void swiglu_kernel(const T* gate, int64_t gs, const T* up, int64_t us, T* out, int64_t os, int64_t rows,
                              int64_t items) {
  for_each_row_item(rows, items, [&](int64_t r, int64_t i) {
    const Vec<T, V> g = load_vec<T, V>(gate + r * gs + i * V), u = load_vec<T, V>(up + r * us + i * V);
    Vec<T, V> o;
#pragma unroll
    for (int e = 0; e < V; ++e) {
      const float x = to_float(g.v[e]);
      o.v[e] = from_float<T>(round_to<T>(x / (1.0f + expf(-x))) * to_float(u.v[e]));
    }
    store_vec<T, V>(out + r * os + i * V, o);
  });
}

template <typename T, int V>
__global__ void gelu_tanh_kernel(T* x, int64_t xs, int64_t rows, int64_t items) {
  constexpr float k = 0.7978845608028654f;  // sqrt(2 / pi)
  for_each_row_item(rows, items, [&](int64_t r, int64_t i) {
    Vec<T, V> v = load_vec<T, V>(x + r * xs + i * V);
#pragma unroll
    for (int e = 0; e < V; ++e) {
      const float a = to_float(v.v[e]);
      const float u = k * (a + 0.044715f * a * a * a);
      v.v[e] = from_float<T>(a / (1.0f + expf(-2.0f * u)));
    }
    store_vec<T, V>(x + r * xs + i * V, v);
  });
}

template <typename T, int V>
__global__ void add_kernel(const T* a, int64_t as, const T* b, int64_t bs, T* out, int64_t os, int64_t rows,
                           int64_t items) {
  for_each_row_item(rows, items, [&](int64_t r, int64_t i) {
    const Vec<T, V> x = load_vec<T, V>(a + r * as + i * V), y = load_vec<T, V>(b + r * bs + i * V);
    Vec<T, V> o;
#pragma unroll
    for (int e = 0; e < V; ++e) o.v[e] = from_float<T>(to_float(x.v[e]) + to_float(y.v[e]));
    store_vec<T, V>(out + r * os + i * V, o);
  });
}

// Raw 2-byte copies: the gather does not depend on the element type.
template <int V>
__global__ void gather_rows_kernel(const uint16_t* table, int64_t ts, const int32_t* ids, uint16_t* out, int64_t os,
                                   int64_t rows, int64_t items) {
  for_each_row_item(rows, items, [&](int64_t r, int64_t i) {
    store_vec<uint16_t, V>(out + r * os + i * V, load_vec<uint16_t, V>(table + int64_t(ids[r]) * ts + i * V));
  });
}

template <int V>
__global__ void fill_rows_kernel(uint16_t* out, int64_t os, const uint16_t* row, int64_t rows, int64_t items) {
  for_each_row_item(rows, items, [&](int64_t r, int64_t i) {
    Vec<uint16_t, V> v;
    if (row != nullptr) {
      v = load_vec<uint16_t, V>(row + i * V);
    } else {
#pragma unroll
      for (int e = 0; e < V; ++e) v.v[e] = 0;  // +0.0 in bf16 and fp16
    }
    store_vec<uint16_t, V>(out + r * os + i * V, v);
  });
}

// Runs f.template operator()<V>() with V = 8 when all tensors allow 16-byte accesses.
template <typename F>
void with_width(std::initializer_list<const Tensor*> tensors, F&& f) {
  if (vectorizable(tensors))
    f.template operator()<kVector>();
  else
    f.template operator()<1>();
}

}  // namespace

bool vectorizable(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t == nullptr) continue;
    const auto address = reinterpret_cast<std::uintptr_t>(t->data<uint16_t>());
    if (address % 16 != 0 || t->row_stride() % kVector != 0 || t->cols() % kVector != 0) return false;
  }
  return true;
}

void launch_swiglu(const Tensor& gate, const Tensor& up, Tensor& out, cudaStream_t stream) {
  if (out.elements() == 0) return;
  with_device_type(out.dtype(), [&]<typename T>() {
    with_width({&gate, &up, &out}, [&]<int V>() {
      const LaunchShape s = row_item_launch(out.rows(), out.cols() / V);
      swiglu_kernel<T, V><<<s.grid, s.block, 0, stream>>>(gate.data<T>(), gate.row_stride(), up.data<T>(),
                                                          up.row_stride(), out.data<T>(), out.row_stride(), out.rows(),
                                                          out.cols() / V);
    });
  });
  check_launch("swiglu");
}

void launch_gelu_tanh(Tensor& x, cudaStream_t stream) {
  if (x.elements() == 0) return;
  with_device_type(x.dtype(), [&]<typename T>() {
    with_width({&x}, [&]<int V>() {
      const LaunchShape s = row_item_launch(x.rows(), x.cols() / V);
      gelu_tanh_kernel<T, V><<<s.grid, s.block, 0, stream>>>(x.data<T>(), x.row_stride(), x.rows(), x.cols() / V);
    });
  });
  check_launch("gelu_tanh");
}

void launch_add(const Tensor& a, const Tensor& b, Tensor& out, cudaStream_t stream) {
  if (out.elements() == 0) return;
  with_device_type(out.dtype(), [&]<typename T>() {
    with_width({&a, &b, &out}, [&]<int V>() {
      const LaunchShape s = row_item_launch(out.rows(), out.cols() / V);
      add_kernel<T, V><<<s.grid, s.block, 0, stream>>>(a.data<T>(), a.row_stride(), b.data<T>(), b.row_stride(),
                                                       out.data<T>(), out.row_stride(), out.rows(), out.cols() / V);
    });
  });
  check_launch("add");
}

void launch_gather_rows(const Tensor& table, const int32_t* ids, Tensor& out, cudaStream_t stream) {
  if (out.elements() == 0) return;
  with_width({&table, &out}, [&]<int V>() {
    const LaunchShape s = row_item_launch(out.rows(), out.cols() / V);
    gather_rows_kernel<V><<<s.grid, s.block, 0, stream>>>(table.data<uint16_t>(), table.row_stride(), ids,
                                                          out.data<uint16_t>(), out.row_stride(), out.rows(),
                                                          out.cols() / V);
  });
  check_launch("embedding");
}

void launch_fill_rows(Tensor& out, const Tensor* row, cudaStream_t stream) {
  if (out.elements() == 0) return;
  with_width({&out, row}, [&]<int V>() {
    const LaunchShape s = row_item_launch(out.rows(), out.cols() / V);
    fill_rows_kernel<V><<<s.grid, s.block, 0, stream>>>(out.data<uint16_t>(), out.row_stride(),
                                                        row != nullptr ? row->data<uint16_t>() : nullptr, out.rows(),
                                                        out.cols() / V);
  });
  check_launch("linear");
}

}  // namespace attnscope::kernels::cuda
