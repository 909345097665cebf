#include "app/cli/profile_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "analysis/store/run_records.h"
#include "app/cli/text_format.h"
#include "kernels/error.h"

namespace attnscope::cli {
namespace {

namespace metric = profile::metric;

// The per-head keys of --json, in this order (each present when computed).
const std::vector<std::string_view>& json_metrics() {
  static const std::vector<std::string_view> names{
      metric::sink_mass,      metric::local_mass,  metric::entropy,        metric::hidden_sinks,
      metric::retrieval_score, metric::retrieval_reasoning_score, metric::induction_score, metric::echo_score,
      metric::streaming_gate, metric::streaming_change, metric::pattern, metric::density_90, metric::density_95,
      metric::density_99, metric::span_90};
  return names;
}

// Appends `item` to a `separator`-separated list (appended piece by piece: GCC 12 warns
// falsely, -Wrestrict, on "literal" + std::string).
void add_item(std::string& list, std::string_view separator, std::string_view item) {
  if (!list.empty()) list += separator;
  list += item;
}

std::string head_label(int layer, int head) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "L%dH%d", layer, head);
  return buf;
}

struct Ranked {
  int layer, head;
  double value;
};

// Heads by `name`, highest first (lowest with `ascending`), ties by layer then head.
std::vector<Ranked> ranked(const profile::HeadProfile& p, std::string_view name, bool ascending = false) {
  std::vector<Ranked> out;
  for (int l = 0; l < p.layers(); ++l)
    for (int h = 0; h < p.heads(); ++h)
      if (auto v = p.number(name, l, h)) out.push_back({l, h, *v});
  std::stable_sort(out.begin(), out.end(),
                   [&](const Ranked& a, const Ranked& b) { return ascending ? a.value < b.value : a.value > b.value; });
  return out;
}

std::string head_list(const std::vector<Ranked>& heads, size_t top, int digits = 3) {
  std::string out;
  for (size_t i = 0; i < heads.size() && i < top; ++i)
    add_item(out, ", ", head_label(heads[i].layer, heads[i].head) + " " + fixed(heads[i].value, digits));
  return out.empty() ? "none" : out;
}

std::string percent(double share) { return fixed(100 * share, 0) + "%"; }

std::string outcome_text(const profile::AblationOutcome& o) {
  return std::to_string(o.correct) + "/" + std::to_string(o.tests) + " (" + percent(o.accuracy()) + ")";
}

nlohmann::json heads_json(const profile::HeadProfile& p, bool kv) {
  nlohmann::json heads = nlohmann::json::array();
  for (int l = 0; l < p.layers(); ++l)
    for (int h = 0; h < p.heads(); ++h) {
      nlohmann::json head = {{"layer", l}, {kv ? "kv_head" : "head", h}};
      for (std::string_view name : json_metrics())
        if (auto v = p.get(name, l, h))
          head[std::string(name)] = std::holds_alternative<double>(*v) ? number_or_null(std::get<double>(*v))
                                                                       : nlohmann::json(std::get<std::string>(*v));
      heads.push_back(std::move(head));
    }
  return heads;
}

void print_causality(std::ostream& out, const profile::CausalityResult& c) {
  std::string draws;
  for (const auto& r : c.random) add_item(draws, ", ", percent(r.accuracy()));
  std::string top;
  for (const auto& h : c.top.heads) add_item(top, ",", profile::layer_head_name(h));
  out << "causality check (k = " << c.k << "): needle accuracy " << outcome_text(c.baseline) << " with every head;\n"
      << "  top-" << c.k << " retrieval heads masked (" << top << "): " << outcome_text(c.top) << "\n"
      << "  " << c.k << " random other heads masked: " << percent(c.random_accuracy()) << " on average over "
      << c.random.size() << " draws (" << (draws.empty() ? "none" : draws) << ")\n";
}

}  // namespace

std::string head_map(const profile::HeadProfile& p, const std::string& name) {
  bool any = false;
  std::string out = "      ";
  char buf[32];
  for (int h = 0; h < p.heads(); ++h) {
    char label[16];
    std::snprintf(label, sizeof label, "H%d", h);
    std::snprintf(buf, sizeof buf, "%6s", label);
    out += buf;
  }
  out += "\n";
  for (int l = 0; l < p.layers(); ++l) {
    std::snprintf(buf, sizeof buf, "L%-5d", l);
    out += buf;
    for (int h = 0; h < p.heads(); ++h) {
      const auto v = p.get(name, l, h);
      any = any || v.has_value();
      std::string cell = "-";
      if (v) cell = std::holds_alternative<double>(*v) ? fixed(std::get<double>(*v), 2) : std::get<std::string>(*v).substr(0, 4);
      std::snprintf(buf, sizeof buf, "%6s", cell.c_str());
      out += buf;
    }
    out += "\n";
  }
  if (!any) throw Error("--map", "no head has a value for '" + name + "' in this run");
  return out;
}

