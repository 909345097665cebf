#pragma once
// Internal to analysis/tokenizer: the "added_tokens" of tokenizer.json and the way
// tokenizers' AddedVocabulary cuts them out of the text before the model sees it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analysis/tokenizer/bpe_model.h"
#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/pipeline.h"
#include "analysis/tokenizer/string_map.h"

namespace attnscope::tokenizer::detail {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;  // matched in the normalized text instead of the raw text
  bool lstrip = false;      // swallows the whitespace on its left
  bool rstrip = false;      // swallows the whitespace on its right
  bool single_word = false; // only matches when not inside a word
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // Reads the "added_tokens" array (null or absent: none). Ids are given as tokenizers gives
  // them, not as the file states them (see parse). `normalizer` (may be null) is what
  // normalized tokens are matched after, so their patterns are normalized with it.
  static AddedVocabulary parse(const std::optional<JsonNode>& list, const BpeModel& model,
                               const Normalizer* normalizer);

  // tokenizers' extract_and_normalize: split on the non-normalized tokens in the raw text,
  // normalize each remaining piece, then split it on the normalized tokens.
  Pieces extract_and_normalize(std::string_view text, const Normalizer* normalizer) const;

  const AddedToken* by_id(int32_t id) const;
  std::optional<int32_t> id_of(std::string_view content) const;
  // tokenizers decides "special" by content when decoding.
  bool is_special_content(std::string_view content) const;
  int32_t max_id() const { return max_id_; }

 private:
  // Byte trie over token patterns, searched leftmost-longest like tokenizers' Aho-Corasick
  // matcher (MatchKind::LeftmostLongest).
  class Trie {
   public:
    void insert(std::string_view pattern, size_t token_index);
    bool empty() const { return nodes_.size() <= 1; }
    // The leftmost match at or after `from`, longest among those starting there.
    bool find(std::string_view text, size_t from, size_t& begin, size_t& end, size_t& token_index) const;

   private:
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> edges;
      int32_t token_index = -1;
    };
    std::vector<Node> nodes_{1};
    bool first_byte_[256] = {};
  };

  void split(std::string_view text, const Trie& trie, bool at_origin, Pieces& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  StringMap<size_t> by_content_;
  Trie raw_trie_;         // tokens with normalized == false
  Trie normalized_trie_;  // tokens with normalized == true, patterns normalized
  int32_t max_id_ = -1;
};

}  // namespace attnscope::tokenizer::detail
