#include "analysis/export/minference_pattern.h"

#include <algorithm>
#include <cmath>

#include "analysis/export/format_text.h"
#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

// MInference's run-time clamps of vertical_and_slash sizes, and the lines its estimate
// always keeps (the first columns: sinks; the nearest diagonals: the local window).
constexpr int64_t kMinVertical = 30;
constexpr int64_t kMinSlash = 50;
constexpr int64_t kKeptDiagonals = 100;
// block_sparse: 64-token blocks, each query block's top 100 key blocks.
constexpr int64_t kBlockSize = 64;
constexpr int64_t kBlocks = 100;

std::string head_text(int layer, int head) {
  return "layer " + std::to_string(layer) + " head " + std::to_string(head);
}

std::optional<MinferenceType> parse_type(std::string_view name) {
  for (MinferenceType t : {MinferenceType::VerticalAndSlash, MinferenceType::StreamLlm, MinferenceType::BlockSparse})
    if (minference_type_name(t) == name) return t;
  return std::nullopt;
}

void check_pattern(const MinferencePattern& pattern, const ModelShape& shape, const std::string& where) {
  check_dimension(where, int64_t(pattern.size()), "layers", shape.layers, "layers", shape);
  for (size_t layer = 0; layer < pattern.size(); ++layer) {
    check_dimension(where, int64_t(pattern[layer].size()), "heads in a layer", shape.heads, "query heads", shape);
    for (size_t h = 0; h < pattern[layer].size(); ++h) {
      const MinferenceHead& head = pattern[layer][h];
      if (head.v < 0 || head.s < 0)
        throw Error(where, head_text(int(layer), int(h)) + ": v and s must not be negative");
      if (head.score && !std::isfinite(*head.score))
        throw Error(where, head_text(int(layer), int(h)) + ": the score is not a finite number");
    }
  }
}

masks::BlockTopKMask block_sparse_mask() {
  masks::BlockTopKMask m;
  m.block_size = kBlockSize;
  m.blocks = kBlocks;
  m.score = masks::BlockScore::MeanPooled;
  return m;
}

}  // namespace

std::string_view minference_type_name(MinferenceType type) {
  switch (type) {
    case MinferenceType::VerticalAndSlash: return "vertical_and_slash";
    case MinferenceType::StreamLlm: return "stream_llm";
    case MinferenceType::BlockSparse: return "block_sparse";
  }
  return "vertical_and_slash";
}

std::string minference_text(const MinferencePattern& pattern, const ModelShape& shape) {
  check_pattern(pattern, shape, "MInference pattern");
  nlohmann::ordered_json doc = nlohmann::ordered_json::array();
  for (const auto& layer : pattern) {
    nlohmann::ordered_json heads = nlohmann::ordered_json::object();
    for (size_t h = 0; h < layer.size(); ++h) {
      const MinferenceHead& head = layer[h];
      heads[std::to_string(h)] = nlohmann::ordered_json::array(
          {minference_type_name(head.type), head.v, head.s,
           head.score ? nlohmann::ordered_json(*head.score) : nlohmann::ordered_json(nullptr)});
    }
    doc.push_back(std::move(heads));
  }
  return python_json(doc) + "\n";  // MInference's shipped files end with a line break
}

MinferencePattern parse_minference(std::string_view text, const ModelShape& shape, const std::string& file) {
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_array()) throw Error(file, "must hold a JSON list of one object per layer, not " + io::json_kind(doc));
  check_dimension(file, int64_t(doc.size()), "layer objects", shape.layers, "layers", shape);
  MinferencePattern pattern(size_t(shape.layers));
  for (size_t layer = 0; layer < doc.size(); ++layer) {
    const nlohmann::json& heads = doc[layer];
    const std::string layer_name = "layer " + std::to_string(layer);
    if (!heads.is_object()) throw Error(file, layer_name + " must be an object of heads, not " + io::json_kind(heads));
    std::vector<std::optional<MinferenceHead>> seen(size_t(shape.heads));
    for (const auto& [key, entry] : heads.items()) {
      const auto h = parse_index(key, shape.heads);
      if (!h)
        throw Error(file, layer_name + ": the key \"" + key.substr(0, 40) + "\" is not a query head of the model (\"0\" to \"" +
                              std::to_string(shape.heads - 1) + "\"; " + shape.describe() + ")");
      const std::string where = layer_name + " head \"" + key + "\"";
      if (!entry.is_array() || entry.size() != 4)
        throw Error(file, where + " must be [type, v, s, score], not " +
                              (entry.is_array() ? "a list of " + std::to_string(entry.size()) : io::json_kind(entry)));
      if (!entry[0].is_string()) throw Error(file, where + ": the type must be a string, not " + io::json_kind(entry[0]));
      const auto type = parse_type(entry[0].get<std::string>());
      if (!type)
        throw Error(file, where + ": unknown type \"" + entry[0].get<std::string>().substr(0, 40) +
                              "\" (vertical_and_slash, stream_llm or block_sparse)");
      MinferenceHead head;
      head.type = *type;
      head.v = json_integer(entry[1], file, where + " v");
      head.s = json_integer(entry[2], file, where + " s");
      if (head.v < 0 || head.s < 0) throw Error(file, where + ": v and s must not be negative");
      if (!entry[3].is_null()) head.score = json_number(entry[3], file, where + " score");
      seen[size_t(*h)] = head;
    }
    for (int h = 0; h < shape.heads; ++h) {
      if (!seen[size_t(h)])
        throw Error(file, layer_name + " has no head \"" + std::to_string(h) + "\"; " + shape.describe());
      pattern[layer].push_back(*seen[size_t(h)]);
    }
  }
  return pattern;
}

