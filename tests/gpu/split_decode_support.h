#pragma once
// The split-KV decode tests' problem: one call of n query rows at the end of a cache of
// `keys` keys (first position keys - n), laid out on the device as the runtime lays it
// out (q a column view of a wider fused buffer, caches wider than their rows with the
// unfilled rows NaN, out a view of a wider NaN buffer), and the double reference of one
// row. Only the call's q rows exist, so caches of 40000 keys stay small.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "tests/gpu/attention_test_support.h"

namespace attnscope::testing::gpu {

struct DecodeProblem {
  int heads = 0, kv_heads = 0, dim = 0;
  int64_t keys = 0, n = 0, window = 0;
  DType dtype = DType::BF16;
  std::vector<float> q;     // [n][heads * dim]
  std::vector<float> k, v;  // [keys][kv_heads * dim]
  int64_t first_position() const { return keys - n; }
  double scale() const { return 1.0 / std::sqrt(double(dim)); }
  int group() const { return heads / kv_heads; }
};

inline DecodeProblem make_decode_problem(int heads, int kv_heads, int dim, int64_t keys, int64_t n, int64_t window,
                                         DType dtype, uint32_t seed, float stddev = 1.5f) {
  DecodeProblem p{heads, kv_heads, dim, keys, n, window, dtype, {}, {}, {}};
  p.q = random_rounded(std::size_t(n * heads * dim), seed, stddev, dtype);
  p.k = random_rounded(std::size_t(keys * kv_heads * dim), seed + 1, stddev, dtype);
  p.v = random_rounded(std::size_t(keys * kv_heads * dim), seed + 2, 1.0f, dtype);
  return p;
}

// Double-precision attention of call row r of `head` (probabilities, output, lse, sum of
// p |v| per output element), as reference_row does for a whole Problem.
inline ReferenceRow decode_reference_row(const DecodeProblem& p, int head, int64_t r) {
  const int kvh = head / p.group();
  const int64_t pos = p.first_position() + r;
  const int64_t k0 = p.window > 0 ? std::max<int64_t>(0, pos - p.window + 1) : 0;
  ReferenceRow ref;
  ref.probs.resize(std::size_t(pos - k0 + 1));
  const float* q = p.q.data() + (r * p.heads + head) * p.dim;
  double max = -1e300;
  for (int64_t key = k0; key <= pos; ++key) {
    const float* k = p.k.data() + (key * p.kv_heads + kvh) * p.dim;
    double dot = 0;
    for (int d = 0; d < p.dim; ++d) dot += double(q[d]) * double(k[d]);
    max = std::max(max, ref.probs[std::size_t(key - k0)] = dot * p.scale());
  }
  double sum = 0;
  for (double& x : ref.probs) sum += (x = std::exp(x - max));
  for (double& x : ref.probs) x /= sum;
  ref.lse = max + std::log(sum);
  ref.out.assign(std::size_t(p.dim), 0.0);
  ref.magnitude.assign(std::size_t(p.dim), 0.0);
  for (int64_t key = k0; key <= pos; ++key) {
    const double w = ref.probs[std::size_t(key - k0)];
    const float* v = p.v.data() + (key * p.kv_heads + kvh) * p.dim;
    for (int d = 0; d < p.dim; ++d) {
      ref.out[std::size_t(d)] += w * double(v[d]);
      ref.magnitude[std::size_t(d)] += w * std::fabs(double(v[d]));
    }
  }
  return ref;
}

class DeviceDecodeProblem {
 public:
  static constexpr int64_t kQOffset = 8;  // elements: q starts 16 bytes into each fused row

  explicit DeviceDecodeProblem(const DecodeProblem& p)
      : p_(p),
        q_stride_(int64_t(p.heads) * p.dim + 2 * int64_t(p.kv_heads) * p.dim + 8),
        kv_stride_(int64_t(p.kv_heads) * p.dim + 8),
        out_stride_(int64_t(p.heads) * p.dim + 8),
        capacity_(p.keys + 7),
        q_(std::size_t(p.n * q_stride_)),
        k_(std::size_t(capacity_ * kv_stride_)),
        v_(std::size_t(capacity_ * kv_stride_)),
        out_(std::size_t(p.n * out_stride_)) {
    const int64_t width = int64_t(p.heads) * p.dim, kv_width = int64_t(p.kv_heads) * p.dim;
    std::vector<uint16_t> fused(q_.size(), kPoison16);
    const std::vector<uint16_t> q = to_half(p.q, p.dtype);
    for (int64_t r = 0; r < p.n; ++r) std::copy_n(q.begin() + r * width, width, fused.begin() + r * q_stride_ + kQOffset);
    q_.upload(fused);
    const std::vector<uint16_t> k = to_half(p.k, p.dtype), v = to_half(p.v, p.dtype);
    std::vector<uint16_t> hk(k_.size(), kPoison16), hv(v_.size(), kPoison16);
    for (int64_t r = 0; r < p.keys; ++r) {
      std::copy_n(k.begin() + r * kv_width, kv_width, hk.begin() + r * kv_stride_);
      std::copy_n(v.begin() + r * kv_width, kv_width, hv.begin() + r * kv_stride_);
    }
    k_.upload(hk);
    v_.upload(hv);
    poison_out();
  }

  void poison_out() { out_.upload(std::vector<uint16_t>(out_.size(), kPoison16)); }

  kernels::cuda::FlashAttentionParams params(float* lse) const {
    const kernels::AttentionShape shape{p_.heads, p_.kv_heads, p_.dim, p_.first_position(), p_.window,
                                        float(p_.scale())};
    kernels::cuda::FlashAttentionParams params = kernels::cuda::flash_attention_params(shape, p_.n, p_.dtype);
    params.q = q_.data() + kQOffset;
    params.q_stride = q_stride_;
    params.k = k_.data();
    params.k_stride = kv_stride_;
    params.v = v_.data();
    params.v_stride = kv_stride_;
    params.out = out_.data();
    params.out_stride = out_stride_;
    params.lse = lse;
    params.lse_stride = p_.n;
    return params;
  }

  // out as floats, [n][out_stride] (poison reads as NaN).
  std::vector<float> download_out() const {
    const std::vector<uint16_t> raw = out_.download();
    std::vector<float> f(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) f[i] = from_half_bits(raw[i], p_.dtype);
    return f;
  }
  std::vector<uint16_t> download_out_bits() const { return out_.download(); }
  int64_t out_stride() const { return out_stride_; }

 private:
  const DecodeProblem& p_;
  int64_t q_stride_, kv_stride_, out_stride_, capacity_;
  DeviceArray<uint16_t> q_, k_, v_, out_;
};

// An environment variable set (or unset, for nullptr) for the object's lifetime; the
// kernels read theirs per call.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    value != nullptr ? setenv(name, value, 1) : unsetenv(name);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
  ~ScopedEnvironment() { had_old_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  bool had_old_ = false;
  std::string old_;
};

}  // namespace attnscope::testing::gpu
