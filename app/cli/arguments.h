#pragma once
// Command-line options of one sub-command: "--name value", "--name=value" and switches.
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnscope::cli {

// A mistake in how the command was called (exit code 2, with the usage text).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Arguments {
 public:
  // Throws UsageError for an unknown option, a missing value or a stray argument.
  Arguments(const std::vector<std::string>& args, const std::set<std::string>& value_options,
            const std::set<std::string>& switches);

  bool has(const std::string& name) const { return values_.count(name) || switches_.count(name); }
  bool flag(const std::string& name) const { return switches_.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  // Integer value; UsageError when it is not an integer in [min, max].
  int64_t integer_or(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

}  // namespace attnscope::cli
