// Services for MoA's span rules and the profile files of other tools: each head's span
// rule fitted over lengths (analysis/profile/span_rule.h), and DuoAttention, MoA,
// MInference, RazorAttention or our CSV written from per-head values the plugin gives
// (analysis/export), checked against the model's config.json like `attnscope-cli export`.
#include <charconv>
#include <cmath>
#include <map>

#include "analysis/export/duo_attention.h"
#include "analysis/export/format_text.h"
#include "analysis/export/minference_pattern.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/razor_heads.h"
#include "analysis/profile/span_rule.h"
#include "plugins/host/job_context.h"

namespace attnscope::plugins {
namespace {

namespace ex = exports;

std::string head_name(int layer, int head) { return "layer " + std::to_string(layer) + " head " + std::to_string(head); }

attnscope_status fit_span_rules(attnscope_job* job, const attnscope_span_sample* samples, uint64_t sample_count,
                                attnscope_result** out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("fit_span_rules", "out is NULL");
    if (sample_count > 0 && !samples) invalid_argument("fit_span_rules", "sample_count is set but samples is NULL");
    std::map<std::pair<int, int>, std::vector<profile::SpanSample>> per_head;
    for (uint64_t i = 0; i < sample_count; ++i) {
      const attnscope_span_sample& s = samples[i];
      if (s.layer < 0 || s.head < 0)
        invalid_argument("fit_span_rules", "sample " + std::to_string(i) + " has a negative layer or head");
      per_head[{s.layer, s.head}].push_back({s.length, s.span});
    }
    std::vector<store::HeadMetric> values;
    for (const auto& [at, list] : per_head) {
      profile::SpanRule rule;
      try {
        rule = profile::fit_span_rule(list, "fit_span_rules " + head_name(at.first, at.second));
      } catch (const ServiceError&) {
        throw;
      } catch (const Error& e) {
        throw ServiceError(ATTNSCOPE_INVALID_ARGUMENT, "fit_span_rules", e.what());
      }
      values.push_back({at.first, at.second, "span_alpha", rule.alpha});
      values.push_back({at.first, at.second, "span_beta", rule.beta});
      values.push_back({at.first, at.second, "span_samples", double(list.size())});
    }
    *out = new_result(j, values, {{"heads", per_head.size()}, {"samples", sample_count}});
  });
}

// The request's "key=value" options, each known to the format.
std::map<std::string, std::string> export_options(const attnscope_export_request& r, const std::string& format,
                                                  std::initializer_list<std::string> known) {
  const std::string where = "export_profile " + format;
  if (r.option_count > 0 && !r.options) invalid_argument(where, "option_count is set but options is NULL");
  std::map<std::string, std::string> out;
  for (uint32_t i = 0; i < r.option_count; ++i) {
    const std::string option = required_text(r.options[i], where + " option");
    const size_t equals = option.find('=');
    const std::string key = option.substr(0, equals);
    if (equals == std::string::npos || std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      invalid_argument(where, "has no option '" + option + "' (key=value; its options: " + (list.empty() ? "none" : list) + ")");
    }
    out[key] = option.substr(equals + 1);
  }
  return out;
}

double number_option(const std::map<std::string, std::string>& options, const std::string& key, double fallback,
                     double min, double max, const std::string& where) {
  const auto it = options.find(key);
  if (it == options.end()) return fallback;
  double v = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || !(v >= min && v <= max))
    invalid_argument(where, "option " + key + " must be a number from " + ex::python_number(min) + " to " +
                                ex::python_number(max) + ", not '" + it->second + "'");
  return v;
}

std::pair<int64_t, int64_t> pair_option(const std::map<std::string, std::string>& options, const std::string& key,
                                        std::pair<int64_t, int64_t> fallback, const std::string& where) {
  const auto it = options.find(key);
  if (it == options.end()) return fallback;
  const std::string& text = it->second;
  const size_t comma = text.find(',');
  std::pair<int64_t, int64_t> v{-1, -1};
  if (comma != std::string::npos) {
    const auto a = std::from_chars(text.data(), text.data() + comma, v.first);
    const auto b = std::from_chars(text.data() + comma + 1, text.data() + text.size(), v.second);
    if (a.ptr != text.data() + comma || b.ptr != text.data() + text.size()) v = {-1, -1};
  }
  if (v.first < 0 || v.second < 0) invalid_argument(where, "option " + key + " takes two token counts V,S, not '" + text + "'");
  return v;
}

// The values as a profile of the model's shape; ATTNSCOPE_INVALID_ARGUMENT for a head
// outside it.
profile::HeadProfile values_profile(const attnscope_export_request& r, const ex::ModelShape& shape, const std::string& where) {
  if (r.value_count > 0 && !r.values) invalid_argument(where, "value_count is set but values is NULL");
  profile::HeadProfile heads(shape.layers, shape.heads);
  for (uint64_t i = 0; i < r.value_count; ++i) {
    const attnscope_head_value& v = r.values[i];
    const std::string metric = required_text(v.metric, where + " value " + std::to_string(i) + " metric");
    if (v.layer < 0 || v.layer >= shape.layers || v.head < 0 || v.head >= shape.heads)
      invalid_argument(where, "value " + std::to_string(i) + " is for " + head_name(v.layer, v.head) + ", outside " +
                                  shape.describe());
    if (v.text) heads.set(metric, v.layer, v.head, std::string(v.text));
    else if (std::isfinite(v.value)) heads.set(metric, v.layer, v.head, v.value);
  }
  return heads;
}

