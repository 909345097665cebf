#include "app/cli/profile_formats.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace attnscope::cli {
namespace {

const std::vector<std::pair<ProfileFormat, std::string>>& formats() {
  static const std::vector<std::pair<ProfileFormat, std::string>> list{
      {ProfileFormat::Duo, "duo"},   {ProfileFormat::Moa, "moa"},     {ProfileFormat::Minference, "minference"},
      {ProfileFormat::RetrievalHead, "retrieval-head"}, {ProfileFormat::Razor, "razor"},
      {ProfileFormat::Json, "json"}, {ProfileFormat::Csv, "csv"}};
  return list;
}

}  // namespace

ProfileFormat profile_format(const Arguments& args) {
  const auto name = args.value("format");
  if (!name) throw UsageError("--format is needed: duo, moa, minference, retrieval-head, razor, json or csv");
  for (const auto& [format, known] : formats())
    if (*name == known) return format;
  throw UsageError("--format '" + *name + "' is not one of duo, moa, minference, retrieval-head, razor, json, csv");
}

std::string format_name(ProfileFormat format) {
  for (const auto& [f, name] : formats())
    if (f == format) return name;
  return "?";
}

std::vector<std::string> take_repeated(std::vector<std::string>& raw, const std::string& name) {
  std::vector<std::string> values, rest;
  const std::string option = "--" + name, prefix = option + "=";
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == option) {
      if (i + 1 >= raw.size()) throw UsageError(option + " needs a value");
      values.push_back(raw[++i]);
    } else if (raw[i].rfind(prefix, 0) == 0) {
      values.push_back(raw[i].substr(prefix.size()));
    } else {
      rest.push_back(raw[i]);
    }
  }
  raw = std::move(rest);
  return values;
}

std::vector<std::string> take_words(std::vector<std::string>& raw, const std::vector<std::string>& value_options) {
  std::vector<std::string> words, rest;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].rfind("--", 0) != 0) {
      words.push_back(raw[i]);
      continue;
    }
    rest.push_back(raw[i]);
    const std::string name = raw[i].substr(2);
    if (std::find(value_options.begin(), value_options.end(), name) != value_options.end() && i + 1 < raw.size())
      rest.push_back(raw[++i]);
  }
  raw = std::move(rest);
  return words;
}

double number_or(const Arguments& args, const std::string& name, double fallback, double min, double max) {
  const auto text = args.value(name);
  if (!text) return fallback;
  double v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(v) || v < min || v > max)
  {
    char range[96];
    std::snprintf(range, sizeof range, " must be a number from %g to %g, not '", min, max);
    throw UsageError("--" + name + range + *text + "'");
  }
  return v;
}

}  // namespace attnscope::cli
