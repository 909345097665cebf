#include "analysis/export/moa_plan_file.h"

#include <cmath>
#include <algorithm>

#include "analysis/export/format_text.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

std::string head_text(int layer, int head) {
  return "layer " + std::to_string(layer) + " head " + std::to_string(head);
}

void check_rules(const MoaRules& rules, const ModelShape& shape, const std::string& where) {
  for (const auto* table : {&rules.alphas, &rules.betas}) {
    check_dimension(where, int64_t(table->size()), "layers", shape.layers, "layers", shape);
    for (const auto& row : *table)
      check_dimension(where, int64_t(row.size()), "heads in a layer", shape.heads, "query heads", shape);
  }
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const double a = rules.alphas[size_t(layer)][size_t(h)], b = rules.betas[size_t(layer)][size_t(h)];
      if (!std::isfinite(a) || !std::isfinite(b))
        throw Error(where, head_text(layer, h) + ": alpha and beta must be finite numbers");
      if (b < 0 || b > 1)
        throw Error(where, head_text(layer, h) + ": beta " + nlohmann::json(b).dump() + " is outside [0, 1]");
    }
}

}  // namespace

std::string moa_text(const MoaRules& rules, const ModelShape& shape) {
  check_rules(rules, shape, "MoA plan");
  nlohmann::ordered_json doc;
  doc["alphas"] = rules.alphas;
  doc["betas"] = rules.betas;
  return python_json(doc);
}

MoaRules parse_moa(std::string_view text, const ModelShape& shape, const std::string& file) {
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_object()) throw Error(file, "must hold a JSON object with \"alphas\" and \"betas\"");
  MoaRules rules;
  for (const char* key : {"alphas", "betas"}) {
    if (!doc.contains(key)) throw Error(file, std::string("\"") + key + "\" is missing");
    const std::string name = std::string("\"") + key + "\"";
    const nlohmann::json& layers = json_list(doc.at(key), file, name);
    check_dimension(file, int64_t(layers.size()), name + " lists", shape.layers, "layers", shape);
    auto& table = key[0] == 'a' ? rules.alphas : rules.betas;
    for (size_t layer = 0; layer < layers.size(); ++layer) {
      const std::string row_name = name + "[" + std::to_string(layer) + "]";
      const nlohmann::json& row = json_list(layers[layer], file, row_name);
      check_dimension(file, int64_t(row.size()), row_name + " values", shape.heads, "query heads", shape);
      auto& out = table.emplace_back();
      for (size_t h = 0; h < row.size(); ++h)
        out.push_back(json_number(row[h], file, row_name + "[" + std::to_string(h) + "]"));
    }
  }
  check_rules(rules, shape, file);
  return rules;
}

MoaRules moa_from_plan(const masks::MaskPlan& plan, const ModelShape& shape) {
  const std::string where = "MoA export";
  if (plan.num_layers() != shape.layers || plan.num_heads() != shape.heads)
    throw Error(where, "the plan has " + std::to_string(plan.num_layers()) + " layers and " +
                           std::to_string(plan.num_heads()) + " heads; " + shape.describe());
  MoaRules rules;
  rules.alphas.assign(size_t(shape.layers), std::vector<double>(size_t(shape.heads), 0.0));
  rules.betas = rules.alphas;
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const masks::HeadMask& mask = plan.at({layer, h});
      double& alpha = rules.alphas[size_t(layer)][size_t(h)];
      double& beta = rules.betas[size_t(layer)][size_t(h)];
      if (std::holds_alternative<masks::DenseMask>(mask.family)) {
        beta = 1;
        continue;
      }
      const auto* s = std::get_if<masks::StreamingMask>(&mask.family);
      if (s == nullptr || mask.density)
        throw Error(where, head_text(layer, h) + " runs " + masks::describe(mask) +
                               ": a MoA plan holds only spans (streaming heads with a fixed window in tokens, "
                               "optionally growing per token, or dense heads)");
      alpha = s->window.fixed + double(s->sink_tokens);
      beta = s->window.per_token;
    }
  check_rules(rules, shape, where);
  return rules;
}

masks::MaskPlan moa_to_plan(const MoaRules& rules, const ModelShape& shape) {
  check_rules(rules, shape, "MoA plan");
  masks::MaskPlan plan(shape.layers, shape.heads, {masks::DenseMask{}, std::nullopt});
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const double alpha = rules.alphas[size_t(layer)][size_t(h)], beta = rules.betas[size_t(layer)][size_t(h)];
      if (beta == 0 && alpha < double(kMoaSinkTokens) + 1)
        throw Error("MoA plan", head_text(layer, h) + ": alpha " + nlohmann::json(alpha).dump() +
                                    " with beta 0 leaves no recent window past MoA's 64-token sink");
      masks::StreamingMask m;
      m.sink_tokens = kMoaSinkTokens;
      m.window = {alpha - double(kMoaSinkTokens), beta};
      plan.set({layer, h}, {m, std::nullopt});
    }
  plan.name = "moa";
  return plan;
}

MoaRules moa_from_span_samples(const std::vector<std::vector<profile::SpanSample>>& samples, const ModelShape& shape) {
  check_dimension("MoA export", int64_t(samples.size()), "heads with spans", int64_t(shape.layers) * shape.heads,
                  "layers x query heads", shape);
  bool any = false;
  double shortest = 0, longest = 0;
  for (const auto& head : samples)
    for (const profile::SpanSample& s : head) {
      shortest = any ? std::min(shortest, s.length) : s.length;
      longest = any ? std::max(longest, s.length) : s.length;
      any = true;
    }
  if (const std::string problem = profile::span_lengths_problem(shortest, longest, any); !problem.empty())
    throw Error("MoA export", problem + ": profile with --lengths of several sizes (e.g. 2k,4k,8k), or give --run once per length");
  MoaRules rules;
  rules.alphas.assign(size_t(shape.layers), std::vector<double>(size_t(shape.heads), 0.0));
  rules.betas = rules.alphas;
  for (int layer = 0; layer < shape.layers; ++layer)
    for (int h = 0; h < shape.heads; ++h) {
      const profile::SpanRule rule =
          profile::fit_span_rule(samples[size_t(layer) * size_t(shape.heads) + size_t(h)], "MoA export: " + head_text(layer, h));
      // A head that needs less than MoA's smallest cache (kMoaMinimumSpan) gets it, as MoA
      // itself would, so that the file always imports (moa_to_plan).
      rules.betas[size_t(layer)][size_t(h)] = rule.beta;
      rules.alphas[size_t(layer)][size_t(h)] = rule.beta == 0 ? std::max(rule.alpha, double(kMoaMinimumSpan)) : rule.alpha;
    }
  return rules;
}

}  // namespace attnscope::exports
