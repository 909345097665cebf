#pragma once
// Internal to analysis/tokenizer: the "decoder" section of tokenizer.json.
#include <memory>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/pipeline.h"

namespace attnscope::tokenizer::detail {

// ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, Sequence; nullptr for
// a null node. Unknown types are an error.
std::unique_ptr<Decoder> parse_decoder(const JsonNode& node);

}  // namespace attnscope::tokenizer::detail
