#include "analysis/runtime/rope_table.h"

#include <cmath>
#include <numbers>

namespace attnscope::runtime {
namespace {

// Llama 3.x: long wavelengths are divided by `factor`, short ones kept, and the band
// between them interpolated smoothly (transformers' _compute_llama3_parameters).
float llama3_scaled(float inv_freq, const model::RopeSpec& rope) {
  const double old_context = double(rope.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / rope.low_freq_factor;
  const double high_freq_wavelen = old_context / rope.high_freq_factor;
  const double wavelen = 2.0 * std::numbers::pi / inv_freq;
  if (wavelen < high_freq_wavelen) return inv_freq;
  if (wavelen > low_freq_wavelen) return float(inv_freq / rope.factor);
  const double smooth = (old_context / wavelen - rope.low_freq_factor) /
                        (rope.high_freq_factor - rope.low_freq_factor);
  return float((1.0 - smooth) * inv_freq / rope.factor + smooth * inv_freq);
}

}  // namespace

kernels::RopeTable make_rope_table(const model::RopeSpec& rope, int rotary_dim) {
  kernels::RopeTable table;
  table.inv_freq.resize(size_t(rotary_dim / 2));
  for (int i = 0; i < rotary_dim / 2; ++i) {
    // transformers computes the exponent in float32; the power itself we take in
    // double and round once, which matches to the last bit in practice.
    const float exponent = float(2 * i) / float(rotary_dim);
    float inv_freq = float(1.0 / std::pow(rope.theta, double(exponent)));
    switch (rope.scaling) {
      case model::RopeScaling::None: break;
      case model::RopeScaling::Linear: inv_freq = float(inv_freq / rope.factor); break;
      case model::RopeScaling::Llama3: inv_freq = llama3_scaled(inv_freq, rope); break;
    }
    table.inv_freq[size_t(i)] = inv_freq;
  }
  return table;
}

}  // namespace attnscope::runtime
