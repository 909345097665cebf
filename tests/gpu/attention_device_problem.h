#pragma once
// Attention calls' buffers laid out on the device as the runtime lays them out: q as a
// column view (at an offset) of a wider fused buffer, caches wider than their rows with
// unfilled rows poisoned, out a view of a wider poisoned buffer. DeviceProblem holds a
// test Problem so; the split-KV decode tests' DeviceDecodeProblem holds theirs.
#include <cstdint>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "tests/gpu/attention_test_support.h"

namespace attnscope::testing::gpu {

class DeviceAttentionLayout {
 public:
  static constexpr int64_t kQOffset = 8;  // elements: q starts 16 bytes into each fused row

  // Buffers for q and out rows [0, q_rows) and caches of cache_rows rows (and 7 more).
  DeviceAttentionLayout(int heads, int kv_heads, int dim, DType dtype, int64_t q_rows, int64_t cache_rows)
      : heads_(heads),
        kv_heads_(kv_heads),
        dim_(dim),
        dtype_(dtype),
        q_stride_(int64_t(heads) * dim + 2 * int64_t(kv_heads) * dim + 8),
        kv_stride_(int64_t(kv_heads) * dim + 8),
        out_stride_(int64_t(heads) * dim + 8),
        capacity_(cache_rows + 7),
        q_(std::size_t(q_rows * q_stride_)),
        k_(std::size_t(capacity_ * kv_stride_)),
        v_(std::size_t(capacity_ * kv_stride_)),
        out_(std::size_t(q_rows * out_stride_)) {}

  // q ([rows][heads * dim]) into the fused buffer's column view; the rest of it NaN.
  void upload_q(const std::vector<float>& q, int64_t rows) {
    const int64_t width = int64_t(heads_) * dim_;
    std::vector<uint16_t> fused(q_.size(), kPoison16);
    const std::vector<uint16_t> h = to_half(q, dtype_);
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(h.begin() + r * width, width, fused.begin() + r * q_stride_ + kQOffset);
    q_.upload(fused);
  }

  // Caches hold rows [0, filled) of k and v ([rows][kv_heads * dim]); every other row is
  // NaN, so reading one shows.
  void upload_caches(const std::vector<float>& k, const std::vector<float>& v, int64_t filled) {
    const int64_t width = int64_t(kv_heads_) * dim_;
    const std::vector<uint16_t> hk16 = to_half(k, dtype_), hv16 = to_half(v, dtype_);
    std::vector<uint16_t> hk(k_.size(), kPoison16), hv(v_.size(), kPoison16);
    for (int64_t r = 0; r < filled; ++r) {
      std::copy_n(hk16.begin() + r * width, width, hk.begin() + r * kv_stride_);
      std::copy_n(hv16.begin() + r * width, width, hv.begin() + r * kv_stride_);
    }
    k_.upload(hk);
    v_.upload(hv);
  }

  void poison_out() { out_.upload(std::vector<uint16_t>(out_.size(), kPoison16)); }

  // Params of a call of n query rows whose q and out rows start at buffer row `row`.
  kernels::cuda::FlashAttentionParams call_params(const kernels::AttentionShape& shape, int64_t row, int64_t n,
                                                  float* lse) const {
    kernels::cuda::FlashAttentionParams params = kernels::cuda::flash_attention_params(shape, n, dtype_);
    params.q = q_.data() + row * q_stride_ + kQOffset;
    params.q_stride = q_stride_;
    params.k = k_.data();
    params.k_stride = kv_stride_;
    params.v = v_.data();
    params.v_stride = kv_stride_;
    params.out = out_.data() + row * out_stride_;
    params.out_stride = out_stride_;
    params.lse = lse;
    params.lse_stride = n;
    return params;
  }

  // out as floats, [q_rows][out_stride] (poison reads as NaN).
  std::vector<float> download_out() const {
    const std::vector<uint16_t> raw = out_.download();
    std::vector<float> f(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) f[i] = from_half_bits(raw[i], dtype_);
    return f;
  }
  std::vector<uint16_t> download_out_bits() const { return out_.download(); }
  int64_t out_stride() const { return out_stride_; }

 private:
  int heads_, kv_heads_, dim_;
  DType dtype_;
  int64_t q_stride_, kv_stride_, out_stride_, capacity_;
  DeviceArray<uint16_t> q_, k_, v_, out_;
};

// A Problem's q rows [0, total) on the device; the caches are filled per call.
class DeviceProblem : public DeviceAttentionLayout {
 public:
  explicit DeviceProblem(const Problem& p)
      : DeviceAttentionLayout(p.heads, p.kv_heads, p.dim, p.dtype, p.total, p.total), p_(p) {
    upload_q(p.q, p.total);
    poison_out();
  }

  // Caches hold rows [0, filled); every other row is NaN, so reading one shows.
  void fill_caches(int64_t filled) { upload_caches(p_.k, p_.v, filled); }

  // Params of a call for query rows [first, first + n); out rows land at the same rows.
  kernels::cuda::FlashAttentionParams params(int64_t first, int64_t n, float* lse) const {
    kernels::AttentionShape shape{p_.heads, p_.kv_heads, p_.dim, first, p_.window, float(p_.scale())};
    return call_params(shape, first, n, lse);
  }

 private:
  const Problem& p_;
};

}  // namespace attnscope::testing::gpu
