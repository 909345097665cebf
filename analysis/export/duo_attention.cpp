#include "analysis/export/duo_attention.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "analysis/export/format_text.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

std::string head_text(int layer, int head) {
  return "layer " + std::to_string(layer) + " head " + std::to_string(head);
}

void check_gate_shape(const DuoPattern& pattern, const ModelShape& shape, const std::string& where) {
  check_dimension(where, int64_t(pattern.gates.size()), "layers", shape.layers, "layers", shape);
  for (const auto& row : pattern.gates)
    check_dimension(where, int64_t(row.size()), "KV heads in a layer", shape.kv_heads, "KV heads", shape);
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.back() == '\r')) {
    if (s.front() == ' ') s.remove_prefix(1);
    else s.remove_suffix(1);
  }
  return s;
}

// The sink and window of a streaming head, or nullopt for a dense one; anything else
// has no place in a DuoAttention pattern.
std::optional<masks::StreamingMask> streaming_part(const masks::HeadMask& mask, runtime::LayerHead at) {
  if (std::holds_alternative<masks::DenseMask>(mask.family)) return std::nullopt;
  const auto* s = std::get_if<masks::StreamingMask>(&mask.family);
  if (s == nullptr || mask.density || s->window.per_token != 0)
    throw Error("DuoAttention export", head_text(at.layer, at.head) + " runs " + masks::describe(mask) +
                                           ": a DuoAttention pattern holds only dense heads and streaming heads "
                                           "with a fixed sink and recent window");
  return *s;
}

}  // namespace

std::string duo_gates_text(const DuoPattern& pattern, const ModelShape& shape) {
  check_gate_shape(pattern, shape, std::string(kDuoGatesFile));
  std::string out;
  for (size_t layer = 0; layer < pattern.gates.size(); ++layer) {
    for (size_t kv = 0; kv < pattern.gates[layer].size(); ++kv) {
      const double g = pattern.gates[layer][kv];
      if (!std::isfinite(g))
        throw Error(std::string(kDuoGatesFile), head_text(int(layer), int(kv)) + ": the gate is not a finite number");
      if (kv > 0) out += '\t';
      out += numpy_e18(g);
    }
    out += '\n';
  }
  return out;
}

std::string duo_config_text(const DuoPattern& pattern) {
  nlohmann::ordered_json config = pattern.config;
  config["sink_size"] = pattern.sink_size;
  config["recent_size"] = pattern.recent_size;
  return python_json(config);
}

void write_duo_directory(const DuoPattern& pattern, const ModelShape& shape, const std::filesystem::path& directory) {
  const std::string gates = duo_gates_text(pattern, shape);
  write_text_file(directory / kDuoGatesFile, gates);
  write_text_file(directory / kDuoConfigFile, duo_config_text(pattern));
}