nlohmann::json profile_json(const profile::ProfileJobResult& r, const ReportContext& context) {
  nlohmann::json out;
  out["run_id"] = r.run ? nlohmann::json(int64_t(*r.run)) : nlohmann::json(nullptr);
  out["status"] = store::status_name(r.status);
  out["database"] = context.database ? nlohmann::json(context.database->string()) : nlohmann::json(nullptr);
  out["model"] = context.model_dir.string();
  out["units_completed"] = r.units_done;
  out["units_planned"] = r.units_total;
  out["seconds"] = context.seconds;
  out["heads"] = heads_json(r.profile, false);
  if (r.kv_profile) out["kv_heads"] = heads_json(*r.kv_profile, true);
  if (r.causality) out["causality"] = r.causality->to_json();
  if (r.streaming)
    out["streaming"] = {{"sink_tokens", r.streaming->window.sink_tokens},
                        {"recent_tokens", r.streaming->window.recent_tokens},
                        {"window_scaled", r.streaming->window.scaled},
                        {"rows", r.streaming->rows}};
  out["hidden_sinks"] = nlohmann::json::array();
  for (const auto& s : r.hidden_sinks)
    out["hidden_sinks"].push_back({{"layer", s.layer}, {"head", s.head}, {"units", s.units}, {"position", s.position},
                                   {"token", s.token_text}, {"share", s.share}});
  out["notes"] = r.notes;
  return out;
}

void print_profile_summary(std::ostream& out, const profile::ProfileJobResult& r, const ReportContext& c) {
  const model::ModelSpec& spec = *c.spec;
  const size_t top = size_t(c.top);
  out << "model: " << c.model_dir.string() << " (" << spec.architecture_name << ", " << spec.num_layers << " layers x "
      << spec.num_heads << " heads, " << spec.num_kv_heads << " KV heads)\n";
  out << (r.run ? "run " + std::to_string(int64_t(*r.run)) + " in " + c.database->string() : std::string("not stored"))
      << ": " << store::status_name(r.status) << ", " << r.units_done << " of " << r.units_total << " units in "
      << fixed(c.seconds, 1) << " s\n\n";
  const profile::HeadProfile& p = r.profile;
  int64_t tests = 0, correct = 0;
  for (const auto& u : r.units)
    if ((u.task == "needle" || u.task == "passkey") && u.outcome.contains("correct"))
      ++tests, correct += u.outcome["correct"].get<bool>() ? 1 : 0;
  if (tests > 0)
    out << "needle accuracy: " << correct << "/" << tests << " (" << percent(double(correct) / double(tests)) << ")\n";
  if (!ranked(p, metric::retrieval_score).empty())
    out << "top retrieval heads (retrieval_score, " << correct << " answered tests): "
        << head_list(ranked(p, metric::retrieval_score), top) << "\n";
  if (!ranked(p, metric::retrieval_reasoning_score).empty())
    out << "top retrieval-reasoning heads: " << head_list(ranked(p, metric::retrieval_reasoning_score), top) << "\n";
  if (r.causality) print_causality(out, *r.causality);

  auto sinks = ranked(p, metric::sink_mass);
  sinks.erase(std::remove_if(sinks.begin(), sinks.end(), [](const Ranked& h) { return h.value <= 0.5; }), sinks.end());
  if (!ranked(p, metric::sink_mass).empty())
    out << "sink heads (sink_mass > 0.5): " << head_list(sinks, sinks.size()) << "\n";
  if (!r.hidden_sinks.empty()) {
    out << "hidden sinks (heads, the strongest key seen, in how many units):";
    for (size_t i = 0; i < r.hidden_sinks.size() && i < top * 2; ++i) {
      const auto& s = r.hidden_sinks[i];
      out << (i ? ";" : "") << " " << head_label(s.layer, s.head) << " key " << s.position << " '"
          << printable(s.token_text) << "' " << fixed(s.share, 2) << " in " << s.units;
    }
    out << (r.hidden_sinks.size() > top * 2 ? "; ..." : "") << "\n";
  }
  if (r.streaming)
    out << "streaming heads (lowest streaming_gate; each head alone on sink " << r.streaming->window.sink_tokens
        << " + recent " << r.streaming->window.recent_tokens << "): "
        << head_list(ranked(p, metric::streaming_gate, true), top) << "\n"
        << "most streaming-sensitive heads: " << head_list(ranked(p, metric::streaming_gate), top) << "\n";
  if (!ranked(p, metric::induction_score).empty())
    out << "induction heads: " << head_list(ranked(p, metric::induction_score), top) << "\n"
        << "echo heads: " << head_list(ranked(p, metric::echo_score), top) << "\n";

  std::map<std::string, int> patterns;
  for (int l = 0; l < p.layers(); ++l)
    for (int h = 0; h < p.heads(); ++h)
      if (auto v = p.get(metric::pattern, l, h)) ++patterns[std::get<std::string>(*v)];
  if (!patterns.empty()) {
    out << "patterns:";
    for (const char* name : {"local", "a_shape", "vertical_slash", "block_sparse", "dense"})
      if (patterns.count(name)) out << " " << name << " " << patterns[name];
    out << "\n";
  }
  const auto names = p.metrics();
  const auto computed = [&](std::string_view name) { return std::find(names.begin(), names.end(), name) != names.end(); };
  std::string map_metric = c.map_metric;
  if (map_metric.empty() && !names.empty())
    map_metric = computed(metric::retrieval_score) ? std::string(metric::retrieval_score)
                 : computed(metric::sink_mass)     ? std::string(metric::sink_mass)
                                                   : names.front();
  if (!map_metric.empty() && computed(map_metric))
    out << "\n" << map_metric << " (layer x head):\n" << head_map(p, map_metric);
  else if (!map_metric.empty())
    out << "\nno head has a value for '" << map_metric << "' (--map) in this run\n";
  for (const auto& note : r.notes) out << "note: " << note << "\n";
}

}  // namespace attnscope::cli
