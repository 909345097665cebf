#pragma once
// The split-KV decode tests' problem: one call of n query rows at the end of a cache of
// `keys` keys (first position keys - n), laid out on the device as the runtime lays it
// out (q a column view of a wider fused buffer, caches wider than their rows with the
// unfilled rows NaN, out a view of a wider NaN buffer), and the double reference of one
// row. Only the call's q rows exist, so caches of 40000 keys stay small.
#include <cstdint>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "tests/gpu/attention_device_problem.h"
#include "tests/gpu/attention_test_support.h"
#include "tests/support/scoped_environment.h"

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
  finish_reference_row(ref, max, k0, p.v, p.kv_heads, kvh, p.dim);
  return ref;
}

// The call's q rows and the whole cache on the device (DeviceAttentionLayout), out
// poisoned.
class DeviceDecodeProblem : public DeviceAttentionLayout {
 public:
  explicit DeviceDecodeProblem(const DecodeProblem& p)
      : DeviceAttentionLayout(p.heads, p.kv_heads, p.dim, p.dtype, p.n, p.keys), p_(p) {
    upload_q(p.q, p.n);
    upload_caches(p.k, p.v, p.keys);
    poison_out();
  }

  kernels::cuda::FlashAttentionParams params(float* lse) const {
    const kernels::AttentionShape shape{p_.heads, p_.kv_heads, p_.dim, p_.first_position(), p_.window,
                                        float(p_.scale())};
    return call_params(shape, 0, p_.n, lse);
  }

 private:
  const DecodeProblem& p_;
};

using testing::ScopedEnvironment;  // the decode tests switch ATTNSCOPE_DECODE_KERNEL per call

}  // namespace attnscope::testing::gpu
