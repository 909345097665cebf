#pragma once
// A test Problem laid out on the device as the runtime lays it out: q as a column view
// (at an offset) of a wider fused buffer, caches wider than their rows with unfilled
// rows poisoned, out a view of a wider poisoned buffer.
#include <cstdint>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "tests/gpu/attention_test_support.h"

namespace attnscope::testing::gpu {

class DeviceProblem {
 public:
  static constexpr int64_t kQOffset = 8;  // elements: q starts 16 bytes into each fused row

  explicit DeviceProblem(const Problem& p)
      : p_(p),
        q_stride_(int64_t(p.heads) * p.dim + 2 * int64_t(p.kv_heads) * p.dim + 8),
        kv_stride_(int64_t(p.kv_heads) * p.dim + 8),
        out_stride_(int64_t(p.heads) * p.dim + 8),
        capacity_(p.total + 7),
        q_(std::size_t(p.total * q_stride_)),
        k_(std::size_t(capacity_ * kv_stride_)),
        v_(std::size_t(capacity_ * kv_stride_)),
        out_(std::size_t(p.total * out_stride_)) {
    const int64_t width = int64_t(p.heads) * p.dim;
    std::vector<uint16_t> fused(q_.size(), kPoison16);
    const std::vector<uint16_t> q = to_half(p.q, p.dtype);
    for (int64_t r = 0; r < p.total; ++r)
      std::copy_n(q.begin() + r * width, width, fused.begin() + r * q_stride_ + kQOffset);
    q_.upload(fused);
    poison_out();
  }

  // Caches hold rows [0, filled); every other row is NaN, so reading one shows.
  void fill_caches(int64_t filled) {
    const int64_t width = int64_t(p_.kv_heads) * p_.dim;
    const std::vector<uint16_t> k = to_half(p_.k, p_.dtype), v = to_half(p_.v, p_.dtype);
    std::vector<uint16_t> hk(k_.size(), kPoison16), hv(v_.size(), kPoison16);
    for (int64_t r = 0; r < filled; ++r) {
      std::copy_n(k.begin() + r * width, width, hk.begin() + r * kv_stride_);
      std::copy_n(v.begin() + r * width, width, hv.begin() + r * kv_stride_);
    }
    k_.upload(hk);
    v_.upload(hv);
  }

  void poison_out() { out_.upload(std::vector<uint16_t>(out_.size(), kPoison16)); }

  // Params of a call for query rows [first, first + n); out rows land at the same rows.
  kernels::cuda::FlashAttentionParams params(int64_t first, int64_t n, float* lse) const {
    kernels::AttentionShape shape{p_.heads, p_.kv_heads, p_.dim, first, p_.window, float(p_.scale())};
    kernels::cuda::FlashAttentionParams params = kernels::cuda::flash_attention_params(shape, n, p_.dtype);
    params.q = q_.data() + first * q_stride_ + kQOffset;
    params.q_stride = q_stride_;
    params.k = k_.data();
    params.k_stride = kv_stride_;
    params.v = v_.data();
    params.v_stride = kv_stride_;
    params.out = out_.data() + first * out_stride_;
    params.out_stride = out_stride_;
    params.lse = lse;
    params.lse_stride = n;
    return params;
  }

  // out as floats, [total][out_stride] (poison reads as NaN).
  std::vector<float> download_out() const {
    const std::vector<uint16_t> raw = out_.download();
    std::vector<float> f(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) f[i] = from_half_bits(raw[i], p_.dtype);
    return f;
  }
  int64_t out_stride() const { return out_stride_; }

 private:
  const Problem& p_;
  int64_t q_stride_, kv_stride_, out_stride_, capacity_;
  DeviceArray<uint16_t> q_, k_, v_, out_;
};

}  // namespace attnscope::testing::gpu
