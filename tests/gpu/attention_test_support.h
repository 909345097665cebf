#pragma once
// Helpers of the GPU attention tests: device detection, device buffers, inputs rounded
// to bf16 / fp16 (so the references see exactly what the GPU sees) and a double
// reference for chosen query rows.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/dtype.h"

namespace attnscope::testing::gpu {

using kernels::DType;

inline bool cuda_device_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

// Each GPU test starts with this: CI has no GPU and must still pass, visibly skipping.
#define ATTNSCOPE_REQUIRE_CUDA_DEVICE()                   \
  do {                                                    \
    if (!attnscope::testing::gpu::cuda_device_available()) { \
      WARN("skipped: no CUDA device");                    \
      return;                                             \
    }                                                     \
  } while (false)

inline void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// A device allocation of `count` elements of T.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    cuda_check(cudaMalloc(&data_, std::max<std::size_t>(count, 1) * sizeof(T)), "cudaMalloc");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(data_); }
  T* data() const { return static_cast<T*>(data_); }
  std::size_t size() const { return count_; }
  void upload(const std::vector<T>& host) {
    cuda_check(cudaMemcpy(data_, host.data(), std::min(host.size(), count_) * sizeof(T), cudaMemcpyHostToDevice),
               "upload");
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    cuda_check(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return host;
  }

 private:
  void* data_ = nullptr;
  std::size_t count_ = 0;
};

constexpr uint16_t kPoison16 = 0xffff;  // NaN in both bf16 and fp16

inline uint16_t to_half_bits(float x, DType dtype) {
  return dtype == DType::BF16 ? kernels::f32_to_bf16(x) : kernels::f32_to_f16(x);
}
inline float from_half_bits(uint16_t v, DType dtype) {
  return dtype == DType::BF16 ? kernels::bf16_to_f32(v) : kernels::f16_to_f32(v);
}

// n values ~ N(0, stddev^2), rounded to `dtype` (returned as floats).
inline std::vector<float> random_rounded(std::size_t n, uint32_t seed, float stddev, DType dtype) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = from_half_bits(to_half_bits(dist(rng), dtype), dtype);
  return v;
}

inline std::vector<uint16_t> to_half(const std::vector<float>& v, DType dtype) {
  std::vector<uint16_t> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) h[i] = to_half_bits(v[i], dtype);
  return h;
}

// Error bounds of a forward against the double reference. The reference sees the same
// rounded inputs, so the errors are the rounding of P to the input type before P V
// (relative 2^-9 for bf16, 2^-11 for fp16, per probability) and of the output (the same,
// relative to |o|): together at most 2 * 2^-9 * sum p |v| for bf16. The bound is 2.5x that;
// fp32 score sums and exp2 / log2 approximations add ~1e-6. lse: fp32 scores of D
// products, |s| < ~30.
inline double forward_element_bound(DType dtype) { return dtype == DType::BF16 ? 1e-2 : 2.5e-3; }
// Relative L2 over a call (METHOD.md: bf16 1e-3..1e-2).
inline double forward_norm_bound(DType dtype) { return dtype == DType::BF16 ? 1e-2 : 2.5e-3; }
inline constexpr double kForwardLseBound = 1e-3;

// One attention problem: q for positions [0, total), k and v for the same positions,
// contiguous ([total, heads * dim] and [total, kv_heads * dim]).
struct Problem {
  int heads = 0, kv_heads = 0, dim = 0;
  int64_t total = 0, window = 0;
  DType dtype = DType::BF16;
  float stddev = 1.5f;
  std::vector<float> q, k, v;
  double scale() const { return 1.0 / std::sqrt(double(dim)); }
  int64_t first_key(int64_t pos) const { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }
};

inline Problem make_problem(int heads, int kv_heads, int dim, int64_t total, int64_t window, DType dtype,
                            uint32_t seed, float stddev = 1.5f) {
  Problem p{heads, kv_heads, dim, total, window, dtype, stddev, {}, {}, {}};
  p.q = random_rounded(std::size_t(total * heads * dim), seed, stddev, dtype);
  p.k = random_rounded(std::size_t(total * kv_heads * dim), seed + 1, stddev, dtype);
  p.v = random_rounded(std::size_t(total * kv_heads * dim), seed + 2, 1.0f, dtype);
  return p;
}

// Double-precision attention of one query row: probabilities over keys
// [first_key, pos], the output (head_dim values), lse and the sum of p |v| per output
// element (the scale of that element's rounding error).
struct ReferenceRow {
  std::vector<double> probs, out, magnitude;
  double lse = 0;
};

inline double reference_score(const Problem& p, int head, int64_t pos, int64_t key) {
  const int kvh = head / (p.heads / p.kv_heads);
  double dot = 0;
  for (int d = 0; d < p.dim; ++d)
    dot += double(p.q[std::size_t((pos * p.heads + head) * p.dim + d)]) *
           double(p.k[std::size_t((key * p.kv_heads + kvh) * p.dim + d)]);
  return dot * p.scale();
}

// The rest of a reference row from r.probs holding the scores of keys [k0, k0 + size)
// and their largest: softmax, lse, and the output and sum of p |v| over v ([keys]
// [kv_heads * dim], KV head kvh).
inline void finish_reference_row(ReferenceRow& r, double max, int64_t k0, const std::vector<float>& v, int kv_heads,
                                 int kvh, int dim) {
  double sum = 0;
  for (double& x : r.probs) sum += (x = std::exp(x - max));
  for (double& x : r.probs) x /= sum;
  r.lse = max + std::log(sum);
  r.out.assign(std::size_t(dim), 0.0);
  r.magnitude.assign(std::size_t(dim), 0.0);
  const int64_t end = k0 + int64_t(r.probs.size());
  for (int64_t key = k0; key < end; ++key) {
    const double w = r.probs[std::size_t(key - k0)];
    for (int d = 0; d < dim; ++d) {
      const double x = v[std::size_t((key * kv_heads + kvh) * dim + d)];
      r.out[std::size_t(d)] += w * x;
      r.magnitude[std::size_t(d)] += w * std::fabs(x);
    }
  }
}

inline ReferenceRow reference_row(const Problem& p, int head, int64_t pos) {
  const int kvh = head / (p.heads / p.kv_heads);
  const int64_t k0 = p.first_key(pos);
  ReferenceRow r;
  r.probs.resize(std::size_t(pos - k0 + 1));
  double max = -1e300;
  for (int64_t key = k0; key <= pos; ++key) max = std::max(max, r.probs[std::size_t(key - k0)] = reference_score(p, head, pos, key));
  finish_reference_row(r, max, k0, p.v, p.kv_heads, kvh, p.dim);
  return r;
}

}  // namespace attnscope::testing::gpu
