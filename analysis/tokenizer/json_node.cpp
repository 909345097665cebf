// Typed, path-carrying access to tokenizer.json values (see json_node.h).
#include "analysis/tokenizer/json_node.h"

#include <limits>

#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"

namespace attnscope::tokenizer::detail {

namespace {

std::string describe(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_float: return "a floating-point number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    default: return "an unexpected value";
  }
}

}  // namespace

void JsonNode::fail(const std::string& problem) const {
  throw Error(*origin_, path_.empty() ? problem : path_ + ": " + problem);
}

void JsonNode::expect_object() const {
  if (!value_->is_object()) fail("expected an object, found " + describe(*value_));
}

JsonNode JsonNode::child(const nlohmann::json& value, std::string path) const {
  JsonNode node(value, std::move(path), *origin_);
  node.depth_ = depth_ + 1;
  if (node.depth_ > kMaxDepth) node.fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
  return node;
}

JsonNode JsonNode::field(std::string_view key) const {
  expect_object();
  auto it = value_->find(key);
  if (it == value_->end()) fail("missing field \"" + std::string(key) + "\"");
  return child(*it, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

std::optional<JsonNode> JsonNode::optional_field(std::string_view key) const {
  expect_object();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return child(*it, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

size_t JsonNode::array_size() const {
  if (!value_->is_array()) fail("expected an array, found " + describe(*value_));
  return value_->size();
}

JsonNode JsonNode::element(size_t index) const {
  if (index >= array_size()) fail("index " + std::to_string(index) + " is out of range");
  return child((*value_)[index], path_ + "[" + std::to_string(index) + "]");
}

std::string JsonNode::as_string() const {
  if (!value_->is_string()) fail("expected a string, found " + describe(*value_));
  return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
  if (!value_->is_boolean()) fail("expected true or false, found " + describe(*value_));
  return value_->get<bool>();
}

int64_t JsonNode::as_int() const {
  if (value_->is_number_unsigned()) {
    uint64_t v = value_->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("integer is too large");
    return static_cast<int64_t>(v);
  }
  if (!value_->is_number_integer()) fail("expected an integer, found " + describe(*value_));
  return value_->get<int64_t>();
}

int32_t JsonNode::as_id() const {
  int64_t v = as_int();
  if (v < 0 || v > std::numeric_limits<int32_t>::max()) {
    fail("token id " + std::to_string(v) + " is out of range");
  }
  return static_cast<int32_t>(v);
}

char32_t JsonNode::as_char() const {
  const std::string text = as_string();
  size_t end = 0;
  const char32_t c = text.empty() ? 0 : utf8::next(text, end);
  if (text.empty() || end != text.size()) fail("expected a single character, found \"" + text + "\"");
  return c;
}

std::optional<std::string> JsonNode::optional_string(std::string_view key) const {
  auto node = optional_field(key);
  if (!node) return std::nullopt;
  return node->as_string();
}

bool JsonNode::bool_field(std::string_view key, bool fallback) const {
  auto node = optional_field(key);
  return node ? node->as_bool() : fallback;
}

}  // namespace attnscope::tokenizer::detail
