#pragma once
// Small formatting helpers for terminal and JSON output.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace attnscope::cli {

// Control characters escaped (\n, \t, \xNN) so a token prints on one line.
std::string printable(std::string_view text);
// A number for JSON: null when NaN or infinite.
nlohmann::json number_or_null(double v);
// Fixed-point with `digits` decimals; "-" when NaN.
std::string fixed(double v, int digits);

}  // namespace attnscope::cli
