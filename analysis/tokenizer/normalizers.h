#pragma once
// Internal to analysis/tokenizer: the "normalizer" section of tokenizer.json.
#include <memory>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/pipeline.h"

namespace attnscope::tokenizer::detail {

// Builds the normalizer described by `node` (Sequence, Prepend, Replace, NFC, NFKC, NFD, NFKD,
// Lowercase, Strip, StripAccents); nullptr for a null node. Unknown types are an error.
std::unique_ptr<Normalizer> parse_normalizer(const JsonNode& node);

}  // namespace attnscope::tokenizer::detail
