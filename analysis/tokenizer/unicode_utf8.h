#pragma once
// UTF-8 walking and the Unicode character classes that tokenizers (Rust) uses, with the
// same definitions as Rust's `char` methods: analysis/tokenizer's, and is_valid also
// checks the texts plugins hand the plugin host.
#include <cstddef>
#include <string>
#include <string_view>

namespace attnscope::tokenizer::utf8 {

// Byte length of the character starting with `lead` (lead must start a valid sequence).
inline size_t char_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the character at s[i] of valid UTF-8 and moves i past it.
char32_t next(std::string_view s, size_t& i);
// The character that ends at s[end] (exclusive) of valid UTF-8.
char32_t previous(std::string_view s, size_t end);
void append(std::string& out, char32_t cp);

bool is_valid(std::string_view bytes);
// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD.
std::string lossy(std::string_view bytes);

bool is_whitespace(char32_t c);      // char::is_whitespace (White_Space)
bool is_numeric(char32_t c);         // char::is_numeric (Nd, Nl, No)
bool is_alphanumeric(char32_t c);    // char::is_alphanumeric (Alphabetic or Numeric)
bool is_word_char(char32_t c);       // regex crate \w (Alphabetic, M, Nd, Pc, Join_Control)
bool is_punctuation(char32_t c);     // ASCII punctuation or a P* category
bool is_mark(char32_t c);            // M* categories (StripAccents)
// char::to_lowercase: full lowercase mapping (only U+0130 maps to two characters).
void append_lowercase(std::string& out, char32_t c);

}  // namespace attnscope::tokenizer::utf8
