#include "analysis/export/razor_heads.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "analysis/export/format_text.h"
#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

void check_heads(const RazorHeads& heads, const ModelShape& shape, const std::string& where) {
  for (const auto& [layer, list] : heads) {
    if (layer < 0 || layer >= shape.layers)
      throw Error(where, "layer " + std::to_string(layer) + " is outside the model's " + std::to_string(shape.layers) +
                             " layers (" + shape.describe() + ")");
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i] < 0 || list[i] >= shape.kv_heads)
        throw Error(where, "layer " + std::to_string(layer) + ": KV head " + std::to_string(list[i]) +
                               " is outside the model's " + std::to_string(shape.kv_heads) + " KV heads (" +
                               shape.describe() + ")");
      if (i > 0 && list[i] <= list[i - 1])
        throw Error(where, "layer " + std::to_string(layer) + ": the KV heads are not ascending and unique");
    }
  }
}

// Python's round(): to the nearest integer, halves to the even one.
int64_t python_round(double x) { return int64_t(std::nearbyint(x)); }

// golden-stick's _select_top_heads over a [layer][KV head] table.
std::set<std::pair<int, int>> top_heads(const std::vector<std::vector<double>>& table, double ratio) {
  std::vector<double> values;
  for (const auto& row : table) values.insert(values.end(), row.begin(), row.end());
  std::sort(values.begin(), values.end(), std::greater<>());
  const int64_t k = std::clamp<int64_t>(python_round(double(values.size()) * ratio), 0, int64_t(values.size()));
  std::set<std::pair<int, int>> out;
  if (k == 0) return out;
  const double cut = values[size_t(k - 1)];  // a value is "among the top k" when >= the k-th largest
  for (size_t layer = 0; layer < table.size(); ++layer)
    for (size_t kv = 0; kv < table[layer].size(); ++kv)
      if (table[layer][kv] >= cut) out.insert({int(layer), int(kv)});
  return out;
}

}  // namespace

std::string razor_text(const RazorHeads& heads, const ModelShape& shape) {
  check_heads(heads, shape, "RazorAttention heads");
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (const auto& [layer, list] : heads)
    if (!list.empty()) doc[std::to_string(layer)] = list;
  return python_json(doc, 3);
}

RazorHeads parse_razor(std::string_view text, const ModelShape& shape, const std::string& file) {
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_object()) throw Error(file, "must hold one JSON object of layers, not " + io::json_kind(doc));
  RazorHeads heads;
  for (const auto& [key, value] : doc.items()) {
    const auto layer = parse_index(key, shape.layers);
    if (!layer)
      throw Error(file, "the key \"" + key.substr(0, 40) + "\" is not a layer of the model (\"0\" to \"" +
                            std::to_string(shape.layers - 1) + "\"; " + shape.describe() + ")");
    const std::string where = "layer \"" + key + "\"";
    const nlohmann::json& list = json_list(value, file, where);
    std::vector<int> kv_heads;
    for (size_t i = 0; i < list.size(); ++i) {
      const int64_t kv = json_integer(list[i], file, where + "[" + std::to_string(i) + "]");
      if (kv < 0 || kv >= shape.kv_heads)
        throw Error(file, where + ": KV head " + std::to_string(kv) + " is outside the model's " +
                              std::to_string(shape.kv_heads) + " KV heads (" + shape.describe() + ")");
      if (std::find(kv_heads.begin(), kv_heads.end(), int(kv)) != kv_heads.end())
        throw Error(file, where + ": KV head " + std::to_string(kv) + " is listed twice");
      kv_heads.push_back(int(kv));
    }
    std::sort(kv_heads.begin(), kv_heads.end());
    if (!kv_heads.empty()) heads[*layer] = std::move(kv_heads);
  }
  return heads;
}

RazorHeads razor_from_profile(const profile::HeadProfile& profile, const ModelShape& shape,
                              const RazorSelection& selection) {
  const std::string where = "RazorAttention export";
  if (profile.kv_heads() || profile.layers() != shape.layers || profile.heads() != shape.heads)
    throw Error(where, "the profile has " + std::to_string(profile.layers()) + " layers and " +
                           std::to_string(profile.heads()) + " heads; " + shape.describe());
  for (double r : {selection.echo_ratio, selection.induction_ratio})
    if (!(r >= 0 && r <= 1)) throw Error(where, "the echo and induction ratios must be in [0, 1]");
  RazorHeads heads;
  std::set<std::pair<int, int>> chosen;
  for (std::string_view name : {profile::metric::echo_score, profile::metric::induction_score}) {
    std::vector<std::vector<double>> table(size_t(shape.layers), std::vector<double>(size_t(shape.kv_heads), 0.0));
    for (int layer = 0; layer < shape.layers; ++layer)
      for (int h = 0; h < shape.heads; ++h) {
        const auto v = profile.number(name, layer, h);
        if (!v || !std::isfinite(*v))
          throw Error(where, "layer " + std::to_string(layer) + " head " + std::to_string(h) + " has no " +
                                 std::string(name) + " (the profile's repeat task gives it: --task repeat)");
        double& cell = table[size_t(layer)][size_t(shape.kv_head_of(h))];
        cell = h % shape.group_size() == 0 ? *v : std::max(cell, *v);
      }
    const double ratio = name == profile::metric::echo_score ? selection.echo_ratio : selection.induction_ratio;
    const auto top = top_heads(table, ratio);
    chosen.insert(top.begin(), top.end());
  }
  for (const auto& [layer, kv] : chosen) heads[layer].push_back(kv);  // set order: ascending
  return heads;
}

masks::MaskPlan razor_to_plan(const RazorHeads& heads, const ModelShape& shape, const RazorDeployment& deployment) {
  check_heads(heads, shape, "RazorAttention heads");
  masks::StreamingMask streaming;
  streaming.sink_tokens = deployment.sink_tokens;
  streaming.window = {double(deployment.local_tokens), 0};
  masks::MaskPlan plan(shape.layers, shape.heads, {streaming, std::nullopt});
  for (const auto& [layer, list] : heads)
    for (int kv : list)
      for (int h = kv * shape.group_size(); h < (kv + 1) * shape.group_size(); ++h)
        plan.set({layer, h}, {masks::DenseMask{}, std::nullopt});
  plan.name = "razor sink " + std::to_string(deployment.sink_tokens) + " local " + std::to_string(deployment.local_tokens);
  return plan;
}

}  // namespace attnscope::exports
