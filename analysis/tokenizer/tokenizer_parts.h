#pragma once
// Internal to analysis/tokenizer: what a Tokenizer holds, one member per tokenizer.json section.
#include <memory>
#include <string>
#include <string_view>

#include "analysis/tokenizer/added_vocabulary.h"
#include "analysis/tokenizer/bpe_model.h"
#include "analysis/tokenizer/pipeline.h"

namespace attnscope::tokenizer::detail {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  BpeModel model;
  AddedVocabulary added;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
};

// Parses tokenizer.json text (tokenizer_json.cpp).
TokenizerParts parse_tokenizer_json(std::string_view json_text, const std::string& origin);

}  // namespace attnscope::tokenizer::detail
