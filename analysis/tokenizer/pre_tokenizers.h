#pragma once
// Internal to analysis/tokenizer: the "pre_tokenizer" section of tokenizer.json.
#include <memory>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/pipeline.h"

namespace attnscope::tokenizer::detail {

// Builds the pre-tokenizer described by `node` (Sequence, Split, ByteLevel, Metaspace, Digits,
// Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit); nullptr for
// a null node. Unknown types are an error.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonNode& node);

}  // namespace attnscope::tokenizer::detail
