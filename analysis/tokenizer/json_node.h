#pragma once
// Internal to analysis/tokenizer: typed access to tokenizer.json values that turns every
// shape problem into attnscope::Error(file, "<json path>: <problem>"), e.g.
// "model.merges[12]: expected a pair of strings".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnscope::tokenizer::detail {

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string path, const std::string& origin)
      : value_(&value), path_(std::move(path)), origin_(&origin) {}

  // Deeper values are an error: the component parsers recurse once per level (Sequence in
  // Sequence ...), and serde_json, which tokenizers reads with, stops at 128 as well.
  static constexpr int kMaxDepth = 128;

  const nlohmann::json& value() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& origin() const { return *origin_; }
  bool is_null() const { return value_->is_null(); }

  // Throws attnscope::Error(origin, "<path>: <problem>").
  [[noreturn]] void fail(const std::string& problem) const;

  // A required member of an object (missing -> error; present but null is returned).
  JsonNode field(std::string_view key) const;
  // A member that may be absent or null.
  std::optional<JsonNode> optional_field(std::string_view key) const;
  JsonNode element(size_t index) const;
  size_t array_size() const;  // errors unless an array

  void expect_object() const;
  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;
  int32_t as_id() const;  // an integer token id in [0, 2^31)
  char32_t as_char() const;  // a string of exactly one character

  std::string string_field(std::string_view key) const { return field(key).as_string(); }
  std::optional<std::string> optional_string(std::string_view key) const;
  bool bool_field(std::string_view key, bool fallback) const;
  // The "type" member naming a component ("BPE", "ByteLevel", ...).
  std::string type_name() const { return string_field("type"); }

 private:
  JsonNode child(const nlohmann::json& value, std::string path) const;

  const nlohmann::json* value_;
  std::string path_;
  const std::string* origin_;
  int depth_ = 0;
};

// The elements of the array `list`, each built by `parse`; a null element is an error (`what`
// says what was expected). The "Sequence" of every component kind reads its steps this way.
template <class Parse>
auto parse_each(const JsonNode& list, Parse parse, const std::string& what) {
  std::vector<decltype(parse(list))> out;
  for (size_t i = 0; i < list.array_size(); ++i) {
    JsonNode element = list.element(i);
    if (element.is_null()) element.fail("expected " + what + ", found null");
    out.push_back(parse(element));
  }
  return out;
}

}  // namespace attnscope::tokenizer::detail
