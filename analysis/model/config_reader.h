#pragma once
// Typed access to config.json keys. Every failure is an attnscope::Error whose where()
// is the config file and whose problem() names the key ("rope_scaling.factor") and
// what is wrong with it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace attnscope::model {

// The largest positive integer a config key may hold: far above any real size, and low
// enough that products of a few sizes (4 * n_embd, layers * heads * head_dim) cannot
// overflow before the model's size is checked (config.h).
inline constexpr int64_t kMaxConfigInteger = int64_t(1) << 40;

class ConfigReader {
 public:
  // `object` must outlive the reader; `prefix` names a nested object in messages.
  ConfigReader(const nlohmann::json& object, std::string file, std::string prefix = "");

  const std::string& file() const { return file_; }
  // The key as messages show it: "\"rope_scaling.factor\"".
  std::string key_name(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;

  // The value, or nullptr when the key is absent or null (HF writes null for "unset").
  const nlohmann::json* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // At most kMaxConfigInteger.
  int64_t positive_int(std::string_view key) const;
  std::optional<int64_t> optional_positive_int(std::string_view key) const;
  // A positive count that fits in an int (layers, heads).
  int count(std::string_view key) const;
  std::optional<int> optional_count(std::string_view key) const;
  double positive_number(std::string_view key) const;
  double positive_number_or(std::string_view key, double fallback) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::string string_or(std::string_view key, const std::string& fallback) const;
  // A nested object (nullopt when absent or null).
  std::optional<ConfigReader> optional_object(std::string_view key) const;

 private:
  int64_t as_positive_int(std::string_view key, const nlohmann::json& v) const;

  const nlohmann::json* object_;
  std::string file_;
  std::string prefix_;
};

}  // namespace attnscope::model
