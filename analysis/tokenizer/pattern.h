#pragma once
// Internal to analysis/tokenizer: the pattern objects of tokenizer.json, {"String": s} or
// {"Regex": r}, as the Split pre-tokenizer and the Replace normalizer and decoder use them.
#include <optional>
#include <string>
#include <string_view>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/regex.h"

namespace attnscope::tokenizer::detail {

// The regex a pattern object stands for (a String matches literally). A bad regex is an error
// naming its path in the file and PCRE2's message.
Regex parse_pattern(const JsonNode& pattern);

// tokenizers' Replace, normalizer and decoder alike: every non-overlapping match of the pattern
// becomes `content`.
class Replacement {
 public:
  // Reads the "pattern" and "content" members of a Replace object.
  static Replacement parse(const JsonNode& replace);
  // Every `from` becomes `to`.
  static Replacement literal(std::string from, std::string to);

  void apply(std::string& text) const;

 private:
  Replacement(std::string literal, std::optional<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}

  // A non-empty String is searched as plain text: the escaped regex tokenizers builds from it
  // finds the same matches, slower. An empty one matches between characters, so it stays a regex.
  std::string literal_;
  std::optional<Regex> regex_;
  std::string content_;
};

}  // namespace attnscope::tokenizer::detail
