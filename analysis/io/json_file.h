#pragma once
// Reads a small JSON file (config.json, an index) with errors that name the file.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace attnscope::io {

// Parses `path`; throws attnscope::Error naming the file when it is missing, unreadable
// or not JSON (with the parser's line and column).
nlohmann::json read_json_file(const std::filesystem::path& path);

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string json_error_text(const nlohmann::json::exception& e);

// "an object", "a string", "null", ...: for messages such as "must be a number, not a string".
std::string json_kind(const nlohmann::json& value);

}  // namespace attnscope::io