DuoPattern parse_duo_pattern(std::string_view gates_text, std::string_view config_text, const ModelShape& shape,
                             const std::string& gates_file, const std::string& config_file) {
  DuoPattern pattern;
  size_t line_number = 0;
  size_t start = 0;
  while (start < gates_text.size()) {
    size_t end = gates_text.find('\n', start);
    if (end == std::string_view::npos) end = gates_text.size();
    const std::string_view line = gates_text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (trimmed(line).empty()) continue;  // NumPy's loadtxt skips blank lines
    if (int64_t(pattern.gates.size()) >= shape.layers)
      check_dimension(gates_file, int64_t(pattern.gates.size()) + 1, "rows or more", shape.layers, "layers", shape);
    std::vector<double>& row = pattern.gates.emplace_back();
    size_t field_start = 0;
    for (int column = 0;; ++column) {
      size_t field_end = line.find('\t', field_start);
      if (field_end == std::string_view::npos) field_end = line.size();
      const std::string_view field = trimmed(line.substr(field_start, field_end - field_start));
      const std::string place = "line " + std::to_string(line_number) + " column " + std::to_string(column + 1);
      double v = 0;
      const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty() || ec != std::errc() || ptr != field.data() + field.size())
        throw Error(gates_file, place + ": '" + std::string(field.substr(0, 40)) + "' is not a number (fields are "
                                "separated by single tabs)");
      if (!std::isfinite(v)) throw Error(gates_file, place + ": the gate is " + std::string(field) + ", not a finite number");
      if (v < -kDuoGateTolerance || v > 1 + kDuoGateTolerance)
        throw Error(gates_file, place + ": the gate " + std::string(field) + " is outside [0, 1] by more than the " +
                                    "0.01 DuoAttention's own files stray (its loader clips to [0, 1])");
      row.push_back(std::clamp(v, 0.0, 1.0));
      if (field_end == line.size()) break;
      field_start = field_end + 1;
    }
    if (int64_t(row.size()) != shape.kv_heads)
      throw Error(gates_file, "line " + std::to_string(line_number) + " has " + std::to_string(row.size()) +
                                  " columns but the model (" + shape.config_file + ") has " +
                                  std::to_string(shape.kv_heads) + " KV heads");
  }
  check_dimension(gates_file, int64_t(pattern.gates.size()), "rows", shape.layers, "layers", shape);

  const nlohmann::json config = parse_json_text(config_text, config_file);
  if (!config.is_object()) throw Error(config_file, "must hold one JSON object, not a list or a value");
  for (const char* key : {"sink_size", "recent_size"})
    if (!config.contains(key)) throw Error(config_file, std::string("\"") + key + "\" is missing (DuoAttention's loader needs it)");
  pattern.sink_size = json_integer(config.at("sink_size"), config_file, "\"sink_size\"");
  pattern.recent_size = json_integer(config.at("recent_size"), config_file, "\"recent_size\"");
  if (pattern.sink_size < 0) throw Error(config_file, "\"sink_size\" is negative");
  if (pattern.recent_size < 1) throw Error(config_file, "\"recent_size\" must be 1 or more");
  pattern.config = nlohmann::ordered_json::parse(config_text.begin(), config_text.end());
  return pattern;
}

DuoPattern read_duo_directory(const std::filesystem::path& directory, const ModelShape& shape) {
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec))
    throw Error(directory.string(), "is not a directory (a DuoAttention pattern is a directory holding " +
                                        std::string(kDuoGatesFile) + " and " + std::string(kDuoConfigFile) + ")");
  const std::filesystem::path gates = directory / kDuoGatesFile;
  const std::filesystem::path config = directory / kDuoConfigFile;
  return parse_duo_pattern(read_text_file(gates), read_text_file(config), shape, gates.string(), config.string());
}

DuoPattern duo_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                            profile::KvReduction reduction) {
  const std::string where = "DuoAttention export";
  if (profile.kv_heads() || profile.layers() != shape.layers || profile.heads() != shape.heads)
    throw Error(where, "the profile has " + std::to_string(profile.layers()) + " layers and " +
                           std::to_string(profile.heads()) + (profile.kv_heads() ? " KV" : " query") +
                           " heads; " + shape.describe());
  DuoPattern pattern;
  pattern.gates.assign(size_t(shape.layers), std::vector<double>(size_t(shape.kv_heads), 0.0));
  const int group = shape.group_size();
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int kv = 0; kv < shape.kv_heads; ++kv) {
      double max = 0, sum = 0;
      for (int h = kv * group; h < (kv + 1) * group; ++h) {
        const auto gate = profile.number(profile::metric::streaming_gate, layer, h);
        if (!gate || !std::isfinite(*gate))
          throw Error(where, head_text(layer, h) + " has no streaming_gate (the profile's streaming probe gives "
                                                   "one to every head; run it with --metrics streaming_gate)");
        max = std::max(max, *gate);
        sum += *gate;
      }
      pattern.gates[size_t(layer)][size_t(kv)] = reduction == profile::KvReduction::Max ? max : sum / double(group);
    }
  return pattern;
}

