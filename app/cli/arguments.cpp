#include "app/cli/arguments.h"

#include <charconv>

namespace attnscope::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::set<std::string>& value_options,
                     const std::set<std::string>& switches) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      switches_.insert(name);
    } else if (value_options.count(name)) {
      if (!inline_value && i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
      values_[name] = inline_value ? *inline_value : args[++i];
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

std::optional<std::string> Arguments::value(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Arguments::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

int64_t Arguments::integer_or(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  const auto text = value(name);
  if (!text) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < min || v > max)
    throw UsageError("--" + name + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + *text + "'");
  return v;
}

}  // namespace attnscope::cli
