#pragma once
// Internal to analysis/tokenizer: the Oniguruma patterns of tokenizer.json run with PCRE2
// (UTF + UCP, JIT-compiled once), iterated the way tokenizers' SysRegex (the onig crate)
// iterates them.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnscope::tokenizer::detail {

struct RegexError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Regex {
 public:
  // Compiles an Oniguruma-syntax pattern; throws RegexError with PCRE2's message.
  explicit Regex(std::string_view onig_pattern);
  // A pattern that matches `literal` exactly (tokenizers escapes String patterns this way).
  static Regex literal(std::string_view text);

  // All matches in `subject` (valid UTF-8) as byte ranges, like the onig crate's find_iter:
  // an empty match right where the previous match ended is skipped.
  void find_all(std::string_view subject, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
};

// Rewrites what PCRE2 reads differently from Oniguruma: onig's \s is Unicode White_Space,
// which also holds U+0085; PCRE2's UCP \s does not. Exposed for the unit tests.
std::string translate_onig_pattern(std::string_view pattern);

}  // namespace attnscope::tokenizer::detail
