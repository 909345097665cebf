// Pattern objects and Replace (see pattern.h).
#include "analysis/tokenizer/pattern.h"

#include <utility>
#include <vector>

namespace attnscope::tokenizer::detail {

namespace {

// Either member, as a JsonNode, or an error when the object has neither.
JsonNode pattern_member(const JsonNode& pattern, bool& is_regex) {
  if (auto literal = pattern.optional_field("String")) {
    is_regex = false;
    return *literal;
  }
  if (auto re = pattern.optional_field("Regex")) {
    is_regex = true;
    return *re;
  }
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

Regex compile(const JsonNode& member, bool is_regex) {
  try {
    return is_regex ? Regex(member.as_string()) : Regex::literal(member.as_string());
  } catch (const RegexError& e) {
    member.fail(e.what());
  }
}

}  // namespace

Regex parse_pattern(const JsonNode& pattern) {
  bool is_regex = false;
  const JsonNode member = pattern_member(pattern, is_regex);
  return compile(member, is_regex);
}

Replacement Replacement::parse(const JsonNode& replace) {
  bool is_regex = false;
  const JsonNode member = pattern_member(replace.field("pattern"), is_regex);
  std::string content = replace.string_field("content");
  if (!is_regex && !member.as_string().empty()) return literal(member.as_string(), std::move(content));
  return Replacement("", compile(member, is_regex), std::move(content));
}

Replacement Replacement::literal(std::string from, std::string to) {
  if (from.empty()) return Replacement("", Regex::literal(""), std::move(to));
  return Replacement(std::move(from), std::nullopt, std::move(to));
}

void Replacement::apply(std::string& text) const {
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  matches.clear();
  if (regex_) {
    regex_->find_all(text, matches);
  } else {
    for (size_t pos = text.find(literal_); pos != std::string::npos; pos = text.find(literal_, pos + literal_.size())) {
      matches.emplace_back(pos, pos + literal_.size());
    }
  }
  if (matches.empty()) return;
  std::string out;
  out.reserve(text.size() + matches.size() * content_.size());
  size_t last = 0;
  for (auto [start, end] : matches) {
    out.append(text, last, start - last);
    out += content_;
    last = end;
  }
  out.append(text, last, std::string::npos);
  text = std::move(out);
}

}  // namespace attnscope::tokenizer::detail
