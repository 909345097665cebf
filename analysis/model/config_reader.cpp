#include "analysis/model/config_reader.h"

#include <cmath>
#include <limits>

#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::model {

ConfigReader::ConfigReader(const nlohmann::json& object, std::string file, std::string prefix)
    : object_(&object), file_(std::move(file)), prefix_(std::move(prefix)) {}

std::string ConfigReader::key_name(std::string_view key) const {
  return "\"" + prefix_ + (prefix_.empty() ? "" : ".") + std::string(key) + "\"";
}

void ConfigReader::fail(std::string_view key, const std::string& problem) const {
  throw Error(file_, key_name(key) + " " + problem);
}

const nlohmann::json* ConfigReader::find(std::string_view key) const {
  const auto it = object_->find(key);
  return it == object_->end() || it->is_null() ? nullptr : &*it;
}

int64_t ConfigReader::as_positive_int(std::string_view key, const nlohmann::json& v) const {
  if (!v.is_number_integer()) fail(key, "must be a positive integer, not " + io::json_kind(v) + " (" + v.dump() + ")");
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(kMaxConfigInteger))
    fail(key, "is too large (" + v.dump() + "; sizes above 2^40 are refused)");
  if (v.get<int64_t>() <= 0) fail(key, "must be a positive integer, not " + v.dump());
  if (v.get<int64_t>() > kMaxConfigInteger) fail(key, "is too large (" + v.dump() + "; sizes above 2^40 are refused)");
  return v.get<int64_t>();
}

int64_t ConfigReader::positive_int(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "is missing");
  return as_positive_int(key, *v);
}

std::optional<int64_t> ConfigReader::optional_positive_int(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return std::nullopt;
  return as_positive_int(key, *v);
}

int ConfigReader::count(std::string_view key) const {
  const int64_t n = positive_int(key);
  if (n > std::numeric_limits<int>::max()) fail(key, "is too large (" + std::to_string(n) + ")");
  return int(n);
}

std::optional<int> ConfigReader::optional_count(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return count(key);
}

double ConfigReader::positive_number(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "is missing");
  if (!v->is_number()) fail(key, "must be a positive number, not " + io::json_kind(*v) + " (" + v->dump() + ")");
  const double x = v->get<double>();
  if (!(x > 0) || !std::isfinite(x)) fail(key, "must be a positive number, not " + v->dump());
  return x;
}

double ConfigReader::positive_number_or(std::string_view key, double fallback) const {
  return has(key) ? positive_number(key) : fallback;
}

bool ConfigReader::boolean_or(std::string_view key, bool fallback) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) fail(key, "must be true or false, not " + io::json_kind(*v) + " (" + v->dump() + ")");
  return v->get<bool>();
}

std::optional<std::string> ConfigReader::optional_string(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail(key, "must be a string, not " + io::json_kind(*v) + " (" + v->dump() + ")");
  return v->get<std::string>();
}

std::string ConfigReader::string_or(std::string_view key, const std::string& fallback) const {
  return optional_string(key).value_or(fallback);
}

std::optional<ConfigReader> ConfigReader::optional_object(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) fail(key, "must be an object, not " + io::json_kind(*v) + " (" + v->dump() + ")");
  return ConfigReader(*v, file_, prefix_ + (prefix_.empty() ? "" : ".") + std::string(key));
}

}  // namespace attnscope::model
