#pragma once
// Internal to analysis/tokenizer: hash maps keyed by std::string that can be searched with a
// std::string_view, so looking up a piece of the text never copies it.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace attnscope::tokenizer::detail {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace attnscope::tokenizer::detail
