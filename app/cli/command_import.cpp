// attnscope-cli import: a DuoAttention, MoA, MInference, Retrieval_Head / HeadKV or
// RazorAttention file (or our own profile JSON / CSV) checked against a model's
// config.json and turned into a mask plan the mask lab evaluates (--out PLAN; `masks
// eval --plan PLAN`). Prints what the file holds and the plan's heads.
#include <cstdio>
#include <iostream>
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/export/duo_attention.h"
#include "analysis/export/format_text.h"
#include "analysis/export/minference_pattern.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/razor_heads.h"
#include "analysis/export/retrieval_head_scores.h"
#include "analysis/masks/mask_plan.h"
#include "app/cli/commands.h"
#include "app/cli/profile_formats.h"
#include "kernels/error.h"

namespace attnscope::cli {
namespace {

namespace ex = exports;

const std::set<std::string> kValueOptions = {"format", "model", "out", "sparsity", "threshold", "rule", "top",
                                             "base-capacity", "beta", "temperature", "sink", "local", "plan-as"};
const std::set<std::string> kSwitches = {"json"};

struct Imported {
  std::optional<masks::MaskPlan> plan;
  nlohmann::json details = nlohmann::json::object();  // what the file holds
};

ex::DuoSelection duo_selection(const Arguments& args) {
  ex::DuoSelection s;
  if (args.has("threshold")) {
    if (args.has("sparsity")) throw UsageError("give --sparsity or --threshold, not both");
    s.threshold = number_or(args, "threshold", 0.5, 0, 1);
  } else {
    s.sparsity = number_or(args, "sparsity", 0.5, 0, 1);
  }
  return s;
}

ex::RazorDeployment razor_deployment(const Arguments& args) {
  ex::RazorDeployment d;
  d.sink_tokens = args.integer_or("sink", d.sink_tokens, 0, int64_t(1) << 40);
  d.local_tokens = args.integer_or("local", d.local_tokens, 1, int64_t(1) << 40);
  return d;
}

Imported import_duo(const std::filesystem::path& file, const ex::ModelShape& shape, const Arguments& args) {
  const ex::DuoPattern p = ex::read_duo_directory(file, shape);
  const ex::DuoSelection selection = duo_selection(args);
  int64_t full = 0;
  for (const auto& row : ex::duo_full_heads(p, selection))
    for (bool f : row) full += f ? 1 : 0;
  Imported out{ex::duo_to_plan(p, shape, selection), {}};
  out.details = {{"sink_size", p.sink_size}, {"recent_size", p.recent_size}, {"full_kv_heads", full},
                 {"kv_heads", int64_t(shape.layers) * shape.kv_heads}};
  if (selection.threshold) out.details["threshold"] = *selection.threshold;
  else out.details["sparsity"] = *selection.sparsity;
  return out;
}

Imported import_retrieval_head(const std::string& text, const std::string& file, const ex::ModelShape& shape,
                               const Arguments& args) {
  const ex::RetrievalHeadScores scores = ex::parse_retrieval_head(text, shape, file);
  ex::RetrievalPlanOptions o;
  const std::string rule = args.value_or("rule", "headkv");
  if (rule == "top-dense") o.rule = ex::RetrievalPlanOptions::Rule::TopDense;
  else if (rule != "headkv") throw UsageError("--rule is headkv or top-dense, not '" + rule + "'");
  o.top_heads = int(args.integer_or("top", 0, 0, int64_t(shape.layers) * shape.heads));
  o.base_capacity = args.integer_or("base-capacity", o.base_capacity, 2, int64_t(1) << 40);
  o.beta = number_or(args, "beta", o.beta, 1, 1e9);
  o.temperature = number_or(args, "temperature", o.temperature, 1e-9, 1e9);
  o.sink_tokens = args.integer_or("sink", o.sink_tokens, 0, int64_t(1) << 40);
  o.recent_tokens = args.integer_or("local", o.recent_tokens, 1, int64_t(1) << 40);
  Imported out{ex::retrieval_head_to_plan(scores, shape, o), {}};
  std::vector<std::pair<double, std::string>> ranked;
  size_t fewest = SIZE_MAX, most = 0;
  for (int l = 0; l < shape.layers; ++l)
    for (int h = 0; h < shape.heads; ++h) {
      ranked.emplace_back(scores.mean(l, h), std::to_string(l) + "-" + std::to_string(h));
      fewest = std::min(fewest, scores.at(l, h).size());
      most = std::max(most, scores.at(l, h).size());
    }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < ranked.size() && i < 5; ++i) top.push_back({{"head", ranked[i].second}, {"mean", ranked[i].first}});
  out.details = {{"tests_per_head", {fewest, most}}, {"top_heads", top}, {"rule", rule}};
  return out;
}

Imported import_profile(const profile::HeadProfile& heads, const ex::ModelShape& shape, const Arguments& args) {
  Imported out;
  out.details["metrics"] = heads.metrics();
  const auto as = args.value("plan-as");
  if (!as) return out;
  if (*as == "duo") out.plan = ex::duo_to_plan(ex::duo_from_profile(heads, shape), shape, duo_selection(args));
  else if (*as == "razor") out.plan = ex::razor_to_plan(ex::razor_from_profile(heads, shape), shape, razor_deployment(args));
  else if (*as == "minference") out.plan = ex::minference_to_plan(ex::minference_from_profile(heads, shape), shape);
  else throw UsageError("--plan-as is duo, razor or minference, not '" + *as + "'");
  out.details["plan_as"] = *as;
  return out;
}

Imported import_file(ProfileFormat format, const std::filesystem::path& file, const ex::ModelShape& shape,
                     const Arguments& args) {
  if (format == ProfileFormat::Duo) return import_duo(file, shape, args);
  const std::string text = ex::read_text_file(file);
  const std::string name = file.string();
  switch (format) {
    case ProfileFormat::Moa: {
      const ex::MoaRules rules = ex::parse_moa(text, shape, name);
      std::set<std::pair<double, double>> distinct;
      for (int l = 0; l < shape.layers; ++l)
        for (int h = 0; h < shape.heads; ++h) distinct.insert({rules.alphas[size_t(l)][size_t(h)], rules.betas[size_t(l)][size_t(h)]});
      return {ex::moa_to_plan(rules, shape), {{"distinct_rules", distinct.size()}}};
    }
    case ProfileFormat::Minference: {
      const ex::MinferencePattern p = ex::parse_minference(text, shape, name);
      std::map<std::string, int64_t> types;
      for (const auto& layer : p)
        for (const auto& head : layer) ++types[std::string(ex::minference_type_name(head.type))];
      return {ex::minference_to_plan(p, shape), {{"types", types}}};
    }
    case ProfileFormat::RetrievalHead: return import_retrieval_head(text, name, shape, args);
    case ProfileFormat::Razor: {
      const ex::RazorHeads heads = ex::parse_razor(text, shape, name);
      int64_t listed = 0;
      for (const auto& [layer, list] : heads) listed += int64_t(list.size());
      return {ex::razor_to_plan(heads, shape, razor_deployment(args)), {{"retrieval_kv_heads", listed}}};
    }
    case ProfileFormat::Json: return import_profile(ex::parse_profile_json(text, shape, name).heads, shape, args);
    case ProfileFormat::Csv: return import_profile(ex::parse_profile_csv(text, shape, name), shape, args);
    case ProfileFormat::Duo: break;
  }
  return {};
}

// Heads per described mask, most common first.
std::vector<std::pair<std::string, int64_t>> plan_heads(const masks::MaskPlan& plan) {
  std::map<std::string, int64_t> counts;
  for (int l = 0; l < plan.num_layers(); ++l)
    for (int h = 0; h < plan.num_heads(); ++h) ++counts[masks::describe(plan.at({l, h}))];
  std::vector<std::pair<std::string, int64_t>> out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace

int run_import(const std::vector<std::string>& raw_args) {
  std::vector<std::string> raw = raw_args;
  const std::vector<std::string> words =
      take_words(raw, std::vector<std::string>(kValueOptions.begin(), kValueOptions.end()));
  const Arguments args(raw, kValueOptions, kSwitches);
  const ProfileFormat format = profile_format(args);
  if (words.size() != 1) throw UsageError("import takes one FILE (a directory for --format duo)");
  const auto model = args.value("model");
  if (!model) throw UsageError("--model DIR is needed: the file is checked against the model's config.json");
  const ex::ModelShape shape = ex::read_model_shape(*model);
  const std::filesystem::path file = words.front();
  Imported imported = [&] {
    try {
      return import_file(format, file, shape, args);
    } catch (const Error& e) {
      throw naming_file(e, file.string());  // checks of a MoA rule or HeadKV's scores name the head
    }
  }();
  const auto out = args.value("out");
  if (out && !imported.plan)
    throw UsageError("a profile becomes a plan with --plan-as duo, razor or minference");
  if (imported.plan) imported.plan->name = format_name(format) + " " + file.filename().string();
  if (out) masks::write_plan_file(*imported.plan, *out);

  if (args.flag("json")) {
    nlohmann::json j = {{"format", format_name(format)},
                        {"file", file.string()},
                        {"model", {{"name", shape.name}, {"config", shape.config_file}, {"num_layers", shape.layers},
                                   {"num_heads", shape.heads}, {"num_kv_heads", shape.kv_heads}}},
                        {"details", imported.details},
                        {"plan", out ? nlohmann::json(*out) : nlohmann::json(nullptr)}};
    if (imported.plan) {
      nlohmann::json heads = nlohmann::json::array();
      for (const auto& [mask, n] : plan_heads(*imported.plan)) heads.push_back({{"mask", mask}, {"heads", n}});
      j["plan_heads"] = heads;
    }
    std::cout << j.dump(1) << "\n";
    return 0;
  }
  std::printf("%s file %s fits %s\n", format_name(format).c_str(), file.string().c_str(), shape.describe().c_str());
  for (const auto& [key, value] : imported.details.items()) std::printf("  %s: %s\n", key.c_str(), value.dump().c_str());
  if (imported.plan) {
    std::printf("plan '%s':\n", imported.plan->name.c_str());
    for (const auto& [mask, n] : plan_heads(*imported.plan))
      std::printf("  %5lld heads  %s\n", static_cast<long long>(n), mask.c_str());
  }
  if (out) std::printf("wrote %s (evaluate it: attnscope-cli masks eval --plan %s)\n", out->c_str(), out->c_str());
  return 0;
}

}  // namespace attnscope::cli
