#include "plugins/support/csv_text.h"

#include <cmath>
#include <cstdio>

namespace attnscope::plugin_support {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_number(std::optional<double> value) {
  if (!value || std::isnan(*value)) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.10g", *value);
  return text;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(fields[i]);
  }
  out += '\n';
  return out;
}

}  // namespace attnscope::plugin_support
