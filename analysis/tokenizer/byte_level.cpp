// GPT-2's byte <-> character table (see byte_level.h).
#include "analysis/tokenizer/byte_level.h"

#include "analysis/tokenizer/unicode_utf8.h"

namespace attnscope::tokenizer::detail {

namespace {

struct Tables {
  std::array<char32_t, 256> chars{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, 256 + 68> bytes{};  // character -> byte, -1 where none
  Tables() {
    bytes.fill(-1);
    // Bytes that are printable and not whitespace keep their code point; the 68 others take
    // U+0100, U+0101, ... in byte order.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      chars[b] = printable ? static_cast<char32_t>(b) : next++;
      utf8::append(utf8[b], chars[b]);
      bytes[chars[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_to_char() { return tables().utf8; }

std::optional<uint8_t> char_to_byte(char32_t c) {
  const auto& bytes = tables().bytes;
  if (c >= bytes.size() || bytes[c] < 0) return std::nullopt;
  return static_cast<uint8_t>(bytes[c]);
}

void append_byte_level(std::string& out, std::string_view text) {
  const auto& map = tables().utf8;
  for (char c : text) out += map[static_cast<unsigned char>(c)];
}

std::optional<std::string> bytes_of_byte_level(std::string_view token) {
  std::string bytes;
  bytes.reserve(token.size());
  size_t i = 0;
  while (i < token.size()) {
    auto byte = char_to_byte(utf8::next(token, i));
    if (!byte) return std::nullopt;
    bytes.push_back(static_cast<char>(*byte));
  }
  return bytes;
}

}  // namespace attnscope::tokenizer::detail