DuoPattern duo_from_plan(const masks::MaskPlan& plan, const ModelShape& shape) {
  const std::string where = "DuoAttention export";
  if (plan.num_layers() != shape.layers || plan.num_heads() != shape.heads)
    throw Error(where, "the plan has " + std::to_string(plan.num_layers()) + " layers and " +
                           std::to_string(plan.num_heads()) + " heads; " + shape.describe());
  DuoPattern pattern;
  pattern.gates.assign(size_t(shape.layers), std::vector<double>(size_t(shape.kv_heads), 1.0));
  std::optional<masks::StreamingMask> shared;
  const int group = shape.group_size();
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int kv = 0; kv < shape.kv_heads; ++kv) {
      std::optional<bool> streaming;
      for (int h = kv * group; h < (kv + 1) * group; ++h) {
        const auto s = streaming_part(plan.at({layer, h}), {layer, h});
        if (streaming && *streaming != s.has_value())
          throw Error(where, "KV head " + std::to_string(kv) + " of layer " + std::to_string(layer) +
                                 " has dense and streaming query heads; DuoAttention keeps or cuts a KV head's "
                                 "cache for its whole group");
        streaming = s.has_value();
        if (!s) continue;
        if (shared && !(*shared == *s))
          throw Error(where, head_text(layer, h) + " runs " + masks::describe(plan.at({layer, h})) +
                                 " but an earlier streaming head " + masks::describe({*shared, std::nullopt}) +
                                 ": DuoAttention has one sink_size and recent_size for all heads");
        shared = *s;
      }
      pattern.gates[size_t(layer)][size_t(kv)] = *streaming ? 0.0 : 1.0;
    }
  if (shared) {
    pattern.sink_size = shared->sink_tokens;
    pattern.recent_size = int64_t(shared->window.fixed);
  }
  return pattern;
}

std::vector<std::vector<bool>> duo_full_heads(const DuoPattern& pattern, const DuoSelection& selection) {
  std::vector<std::vector<bool>> full;
  std::vector<std::pair<double, size_t>> order;  // (gate, layer-major index)
  for (const auto& row : pattern.gates) {
    full.emplace_back(row.size(), true);
    for (double g : row) order.emplace_back(g, order.size());
  }
  const auto set_streaming = [&](size_t index) {
    for (auto& row : full) {
      if (index < row.size()) {
        row[index] = false;
        return;
      }
      index -= row.size();
    }
  };
  if (selection.threshold) {
    for (const auto& [g, i] : order)
      if (g < *selection.threshold) set_streaming(i);
    return full;
  }
  const double s = selection.sparsity.value_or(0.5);
  if (!std::isfinite(s)) throw Error("DuoAttention", "the sparsity is not a finite number");
  const size_t n = order.size();
  size_t streaming = 0;
  if (s >= 1) streaming = n;
  else if (s > 0 && n > 0) streaming = size_t(std::ceil(double(n - 1) * s - 1e-9));
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < streaming && i < n; ++i) set_streaming(order[i].second);
  return full;
}

masks::MaskPlan duo_to_plan(const DuoPattern& pattern, const ModelShape& shape, const DuoSelection& selection) {
  check_gate_shape(pattern, shape, "DuoAttention pattern");
  const auto full = duo_full_heads(pattern, selection);
  masks::StreamingMask streaming;
  streaming.sink_tokens = pattern.sink_size;
  streaming.window = {double(pattern.recent_size), 0};
  masks::MaskPlan plan(shape.layers, shape.heads, {masks::DenseMask{}, std::nullopt});
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h)
      if (!full[size_t(layer)][size_t(shape.kv_head_of(h))]) plan.set({layer, h}, {streaming, std::nullopt});
  char name[96];
  if (selection.threshold)
    std::snprintf(name, sizeof name, "duo threshold %g s%lld w%lld", *selection.threshold,
                  static_cast<long long>(pattern.sink_size), static_cast<long long>(pattern.recent_size));
  else
    std::snprintf(name, sizeof name, "duo sparsity %g s%lld w%lld", selection.sparsity.value_or(0.5),
                  static_cast<long long>(pattern.sink_size), static_cast<long long>(pattern.recent_size));
  plan.name = name;
  return plan;
}

}  // namespace attnscope::exports
