#pragma once
// Text pieces every profile format shares: files read and written whole with errors that
// name them, JSON parsed from memory (so a reader runs on a buffer, e.g. under a fuzzer),
// JSON written the way Python's json module writes it (the originals' writers), NumPy's
// "%.18e", and typed access to JSON values whose errors name the file and the place.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace attnscope::exports {

// The whole file; attnscope::Error naming it when it is missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);
// Writes `text` exactly (creating the parent directory); attnscope::Error naming the file.
void write_text_file(const std::filesystem::path& path, std::string_view text);

// attnscope::Error(file, "is not valid JSON: ...") with the parser's position; NaN and
// Infinity (which Python writes but JSON has not) get a sentence of their own.
nlohmann::json parse_json_text(std::string_view text, const std::string& file);

// As Python's json.dumps(value) (indent < 0: one line, separators ", " and ": ") or
// json.dumps(value, indent=n) (one item per line). Floats as python_number writes them;
// object keys in the
// order they were added (ordered_json: "0-0", "0-1", ..., "0-10", as Python keeps them).
std::string python_json(const nlohmann::ordered_json& value, int indent = -1);

// Python's repr() of a finite float ("0.9725112915039062", "1024.0", "1e-05").
std::string python_number(double value);

// printf("%.18e"): what NumPy's savetxt writes by default ("8.593750000000000000e-01").
std::string numpy_e18(double value);

// A JSON number (integer or float) that is finite; attnscope::Error(file, "<where> must
// be a number, not a string") otherwise. `where` names the place: "\"alphas\"[3][5]".
double json_number(const nlohmann::json& value, const std::string& file, const std::string& where);
// A JSON integer (a float such as 64.0 is refused: the originals' readers want ints).
int64_t json_integer(const nlohmann::json& value, const std::string& file, const std::string& where);
// A JSON list of exactly `size` items (size < 0: any).
const nlohmann::json& json_list(const nlohmann::json& value, const std::string& file, const std::string& where,
                                int64_t size = -1);

// A decimal index without sign, spaces or leading zeros ("0", "17"), below `limit`;
// nullopt for any other text or a value not below it.
std::optional<int> parse_index(std::string_view text, int limit);

}  // namespace attnscope::exports
