#pragma once
// CSV as the bundled plugins write it (RFC 4180): a header line, fields quoted only when
// they hold a comma, quote or line break, numbers with enough digits to read back, empty
// for a missing value.
#include <optional>
#include <string>
#include <vector>

namespace attnscope::plugin_support {

std::string csv_field(const std::string& text);
// 10 significant digits; "" for NaN or nullopt.
std::string csv_number(std::optional<double> value);
// The fields joined with commas and a "\n".
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace attnscope::plugin_support
