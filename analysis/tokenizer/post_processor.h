#pragma once
// Internal to analysis/tokenizer: the "post_processor" section of tokenizer.json (the special
// tokens added around a single sequence when add_special_tokens is true).
#include <memory>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/pipeline.h"

namespace attnscope::tokenizer::detail {

// TemplateProcessing, ByteLevel (ids unchanged), RobertaProcessing, BertProcessing, Sequence;
// nullptr for a null node. Unknown types are an error.
std::unique_ptr<PostProcessor> parse_post_processor(const JsonNode& node);

}  // namespace attnscope::tokenizer::detail
