#include "analysis/runtime/rope_table.h"

#include <cmath>
#include <numbers>

namespace attnscope::runtime {
namespace {

// Llama 3.x: long wavelengths are divided by `factor`, short ones kept, and the band
// between them interpolated smoothly (transformers' _compute_llama3_parameters). Every
// step is rounded to float32 in transformers' order: the attention maps of a model with
// sharp heads move by 1e-5 when one frequency differs in its last bit.
float llama3_scaled(float inv_freq, const model::RopeSpec& rope) {
  const float old_context = float(rope.original_max_position_embeddings);
  const float low = float(rope.low_freq_factor), high = float(rope.high_freq_factor);
  const float factor = float(rope.factor);
  const float low_freq_wavelen = float(double(rope.original_max_position_embeddings) / rope.low_freq_factor);
  const float high_freq_wavelen = float(double(rope.original_max_position_embeddings) / rope.high_freq_factor);
  const float wavelen = float(2.0 * std::numbers::pi) / inv_freq;
  if (wavelen < high_freq_wavelen) return inv_freq;
  const float divided = inv_freq / factor;
  if (wavelen > low_freq_wavelen) return divided;
  const float smooth = (old_context / wavelen - low) / (high - low);
  return (1.0f - smooth) * inv_freq / factor + smooth * inv_freq;
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
