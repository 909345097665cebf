#include "plugins/host/job_parameters.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"

namespace attnscope::plugins {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// "512", "-3", "4k" (x1024).
int64_t parse_int(std::string_view text, const std::string& where) {
  std::string_view digits = trimmed(text);
  int64_t scale = 1;
  if (!digits.empty() && (digits.back() == 'k' || digits.back() == 'K')) {
    scale = 1024;
    digits.remove_suffix(1);
  }
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      (scale > 1 && (v > std::numeric_limits<int64_t>::max() / scale || v < std::numeric_limits<int64_t>::min() / scale)))
    throw Error(where, "'" + std::string(text) + "' is not an integer (decimal, optionally with k for x1024, e.g. 512 or 4k)");
  return v * scale;
}

double parse_float(std::string_view text, const std::string& where) {
  const std::string_view t = trimmed(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v))
    throw Error(where, "'" + std::string(text) + "' is not a finite number (e.g. 0.5 or 1e-3)");
  return v;
}

bool parse_bool(std::string_view text, const std::string& where) {
  const std::string t = lower(trimmed(text));
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  throw Error(where, "'" + std::string(text) + "' is not a bool (true/false, yes/no, on/off, 1/0)");
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  if (trimmed(text).empty()) return items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.push_back(trimmed(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

// Text values end up in the store's JSON and on screen: UTF-8 only (a stray byte would
// fail the run's record later, far from its cause).
std::string utf8_text(std::string_view text, const std::string& where) {
  if (!tokenizer::utf8::is_valid(text))
    throw Error(where, "the value is not UTF-8 text (" + std::to_string(text.size()) + " bytes)");
  return std::string(text);
}

nlohmann::json value_json(const ParameterValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

}  // namespace

ParameterValue parse_parameter_value(const ParameterInfo& parameter, std::string_view text, const std::string& where) {
  switch (parameter.type) {
    case ParamType::Int: return parse_int(text, where);
    case ParamType::Float: return parse_float(text, where);
    case ParamType::String: return utf8_text(text, where);
    case ParamType::Bool: return parse_bool(text, where);
    case ParamType::List: break;
  }
  const std::vector<std::string_view> items = split_list(text);
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].empty() && parameter.element_type != ParamType::String)
      throw Error(where, "'" + std::string(text) + "' has an empty element " + std::to_string(i + 1) +
                             " (a list is comma-separated, e.g. 1,2,3)");
  switch (parameter.element_type.value_or(ParamType::String)) {
    case ParamType::Int: {
      std::vector<int64_t> out;
      for (std::string_view item : items) out.push_back(parse_int(item, where));
      return out;
    }
    case ParamType::Float: {
      std::vector<double> out;
      for (std::string_view item : items) out.push_back(parse_float(item, where));
      return out;
    }
    default: {
      std::vector<std::string> out;
      for (std::string_view item : items) out.push_back(utf8_text(item, where));
      return out;
    }
  }
}

JobParameters JobParameters::parse(const std::string& job_name, const JobInfo& job,
                                   std::span<const std::string> assignments) {
  JobParameters out;
  for (const std::string& assignment : assignments) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(job_name, "parameter '" + assignment + "' is not name=value");
    const std::string name = assignment.substr(0, eq);
    const ParameterInfo* p = job.find_parameter(name);
    if (!p) {
      std::string known;
      for (const ParameterInfo& q : job.parameters) known += (known.empty() ? "" : ", ") + q.name;
      throw Error(job_name, "has no parameter '" + name + "' (its parameters: " + (known.empty() ? "none" : known) + ")");
    }
    if (out.values_.count(name)) throw Error(job_name, "parameter '" + name + "' is given twice");
    out.values_.emplace(name, parse_parameter_value(*p, std::string_view(assignment).substr(eq + 1),
                                                    job_name + " parameter '" + name + "' (" + p->type_text() + ")"));
  }
  for (const ParameterInfo& p : job.parameters) {
    if (out.values_.count(p.name)) continue;
    if (!p.default_text)
      throw Error(job_name, "needs parameter '" + p.name + "' (" + p.type_text() + (p.help.empty() ? "" : ": " + p.help) +
                                "); give it as --param " + p.name + "=VALUE");
    out.values_.emplace(p.name, parse_parameter_value(p, *p.default_text, job_name + " default of '" + p.name + "'"));
  }
  return out;
}

const ParameterValue* JobParameters::find(std::string_view name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

nlohmann::json JobParameters::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : values_) out[name] = value_json(value);
  return out;
}

std::vector<std::string> parameter_differences(const nlohmann::json& before, const nlohmann::json& now) {
  std::vector<std::string> out;
  std::vector<std::string> names;
  for (const auto& [name, v] : before.items()) names.push_back(name);
  for (const auto& [name, v] : now.items())
    if (!before.contains(name)) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const nlohmann::json a = before.contains(name) ? before[name] : nlohmann::json("(none)");
    const nlohmann::json b = now.contains(name) ? now[name] : nlohmann::json("(none)");
    if (a != b) out.push_back(name + ": " + a.dump() + " (before) vs " + b.dump() + " (now)");
  }
  return out;
}

}  // namespace attnscope::plugins
