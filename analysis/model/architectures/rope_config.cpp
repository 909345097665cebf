#include "analysis/model/architectures/rope_config.h"

namespace attnscope::model {
namespace {

void read_scaling(const ConfigReader& scaling, RopeSpec& rope) {
  // transformers >= 4.43 writes "rope_type"; older configs (and Llama 2 fine-tunes) "type".
  const char* type_key = scaling.has("rope_type") ? "rope_type" : "type";
  const std::string type = scaling.string_or(type_key, "default");
  if (type == "default") return;
  if (type == "linear") {
    rope.scaling = RopeScaling::Linear;
    rope.factor = scaling.positive_number("factor");
    return;
  }
  if (type == "llama3") {
    rope.scaling = RopeScaling::Llama3;
    rope.factor = scaling.positive_number("factor");
    rope.low_freq_factor = scaling.positive_number("low_freq_factor");
    rope.high_freq_factor = scaling.positive_number("high_freq_factor");
    rope.original_max_position_embeddings = scaling.positive_int("original_max_position_embeddings");
    // The smoothing between the two bands divides by their difference.
    if (rope.high_freq_factor <= rope.low_freq_factor)
      scaling.fail("high_freq_factor", "(" + std::to_string(rope.high_freq_factor) +
                                           ") must be greater than low_freq_factor (" +
                                           std::to_string(rope.low_freq_factor) + ")");
    return;
  }
  scaling.fail(type_key, "\"" + type + "\" is not supported (supported: default, linear, llama3)");
}

}  // namespace

RopeSpec read_rope_config(const ConfigReader& config) {
  RopeSpec rope;
  rope.theta = config.positive_number_or("rope_theta", 10000.0);
  const auto parameters = config.optional_object("rope_parameters");
  const auto scaling = parameters ? parameters : config.optional_object("rope_scaling");
  // Rotating only part of each head is a different model (e.g. Phi); refuse it loudly.
  for (const ConfigReader* c : {&config, scaling ? &*scaling : nullptr})
    if (c != nullptr && c->has("partial_rotary_factor") && c->positive_number("partial_rotary_factor") != 1.0)
      c->fail("partial_rotary_factor", "is not 1; rotating part of each head is not supported");
  if (!scaling) return rope;
  if (parameters) rope.theta = parameters->positive_number_or("rope_theta", rope.theta);
  read_scaling(*scaling, rope);
  return rope;
}

}  // namespace attnscope::model
