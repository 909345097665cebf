// Added tokens: parsing and splitting the text on them (see added_vocabulary.h).
#include "analysis/tokenizer/added_vocabulary.h"

#include <algorithm>
#include <limits>

#include "analysis/tokenizer/unicode_utf8.h"

namespace attnscope::tokenizer::detail {

void AddedVocabulary::Trie::insert(std::string_view pattern, size_t token_index) {
  if (pattern.empty()) return;
  int32_t node = 0;
  for (char ch : pattern) {
    auto c = static_cast<unsigned char>(ch);
    auto& edges = nodes_[static_cast<size_t>(node)].edges;
    auto it = std::find_if(edges.begin(), edges.end(), [c](const auto& e) { return e.first == c; });
    if (it != edges.end()) {
      node = it->second;
    } else {
      auto child = static_cast<int32_t>(nodes_.size());
      edges.emplace_back(c, child);  // `edges` is not used after nodes_ grows
      nodes_.emplace_back();
      node = child;
    }
  }
  // The first token with a given content keeps it (tokenizers keeps one per content).
  if (nodes_[static_cast<size_t>(node)].token_index < 0) {
    nodes_[static_cast<size_t>(node)].token_index = static_cast<int32_t>(token_index);
  }
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
}

bool AddedVocabulary::Trie::find(std::string_view text, size_t from, size_t& begin, size_t& end,
                                 size_t& token_index) const {
  for (size_t start = from; start < text.size(); ++start) {
    if (!first_byte_[static_cast<unsigned char>(text[start])]) continue;
    int32_t node = 0;
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t i = start; i < text.size(); ++i) {
      auto c = static_cast<unsigned char>(text[i]);
      const auto& edges = nodes_[static_cast<size_t>(node)].edges;
      auto it = std::find_if(edges.begin(), edges.end(), [c](const auto& e) { return e.first == c; });
      if (it == edges.end()) break;
      node = it->second;
      if (nodes_[static_cast<size_t>(node)].token_index >= 0) {
        best = nodes_[static_cast<size_t>(node)].token_index;
        best_end = i + 1;
      }
    }
    if (best >= 0) {
      begin = start;
      end = best_end;
      token_index = static_cast<size_t>(best);
      return true;
    }
  }
  return false;
}

AddedVocabulary AddedVocabulary::parse(const std::optional<JsonNode>& list, const BpeModel& model,
                                       const Normalizer* normalizer) {
  AddedVocabulary vocab;
  if (!list) return vocab;
  // tokenizers does not take the "id" of the file: it adds the tokens in order; a content the
  // model knows gets the model's id, a new one the next id after the model's vocabulary and the
  // added tokens so far. The two agree in every file tokenizers itself wrote.
  const auto model_size = static_cast<int64_t>(model.vocab_count());
  auto next_id = [&]() -> int32_t {
    const int64_t id = vocab.tokens_.empty() || (vocab.max_id_ < model_size && model_size > 0) ? model_size : int64_t{vocab.max_id_} + 1;
    if (id > std::numeric_limits<int32_t>::max()) list->fail("too many added tokens");
    return static_cast<int32_t>(id);
  };
  for (size_t i = 0; i < list->array_size(); ++i) {
    JsonNode entry = list->element(i);
    AddedToken token;
    entry.field("id").as_id();  // checked, then replaced as described above
    token.content = entry.string_field("content");
    token.special = entry.bool_field("special", false);
    token.normalized = entry.bool_field("normalized", !token.special);
    token.lstrip = entry.bool_field("lstrip", false);
    token.rstrip = entry.bool_field("rstrip", false);
    token.single_word = entry.bool_field("single_word", false);
    if (token.content.empty()) continue;  // tokenizers ignores empty added tokens
    // A repeated content keeps its first definition (tokenizers mixes the two in ways no real
    // file relies on).
    if (vocab.by_content_.count(token.content) != 0) continue;
    const std::optional<int32_t> known = model.token_id(token.content);
    token.id = known ? *known : next_id();
    size_t index = vocab.tokens_.size();
    vocab.by_content_.emplace(token.content, index);
    vocab.by_id_.emplace(token.id, index);
    vocab.max_id_ = std::max(vocab.max_id_, token.id);
    vocab.tokens_.push_back(std::move(token));
  }
  for (size_t index = 0; index < vocab.tokens_.size(); ++index) {
    const AddedToken& token = vocab.tokens_[index];
    if (!token.normalized) {
      vocab.raw_trie_.insert(token.content, index);
    } else {
      std::string pattern = token.content;
      if (normalizer != nullptr) normalizer->normalize(pattern);
      vocab.normalized_trie_.insert(pattern, index);
    }
  }
  return vocab;
}

