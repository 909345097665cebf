#pragma once
// A job's parameters from "name=value" texts (--param on the command line, the app's
// form), parsed against the types the job declares, with its defaults filled in.
// docs/plugins.md lists the syntax of each type.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/host/plugin_info.h"

namespace attnscope::plugins {

using ParameterValue = std::variant<int64_t, double, std::string, bool, std::vector<int64_t>, std::vector<double>,
                                    std::vector<std::string>>;

// `text` as a value of `parameter`'s type; attnscope::Error(where, ...) saying what the
// type accepts when it does not parse.
ParameterValue parse_parameter_value(const ParameterInfo& parameter, std::string_view text, const std::string& where);

class JobParameters {
 public:
  // Every declared parameter: given, else its default. attnscope::Error naming the job
  // ("needle-sweep.grid") for a text without '=', an undeclared name (with the declared
  // ones), a name given twice, a value that does not parse, or a required one missing.
  static JobParameters parse(const std::string& job_name, const JobInfo& job, std::span<const std::string> assignments);

  const ParameterValue* find(std::string_view name) const;
  const std::map<std::string, ParameterValue, std::less<>>& values() const { return values_; }

  // {"name": value, ...}: lists as arrays. What the store records and a resume compares.
  nlohmann::json to_json() const;

 private:
  std::map<std::string, ParameterValue, std::less<>> values_;
};

// The names whose values differ between two parameter objects (either side missing one
// counts), each as "name: A (before) vs B (now)"; empty when they agree.
std::vector<std::string> parameter_differences(const nlohmann::json& before, const nlohmann::json& now);

}  // namespace attnscope::plugins