MinferencePattern minference_from_plan(const masks::MaskPlan& plan, const ModelShape& shape) {
  const std::string where = "MInference export";
  if (plan.num_layers() != shape.layers || plan.num_heads() != shape.heads)
    throw Error(where, "the plan has " + std::to_string(plan.num_layers()) + " layers and " +
                           std::to_string(plan.num_heads()) + " heads; " + shape.describe());
  MinferencePattern pattern(size_t(shape.layers));
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const masks::HeadMask& mask = plan.at({layer, h});
      MinferenceHead head;
      bool fits = !mask.density.has_value();
      if (const auto* vs = std::get_if<masks::VerticalSlashMask>(&mask.family)) {
        head.v = vs->vertical;
        head.s = vs->slash;
        fits = fits && vs->last_queries == 64 && vs->kept_columns == std::min(kMinVertical, vs->vertical) &&
               vs->kept_diagonals == std::min(kKeptDiagonals, vs->slash) && vs->vertical >= kMinVertical &&
               vs->slash >= kMinSlash;
      } else if (const auto* s = std::get_if<masks::StreamingMask>(&mask.family)) {
        head.type = MinferenceType::StreamLlm;
        head.v = s->sink_tokens;
        head.s = int64_t(std::llround(s->window.fixed));
        fits = fits && s->window.per_token == 0 && double(head.s) == s->window.fixed;
      } else if (const auto* b = std::get_if<masks::BlockTopKMask>(&mask.family)) {
        head.type = MinferenceType::BlockSparse;
        fits = fits && *b == block_sparse_mask();
      } else {
        fits = false;
      }
      if (!fits)
        throw Error(where, head_text(layer, h) + " runs " + masks::describe(mask) +
                               ": MInference runs vertical_slash as it estimates it (64 last queries, 30 kept "
                               "columns, 100 kept diagonals, vertical >= 30, slash >= 50), streaming with a fixed "
                               "window, or block_topk of 100 64-token blocks scored mean_pooled");
      pattern[size_t(layer)].push_back(head);
    }
  return pattern;
}

MinferencePattern minference_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                                          const MinferenceProfileOptions& options) {
  const std::string where = "MInference export";
  if (profile.kv_heads() || profile.layers() != shape.layers || profile.heads() != shape.heads)
    throw Error(where, "the profile has " + std::to_string(profile.layers()) + " layers and " +
                           std::to_string(profile.heads()) + " heads; " + shape.describe());
  MinferencePattern pattern(size_t(shape.layers));
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const auto value = profile.get(profile::metric::pattern, layer, h);
      if (!value || !std::holds_alternative<std::string>(*value))
        throw Error(where, head_text(layer, h) + " has no pattern class (the profile classifies heads on prompts "
                                                 "of 256 tokens or more)");
      const std::string& name = std::get<std::string>(*value);
      MinferenceHead head;
      if (name == "local" || name == "a_shape") {
        head.type = MinferenceType::StreamLlm;
        std::tie(head.v, head.s) = options.stream;
      } else if (name == "vertical_slash" || name == "dense") {
        std::tie(head.v, head.s) = options.vertical_slash;
      } else if (name == "block_sparse") {
        head.type = MinferenceType::BlockSparse;
      } else {
        throw Error(where, head_text(layer, h) + " has the unknown pattern class '" + name + "'");
      }
      pattern[size_t(layer)].push_back(head);
    }
  check_pattern(pattern, shape, where);
  return pattern;
}

masks::MaskPlan minference_to_plan(const MinferencePattern& pattern, const ModelShape& shape) {
  check_pattern(pattern, shape, "MInference pattern");
  masks::MaskPlan plan(shape.layers, shape.heads, {masks::DenseMask{}, std::nullopt});
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const MinferenceHead& head = pattern[size_t(layer)][size_t(h)];
      masks::HeadMask mask{masks::DenseMask{}, std::nullopt};
      switch (head.type) {
        case MinferenceType::VerticalAndSlash: {
          masks::VerticalSlashMask m;
          m.vertical = std::max(head.v, kMinVertical);
          m.slash = std::max(head.s, kMinSlash);
          m.kept_columns = kMinVertical;
          m.kept_diagonals = std::min(kKeptDiagonals, m.slash);
          mask.family = m;
          break;
        }
        case MinferenceType::StreamLlm: {
          masks::StreamingMask m;
          m.sink_tokens = head.v;
          m.window = {double(std::max<int64_t>(head.s, 1)), 0};
          mask.family = m;
          break;
        }
        case MinferenceType::BlockSparse: mask.family = block_sparse_mask(); break;
      }
      plan.set({layer, h}, mask);
    }
  plan.name = "minference";
  return plan;
}

}  // namespace attnscope::exports