// Each head's number of `metric`; ATTNSCOPE_INVALID_ARGUMENT naming the first head without one.
std::vector<std::vector<double>> every_head(const profile::HeadProfile& heads, std::string_view metric,
                                            const std::string& where) {
  std::vector<std::vector<double>> out(size_t(heads.layers()), std::vector<double>(size_t(heads.heads())));
  for (int layer = 0; layer < heads.layers(); ++layer)
    for (int head = 0; head < heads.heads(); ++head) {
      const auto v = heads.number(metric, layer, head);
      if (!v) invalid_argument(where, "needs " + std::string(metric) + " of every head; " + head_name(layer, head) + " has none");
      out[size_t(layer)][size_t(head)] = *v;
    }
  return out;
}

// The format's files as (name in the output folder, text), checked whole before any is written.
std::vector<std::pair<std::string, std::string>> export_texts(const attnscope_export_request& r, const std::string& format,
                                                              const std::string& name, const ex::ModelShape& shape) {
  const std::string where = "export_profile " + format;
  const profile::HeadProfile heads = values_profile(r, shape, where);
  // The exporters' own errors name a head or a value: a bad argument of this call.
  try {
    if (format == "moa") {
      export_options(r, format, {});
      ex::MoaRules rules{every_head(heads, "span_alpha", where), every_head(heads, "span_beta", where)};
      return {{name, ex::moa_text(rules, shape)}};
    }
    if (format == "duo") {
      const auto options = export_options(r, format, {"kv_reduction", "sink", "recent"});
      const std::string reduction = options.count("kv_reduction") ? options.at("kv_reduction") : "max";
      if (reduction != "max" && reduction != "mean")
        invalid_argument(where, "option kv_reduction is max or mean, not '" + reduction + "'");
      ex::DuoPattern p = ex::duo_from_profile(heads, shape, reduction == "max" ? profile::KvReduction::Max
                                                                               : profile::KvReduction::Mean);
      p.sink_size = int64_t(number_option(options, "sink", double(p.sink_size), 0, 1e12, where));
      p.recent_size = int64_t(number_option(options, "recent", double(p.recent_size), 1, 1e12, where));
      p.config["model_name"] = shape.name;
      p.config["kv_reduction"] = reduction;
      return {{name + "/" + std::string(ex::kDuoGatesFile), ex::duo_gates_text(p, shape)},
              {name + "/" + std::string(ex::kDuoConfigFile), ex::duo_config_text(p)}};
    }
    if (format == "minference") {
      const auto options = export_options(r, format, {"stream", "vertical_slash"});
      ex::MinferenceProfileOptions o;
      o.stream = pair_option(options, "stream", o.stream, where);
      o.vertical_slash = pair_option(options, "vertical_slash", o.vertical_slash, where);
      return {{name, ex::minference_text(ex::minference_from_profile(heads, shape, o), shape)}};
    }
    if (format == "razor") {
      const auto options = export_options(r, format, {"echo_ratio", "induction_ratio"});
      ex::RazorSelection s;
      s.echo_ratio = number_option(options, "echo_ratio", s.echo_ratio, 0, 1, where);
      s.induction_ratio = number_option(options, "induction_ratio", s.induction_ratio, 0, 1, where);
      return {{name, ex::razor_text(ex::razor_from_profile(heads, shape, s), shape)}};
    }
    if (format == "csv") {
      export_options(r, format, {});
      return {{name, ex::profile_csv_text(heads, shape)}};
    }
  } catch (const ServiceError&) {
    throw;
  } catch (const Error& e) {
    throw ServiceError(ATTNSCOPE_INVALID_ARGUMENT, where, e.what());
  }
  invalid_argument("export_profile", "format '" + format + "' is none of moa, duo, minference, razor, csv");
}

attnscope_status export_profile(attnscope_job* job, attnscope_model* model, const attnscope_export_request* request) {
  return guarded(job, [&](attnscope_job& j) {
    const attnscope_model& m = owned(j.models, model, "model");
    if (!request) invalid_argument("export_profile", "request is NULL");
    const std::string format = required_text(request->format, "export_profile format");
    const std::string name = required_text(request->name, "export_profile name");
    const ex::ModelShape shape = ex::read_model_shape(m.path);
    const auto texts = export_texts(*request, format, name, shape);
    std::vector<std::filesystem::path> paths;
    for (const auto& [file, text] : texts) paths.push_back(output_file(j, file));  // every name checked first
    for (size_t i = 0; i < texts.size(); ++i) {
      write_whole_file(paths[i], texts[i].second.data(), texts[i].second.size());
      add_output_file(j, paths[i]);
    }
  });
}

}  // namespace

void add_export_services(attnscope_host_services& t) {
  t.fit_span_rules = fit_span_rules;
  t.export_profile = export_profile;
}

}  // namespace attnscope::plugins
