#pragma once
// Internal to analysis/tokenizer: the stage interfaces of the encode/decode pipeline, laid
// out as Hugging Face `tokenizers` lays them out (normalizer, pre-tokenizer, model,
// post-processor, decoder), reduced to what ids and decoded text need (no offsets).
#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::tokenizer::detail {

// One piece of the caller's text as it moves through the pipeline: tokenizers' `Split` of a
// PreTokenizedString without the alignment table.
struct Piece {
  std::string text;       // current text (normalized, then pre-tokenized)
  int32_t added_id = -1;  // >= 0: an added token; its id is final and later stages skip it
  // True when the piece starts at byte 0 of the caller's text. Only Metaspace's
  // prepend_scheme "first" needs it (tokenizers checks offsets_original().0 == 0).
  bool at_origin = false;
};
using Pieces = std::vector<Piece>;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits and rewrites the pieces that are not added tokens; added tokens pass through.
  virtual void pre_tokenize(Pieces& pieces) const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens of a single sequence (only called when add_special_tokens).
  virtual void process(std::vector<int32_t>& ids) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // tokenizers' Decoder::decode_chain: rewrites the token strings; the caller joins them.
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

}  // namespace attnscope::tokenizer::detail
