#pragma once
// Reads a small JSON file (config.json, an index) with errors that name the file.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnscope::io {

// Parses `path`; throws attnscope::Error naming the file when it is missing, unreadable
// or not JSON (with the parser's line and column).
nlohmann::json read_json_file(const std::filesystem::path& path);

// The deepest nesting of lists and objects we accept. Real files nest a few levels;
// nlohmann's dump() and copies recurse once per level, so a file of a million '[' would
// overflow the stack as soon as an error message quoted it.
inline constexpr int kMaxJsonDepth = 128;

// Parses `text` (files of untrusted origin); attnscope::Error(where, "is not valid JSON: ...")
// when it is not JSON or nests deeper than kMaxJsonDepth.
nlohmann::json parse_json_text(std::string_view text, const std::string& where);

// attnscope::Error(where, ...) when `text` nests lists and objects deeper than kMaxJsonDepth
// (brackets inside strings do not count); for callers that parse the text themselves.
void check_json_depth(std::string_view text, const std::string& where);

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string json_error_text(const nlohmann::json::exception& e);

// "an object", "a string", "null", ...: for messages such as "must be a number, not a string".
std::string json_kind(const nlohmann::json& value);

}  // namespace attnscope::io
