// tokenizer.json -> TokenizerParts: parses the document and hands each section to the
// component that understands it.
#include <nlohmann/json.hpp>

#include "analysis/io/json_file.h"
#include "analysis/tokenizer/decoders.h"
#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/normalizers.h"
#include "analysis/tokenizer/post_processor.h"
#include "analysis/tokenizer/pre_tokenizers.h"
#include "analysis/tokenizer/tokenizer_parts.h"
#include "kernels/error.h"

namespace attnscope::tokenizer::detail {

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_tag(const std::string& message) {
  if (message.rfind("[json.exception.", 0) == 0) {
    size_t end = message.find("] ");
    if (end != std::string::npos) return message.substr(end + 2);
  }
  return message;
}

// A section as a JsonNode, or a null node when the key is absent (absent == null in tokenizers).
JsonNode section(const JsonNode& root, std::string_view key) {
  static const nlohmann::json null_value;
  auto node = root.optional_field(key);
  return node ? *node : JsonNode(null_value, std::string(key), root.origin());
}

}  // namespace

TokenizerParts parse_tokenizer_json(std::string_view json_text, const std::string& origin) {
  io::check_json_depth(json_text, origin);
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin, "not valid JSON: " + without_exception_tag(e.what()));
  }
  JsonNode root(document, "", origin);
  if (!document.is_object()) root.fail("expected a JSON object at the top level (a tokenizer.json file)");

  try {
    TokenizerParts parts{nullptr, nullptr, BpeModel::parse(root.field("model")), AddedVocabulary(), nullptr, nullptr};
    parts.normalizer = parse_normalizer(section(root, "normalizer"));
    parts.pre_tokenizer = parse_pre_tokenizer(section(root, "pre_tokenizer"));
    parts.added = AddedVocabulary::parse(root.optional_field("added_tokens"), parts.model, parts.normalizer.get());
    parts.post_processor = parse_post_processor(section(root, "post_processor"));
    parts.decoder = parse_decoder(section(root, "decoder"));
    return parts;
  } catch (const nlohmann::json::exception& e) {
    // Only reached through a shape the checks of the parsers missed; still name the file.
    throw Error(origin, "unexpected JSON structure: " + without_exception_tag(e.what()));
  }
}

}  // namespace attnscope::tokenizer::detail
