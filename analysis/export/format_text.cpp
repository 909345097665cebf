#include "analysis/export/format_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "analysis/io/json_file.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

// Python's repr of a finite float: the shortest digits that read back the same, the
// closest to the value among them (std::to_chars gives those), written fixed with ".0"
// on whole numbers unless the decimal exponent is below -4 or above 15, then as
// "1.5e-05" / "1e+16" (two exponent digits at least).
std::string python_float(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) throw Error("JSON writer", "cannot format a number");
  const std::string text(buf, end);  // "-9.725112915039062e-01"
  const size_t e = text.find('e');
  const bool negative = text[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i)
    if (text[i] != '.') digits += text[i];
  const int exponent = std::stoi(text.substr(e + 1));
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent > 15) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
    out += exp;
    return out;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(size_t(-exponent - 1), '0');
    out += digits;
    return out;
  }
  const size_t point = size_t(exponent) + 1;
  if (digits.size() <= point) {
    out += digits;
    out.append(point - digits.size(), '0');
    out += ".0";
    return out;
  }
  out.append(digits, 0, point);
  out += '.';
  out.append(digits, point);
  return out;
}

void append_python_json(std::string& out, const nlohmann::ordered_json& value, int indent, int depth) {
  const auto newline = [&](int level) {
    out += '\n';
    out.append(size_t(indent) * size_t(level), ' ');
  };
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
    case nlohmann::ordered_json::value_t::array: {
      const bool object = value.is_object();
      if (value.empty()) {
        out += object ? "{}" : "[]";
        return;
      }
      out += object ? '{' : '[';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        if (indent >= 0) newline(depth + 1);
        if (object) {
          out += nlohmann::ordered_json(it.key()).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
          out += ": ";
        }
        append_python_json(out, *it, indent, depth + 1);
      }
      if (indent >= 0) newline(depth);
      out += object ? '}' : ']';
      return;
    }
    case nlohmann::ordered_json::value_t::number_float: {
      const double v = value.get<double>();
      if (!std::isfinite(v)) throw Error("JSON writer", "a value is not finite (" + std::to_string(v) + ")");
      out += python_float(v);
      return;
    }
    default:
      out += value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
}

}  // namespace

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string(), "the file is missing");
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string(), "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string(), "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path.string(), "cannot read the file");
  return text.str();
}

void write_text_file(const std::filesystem::path& path, std::string_view text) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw Error(path.string(), "cannot create the directory " + path.parent_path().string() + ": " + ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path.string(), "cannot open the file for writing");
  out.write(text.data(), std::streamsize(text.size()));
  out.close();
  if (!out) throw Error(path.string(), "cannot write the file");
}

nlohmann::json parse_json_text(std::string_view text, const std::string& file) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    std::string problem = "is not valid JSON: " + io::json_error_text(e);
    if (text.find("NaN") != std::string_view::npos || text.find("Infinity") != std::string_view::npos)
      problem += " (NaN and Infinity, which Python writes for undefined scores, are not JSON numbers)";
    throw Error(file, problem);
  }
}

std::string python_number(double value) {
  if (!std::isfinite(value)) throw Error("JSON writer", "a value is not finite");
  return python_float(value);
}

std::string python_json(const nlohmann::ordered_json& value, int indent) {
  std::string out;
  append_python_json(out, value, indent, 0);
  return out;
}

std::string numpy_e18(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.18e", value);
  return buf;
}

double json_number(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_number()) throw Error(file, where + " must be a number, not " + io::json_kind(value));
  const double v = value.get<double>();
  if (!std::isfinite(v)) throw Error(file, where + " is not a finite number");
  return v;
}

int64_t json_integer(const nlohmann::json& value, const std::string& file, const std::string& where) {
  if (!value.is_number_integer())
    throw Error(file, where + " must be an integer, not " + io::json_kind(value) + " (" + value.dump() + ")");
  if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX))
    throw Error(file, where + " is too large (" + value.dump() + ")");
  return value.get<int64_t>();
}

const nlohmann::json& json_list(const nlohmann::json& value, const std::string& file, const std::string& where,
                                int64_t size) {
  if (!value.is_array()) throw Error(file, where + " must be a list, not " + io::json_kind(value));
  if (size >= 0 && int64_t(value.size()) != size)
    throw Error(file, where + " has " + std::to_string(value.size()) + " items, not " + std::to_string(size));
  return value;
}

std::optional<int> parse_index(std::string_view text, int limit) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0 || v >= limit) return std::nullopt;
  return v;
}

}  // namespace attnscope::exports
