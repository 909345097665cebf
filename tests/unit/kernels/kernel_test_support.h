#pragma once
// Helpers for the kernel tests: random host data, tensors made from it, and the
// double-precision reference for attention that several test files compare with.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/backend.h"

namespace attnscope::testing {

using kernels::Backend;
using kernels::DType;
using kernels::HostTensorView;
using kernels::Tensor;

// n values ~ N(0, stddev^2) from a fixed seed.
inline std::vector<float> random_values(std::size_t n, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A backend tensor holding `values` (row-major rows x cols).
inline Tensor make_tensor(Backend& backend, int64_t rows, int64_t cols, const std::vector<float>& values) {
  const HostTensorView view{DType::F32, rows, cols, values.data(), false};
  return backend.upload(std::span<const HostTensorView>(&view, 1));
}

inline Tensor random_tensor(Backend& backend, int64_t rows, int64_t cols, uint32_t seed, float stddev = 1.0f) {
  return make_tensor(backend, rows, cols, random_values(std::size_t(rows * cols), seed, stddev));
}

// A row-major matrix of doubles.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), v(std::size_t(r * c), 0.0) {}
  double& at(int64_t r, int64_t c) { return v[std::size_t(r * cols + c)]; }
  double at(int64_t r, int64_t c) const { return v[std::size_t(r * cols + c)]; }
};

// The rows x cols contents of a backend tensor (through download) as doubles.
inline Matrix to_matrix(Backend& backend, const Tensor& t) {
  const std::vector<float> host = backend.download(t);
  Matrix m(t.rows(), t.cols());
  for (std::size_t i = 0; i < host.size(); ++i) m.v[i] = host[i];
  return m;
}

// Causal attention in double, written the obvious way: for every head and query
// position, scores over the visible keys, softmax, weighted sum of values.
struct AttentionReference {
  Matrix out;
  // probs[head][position] = probabilities of keys [first_key(position), position]
  std::vector<std::vector<std::vector<double>>> probs;
  int64_t window = 0;
  int64_t first_key(int64_t position) const { return window > 0 ? std::max<int64_t>(0, position - window + 1) : 0; }
  AttentionReference() : out(0, 0) {}
};

// q: [positions, H * D] for positions 0..n-1; k, v: [n, Hkv * D] (host floats).
inline AttentionReference reference_attention(const std::vector<float>& q, const std::vector<float>& k,
                                              const std::vector<float>& v, int64_t n, int heads, int kv_heads,
                                              int head_dim, int64_t window, double scale) {
  AttentionReference ref;
  ref.window = window;
  ref.out = Matrix(n, int64_t(heads) * head_dim);
  ref.probs.assign(std::size_t(heads), std::vector<std::vector<double>>(std::size_t(n)));
  const int group = heads / kv_heads;
  const int64_t qw = int64_t(heads) * head_dim, kvw = int64_t(kv_heads) * head_dim;
  for (int h = 0; h < heads; ++h) {
    const int kvh = h / group;
    for (int64_t p = 0; p < n; ++p) {
      const int64_t k0 = ref.first_key(p);
      std::vector<double> s(std::size_t(p - k0 + 1));
      double max = -1e300;
      for (int64_t key = k0; key <= p; ++key) {
        double dot = 0;
        for (int d = 0; d < head_dim; ++d)
          dot += double(q[std::size_t(p * qw + h * head_dim + d)]) * double(k[std::size_t(key * kvw + kvh * head_dim + d)]);
        s[std::size_t(key - k0)] = dot * scale;
        max = std::max(max, dot * scale);
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - max));
      for (double& x : s) x /= sum;
      for (int d = 0; d < head_dim; ++d) {
        double o = 0;
        for (int64_t key = k0; key <= p; ++key)
          o += s[std::size_t(key - k0)] * double(v[std::size_t(key * kvw + kvh * head_dim + d)]);
        ref.out.at(p, h * head_dim + d) = o;
      }
      ref.probs[std::size_t(h)][std::size_t(p)] = std::move(s);
    }
  }
  return ref;
}

}  // namespace attnscope::testing