namespace {

// The regexes tokenizers uses here (regex crate: \w and \s are Unicode classes).
bool ends_with_word(std::string_view s) { return !s.empty() && utf8::is_word_char(utf8::previous(s, s.size())); }
bool starts_with_word(std::string_view s) {
  size_t i = 0;
  return !s.empty() && utf8::is_word_char(utf8::next(s, i));
}
// Start of the whitespace run that ends `s` (\s*$).
size_t leftmost_space_at_end(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t i = start;
    if (!utf8::is_whitespace(utf8::next(s, i))) break;
    end = start;
  }
  return end;
}
// Length of the whitespace run that starts `s` (^\s*).
size_t rightmost_space_at_start(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (!utf8::is_whitespace(utf8::next(s, j))) break;
    i = j;
  }
  return i;
}

}  // namespace

void AddedVocabulary::split(std::string_view text, const Trie& trie, bool at_origin, Pieces& out) const {
  auto emit = [&](size_t begin, size_t end, int32_t id) {
    if (begin >= end) return;  // empty pieces are dropped, as in PreTokenizedString::split
    Piece piece;
    piece.text.assign(text.substr(begin, end - begin));
    piece.added_id = id;
    piece.at_origin = at_origin && begin == 0;
    out.push_back(std::move(piece));
  };
  size_t start_offset = 0;  // end of the last emitted piece
  size_t from = 0;          // where the matcher resumes: the end of its last match
  size_t begin = 0, end = 0, index = 0;
  while (trie.find(text, from, begin, end, index)) {
    from = end;
    const AddedToken& token = tokens_[index];
    if (token.single_word) {
      bool space_before = begin == 0 || !ends_with_word(text.substr(0, begin));
      bool space_after = end == text.size() || !starts_with_word(text.substr(end));
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip) {
      // Never reach back into what an earlier match already took.
      begin = std::max(leftmost_space_at_end(text.substr(0, begin)), start_offset);
    }
    if (token.rstrip) end += rightmost_space_at_start(text.substr(end));
    if (start_offset < begin) emit(start_offset, begin, -1);
    emit(begin, end, token.id);
    start_offset = end;
  }
  if (start_offset < text.size()) emit(start_offset, text.size(), -1);
}

Pieces AddedVocabulary::extract_and_normalize(std::string_view text, const Normalizer* normalizer) const {
  Pieces pieces;
  if (raw_trie_.empty()) {
    if (!text.empty()) pieces.push_back(Piece{std::string(text), -1, true});
  } else {
    split(text, raw_trie_, true, pieces);
  }
  if (normalizer == nullptr && normalized_trie_.empty()) return pieces;

  Pieces out;
  out.reserve(pieces.size());
  for (Piece& piece : pieces) {
    if (piece.added_id >= 0) {
      out.push_back(std::move(piece));
      continue;
    }
    if (normalizer != nullptr) normalizer->normalize(piece.text);
    if (normalized_trie_.empty()) {
      if (!piece.text.empty()) out.push_back(std::move(piece));
    } else {
      split(piece.text, normalized_trie_, piece.at_origin, out);
    }
  }
  return out;
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::id_of(std::string_view content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

bool AddedVocabulary::is_special_content(std::string_view content) const {
  auto it = by_content_.find(content);
  return it != by_content_.end() && tokens_[it->second].special;
}

}  // namespace attnscope::tokenizer::detail
