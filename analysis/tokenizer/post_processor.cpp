// Post-processors: special tokens around a single sequence (see post_processor.h).
#include "analysis/tokenizer/post_processor.h"

#include <vector>

namespace attnscope::tokenizer::detail {

namespace {

// Every supported processor reduces, for one sequence, to "these ids, the text, these ids".
class WrapProcessor final : public PostProcessor {
 public:
  WrapProcessor(std::vector<int32_t> before, std::vector<int32_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}
  void process(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), before_.begin(), before_.end());
    ids.insert(ids.end(), after_.begin(), after_.end());
  }

 private:
  std::vector<int32_t> before_, after_;
};

class IdentityProcessor final : public PostProcessor {
 public:
  void process(std::vector<int32_t>&) const override {}
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void process(std::vector<int32_t>& ids) const override {
    for (const auto& step : steps_) step->process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

// TemplateProcessing's "single" template: [SpecialToken | Sequence]*, with exactly one
// Sequence; a SpecialToken's ids come from the "special_tokens" table.
std::unique_ptr<PostProcessor> parse_template(const JsonNode& node) {
  JsonNode single = node.field("single");
  JsonNode specials = node.field("special_tokens");
  specials.expect_object();
  std::vector<int32_t> before, after;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.array_size(); ++i) {
    JsonNode piece = single.element(i);
    if (piece.optional_field("Sequence")) {
      if (seen_sequence) piece.fail("the single template has more than one Sequence");
      seen_sequence = true;
      continue;
    }
    auto special = piece.optional_field("SpecialToken");
    if (!special) piece.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    std::string name = special->string_field("id");
    auto entry = specials.optional_field(name);
    if (!entry) special->fail("special token \"" + name + "\" is missing from special_tokens");
    JsonNode ids = entry->field("ids");
    std::vector<int32_t>& target = seen_sequence ? after : before;
    for (size_t k = 0; k < ids.array_size(); ++k) target.push_back(ids.element(k).as_id());
  }
  if (!seen_sequence) single.fail("the single template has no Sequence");
  return std::make_unique<WrapProcessor>(std::move(before), std::move(after));
}

// RobertaProcessing / BertProcessing: "cls": [token, id], "sep": [token, id].
int32_t pair_id(const JsonNode& pair) {
  if (pair.array_size() != 2) pair.fail("expected [token, id]");
  return pair.element(1).as_id();
}

}  // namespace

std::unique_ptr<PostProcessor> parse_post_processor(const JsonNode& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.type_name();
  if (type == "TemplateProcessing") return parse_template(node);
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();  // offsets only
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return std::make_unique<WrapProcessor>(std::vector<int32_t>{pair_id(node.field("cls"))},
                                           std::vector<int32_t>{pair_id(node.field("sep"))});
  }
  if (type == "Sequence") {
    return std::make_unique<SequenceProcessor>(
        parse_each(node.field("processors"), parse_post_processor, "a post-processor"));
  }
  node.field("type").fail("unsupported post-processor type \"" + type + "\"");
}

}  // namespace attnscope::tokenizer::detail
