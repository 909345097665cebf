// tokenizers' NormalizedString::split, minus the offsets (see split_behavior.h).
#include "analysis/tokenizer/split_behavior.h"

#include <algorithm>

namespace attnscope::tokenizer::detail {

void regex_spans(const Regex& regex, std::string_view text, Spans& spans) {
  spans.clear();
  if (text.empty()) {
    spans.push_back({0, 0, false});
    return;
  }
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  matches.clear();
  regex.find_all(text, matches);
  size_t previous = 0;
  for (auto [start, end] : matches) {
    if (previous != start) spans.push_back({previous, start, false});
    spans.push_back({start, end, true});
    previous = end;
  }
  if (previous != text.size()) spans.push_back({previous, text.size(), false});
}

void invert_spans(Spans& spans) {
  for (Span& span : spans) span.is_match = !span.is_match;
}

namespace {

// After this, `is_match` means "drop this span" (only Removed drops anything).
void apply_behavior(Spans& spans, SplitBehavior behavior) {
  Spans merged;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      return;
    case SplitBehavior::Isolated:
      for (Span& span : spans) span.is_match = false;
      return;
    case SplitBehavior::Contiguous:
      // Consecutive spans of the same kind become one.
      for (const Span& span : spans) {
        if (span.is_match == previous_match && !merged.empty()) {
          merged.back().end = span.end;
        } else {
          merged.push_back({span.begin, span.end, false});
        }
        previous_match = span.is_match;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Span& span : spans) {
        if (span.is_match && !previous_match && !merged.empty()) {
          merged.back().end = span.end;
        } else {
          merged.push_back({span.begin, span.end, false});
        }
        previous_match = span.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      // Same walk from the end: a match joins the span after it.
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !merged.empty()) {
          merged.back().begin = it->begin;
        } else {
          merged.push_back({it->begin, it->end, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
  }
  spans = std::move(merged);
}

}  // namespace

void split_piece(const Piece& piece, Spans& spans, SplitBehavior behavior, Pieces& out) {
  apply_behavior(spans, behavior);
  for (const Span& span : spans) {
    if (span.is_match || span.begin == span.end) continue;
    Piece part;
    part.text.assign(piece.text, span.begin, span.end - span.begin);
    part.at_origin = piece.at_origin && span.begin == 0;
    out.push_back(std::move(part));
  }
}

}  // namespace attnscope::tokenizer::detail
