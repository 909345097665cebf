// Rotary position embedding, Hugging Face "rotate half" layout: in each head,
// element i pairs with element i + half (half = head_dim / 2) and both rotate by
// angle = position * inv_freq[i]:
//   x[i]        = x[i] * cos - x[i + half] * sin
//   x[i + half] = x[i + half] * cos + x[i] * sin
// The angle is the float32 product float(position) * inv_freq[i], as transformers
// computes it; at positions in the thousands the angle's rounding (~1e-4 rad) is
// larger than any other error, so matching it matters more than computing it
// exactly. cos and sin of that float angle are evaluated in double and rounded,
// then multiplied by attention_scaling (as transformers does).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/cpu_vector_math.h"

namespace attnscope::kernels::cpu {
namespace {

// Rotates `heads` consecutive heads of one row (each 2 * half floats).
ATTNSCOPE_CPU_CLONES void rope_row(float* x, int64_t heads, int64_t half, const float* cos, const float* sin) {
  for (int64_t h = 0; h < heads; ++h) {
    float* lo = x + h * 2 * half;
    float* hi = lo + half;
#pragma omp simd
    for (int64_t i = 0; i < half; ++i) {
      const float a = lo[i], b = hi[i];
      lo[i] = a * cos[i] - b * sin[i];
      hi[i] = b * cos[i] + a * sin[i];
    }
  }
}

// Makes `cache` hold cos / sin for positions [first, first + count) of `table`.
void fill_cache(RopeCache& cache, const RopeTable& table, int64_t first, int64_t count, int threads) {
  const bool same_table = cache.inv_freq == table.inv_freq && cache.attention_scaling == table.attention_scaling;
  if (same_table && first >= cache.first_position && first + count <= cache.first_position + cache.positions)
    return;
  const int64_t half = int64_t(table.inv_freq.size());
  cache.inv_freq = table.inv_freq;
  cache.attention_scaling = table.attention_scaling;
  cache.first_position = first;
  cache.positions = count;
  cache.cos.resize(std::size_t(count * half));
  cache.sin.resize(std::size_t(count * half));
#pragma omp parallel for schedule(static) num_threads(threads) if (count * half >= 4096)
  for (int64_t p = 0; p < count; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = float(first + p) * table.inv_freq[std::size_t(i)];
      cache.cos[std::size_t(p * half + i)] = float(std::cos(double(angle))) * table.attention_scaling;
      cache.sin[std::size_t(p * half + i)] = float(std::sin(double(angle))) * table.attention_scaling;
    }
}

}  // namespace

void rope(Tensor& x, int head_dim, int64_t first_position, const RopeTable& table, RopeCache& cache,
          int threads) {
  require_f32("rope", "x", x);
  if (head_dim <= 0 || head_dim % 2 != 0 || x.cols() % head_dim != 0)
    fail("rope", "head_dim " + std::to_string(head_dim) + " is not even and positive or does not divide x " +
                     describe(x));
  const int64_t half = head_dim / 2;
  if (int64_t(table.inv_freq.size()) != half)
    fail("rope", "table has " + std::to_string(table.inv_freq.size()) + " frequencies, head_dim " +
                     std::to_string(head_dim) + " needs " + std::to_string(half));
  if (first_position < 0) fail("rope", "first_position " + std::to_string(first_position) + " is negative");
  if (x.rows() == 0) return;
  fill_cache(cache, table, first_position, x.rows(), threads);
  const int64_t offset = first_position - cache.first_position;
  const int64_t heads = x.cols() / head_dim;
  float* xd = x.data<float>();
#pragma omp parallel for schedule(static) num_threads(threads) if (x.elements() >= (1 << 15))
  for (int64_t r = 0; r < x.rows(); ++r) {
    const std::size_t at = std::size_t((offset + r) * half);
    rope_row(xd + r * x.row_stride(), heads, half, cache.cos.data() + at, cache.sin.data() + at);
  }
}

}  // namespace attnscope::kernels::cpu
