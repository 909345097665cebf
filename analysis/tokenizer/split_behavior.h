#pragma once
// Internal to analysis/tokenizer: tokenizers' NormalizedString::split — cut a text by the
// matches of a pattern and keep, drop or merge the delimiters (SplitDelimiterBehavior).
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/tokenizer/pipeline.h"
#include "analysis/tokenizer/regex.h"
#include "analysis/tokenizer/unicode_utf8.h"

namespace attnscope::tokenizer::detail {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A stretch of the text, either a match of the pattern or the text between two matches.
struct Span {
  size_t begin;
  size_t end;
  bool is_match;
};
using Spans = std::vector<Span>;

// tokenizers' Pattern::find_matches for a regex: spans covering the whole text.
void regex_spans(const Regex& regex, std::string_view text, Spans& spans);

// The same for a character predicate: every matching character is its own match.
template <class Predicate>
void char_spans(std::string_view text, Predicate matches, Spans& spans) {
  spans.clear();
  if (text.empty()) {
    spans.push_back({0, 0, false});
    return;
  }
  size_t last = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    char32_t c = utf8::next(text, i);
    if (matches(c)) {
      if (last < start) spans.push_back({last, start, false});
      spans.push_back({start, i, true});
      last = i;
    }
  }
  if (last < text.size()) spans.push_back({last, text.size(), false});
}

// Turns matches into non-matches and back (tokenizers' Invert pattern).
void invert_spans(Spans& spans);

// Applies `behavior` and appends the kept, non-empty parts of `piece` to `out`.
void split_piece(const Piece& piece, Spans& spans, SplitBehavior behavior, Pieces& out);

// Runs `split` (Piece, Pieces& out) over the pieces that are not added tokens.
template <class SplitFn>
void split_pieces(Pieces& pieces, SplitFn split) {
  Pieces out;
  out.reserve(pieces.size() * 2);
  for (Piece& piece : pieces) {
    if (piece.added_id >= 0) {
      out.push_back(std::move(piece));
    } else {
      split(piece, out);
    }
  }
  pieces = std::move(out);
}

}  // namespace attnscope::tokenizer::detail
