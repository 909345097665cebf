#pragma once
// Branch-free scalar math that GCC and Clang vectorise inside simple loops, and the
// attribute that compiles a row kernel once per x86-64 level (picked at run time),
// so a portable build still uses AVX2 / AVX-512 where the machine has them.
#include <bit>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define ATTNSCOPE_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), noinline))
#else
#define ATTNSCOPE_CPU_CLONES
#endif

namespace attnscope::kernels::cpu {

// Sum of x[0..n) in double, in 16 independent lanes so that the loop vectorises
// (the lanes' order is fixed: the result does not depend on the machine).
inline double sum_in_double(const float* x, int64_t n) {
  constexpr int kLanes = 16;
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += double(x[i + j]);
  double sum = 0;
  for (; i < n; ++i) sum += double(x[i]);
  for (double l : lanes) sum += l;
  return sum;
}

// exp(x) for float, within 2 ulp over the normal range (measured max relative error
// 8e-8 against exp in double). Cody-Waite reduction x = n ln2 + r with |r| <= ln2/2,
// a degree-7 polynomial for e^r (Cephes' expf coefficients), then 2^n by building
// the exponent bits. Rounding n uses the 1.5 * 2^23 trick instead of rintf so that
// the loop vectorises without SSE4.1. Results below FLT_MIN flush to 0 (softmax
// probabilities that small are 0 in every statistic we keep); above ~88.7 it
// saturates at ~2.4e38 instead of inf, which still gives the right limit for the
// sigmoid-type uses (x / (1 + e) -> 0).
inline float exp_approx(float x) {
  const float xc = x < -87.0f ? -87.0f : (x > 88.3f ? 88.3f : x);
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = xc * 1.44269504088896341f + magic;
  const float n = t - magic;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(magic);
  float r = xc - n * 0.693359375f;  // ln2 split in a short high part and a correction
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const float two_n = std::bit_cast<float>((ni + 127) << 23);
  return x < -87.0f ? 0.0f : y * two_n;
}

// 1 / (1 + exp(-x)), the logistic function, through exp_approx.
inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

}  // namespace attnscope::kernels::cpu
