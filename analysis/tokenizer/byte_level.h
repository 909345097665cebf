#pragma once
// Internal to analysis/tokenizer: GPT-2's byte-level alphabet. Every byte maps to a printable
// character (printable Latin-1 bytes to themselves, the rest to U+0100 and up), so any text
// becomes a string of vocabulary characters and back.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attnscope::tokenizer::detail {

// The pre-tokenizer regex of GPT-2, used by ByteLevel when use_regex is true.
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// UTF-8 of the character that stands for each byte.
const std::array<std::string, 256>& byte_to_char();
// The byte a character stands for, if it is one of the 256.
std::optional<uint8_t> char_to_byte(char32_t c);

// Appends the byte-level form of `text` to `out`.
void append_byte_level(std::string& out, std::string_view text);
// The bytes behind a byte-level token, or nullopt if a character is outside the alphabet.
std::optional<std::string> bytes_of_byte_level(std::string_view token);

}  // namespace attnscope::tokenizer::detail
