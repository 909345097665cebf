// The pre-tokenizers of tokenizer.json, each as tokenizers defines it (see pre_tokenizers.h).
#include "analysis/tokenizer/pre_tokenizers.h"

#include <vector>

#include "analysis/tokenizer/byte_level.h"
#include "analysis/tokenizer/pattern.h"
#include "analysis/tokenizer/split_behavior.h"
#include "analysis/tokenizer/unicode_utf8.h"

namespace attnscope::tokenizer::detail {

namespace {

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(Pieces& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Split: cut on a regex (or an escaped string), optionally inverted.
class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Regex regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(Pieces& pieces) const override {
    Spans spans;
    split_pieces(pieces, [&](const Piece& piece, Pieces& out) {
      regex_spans(regex_, piece.text, spans);
      if (invert_) invert_spans(spans);
      split_piece(piece, spans, behavior_, out);
    });
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

// ByteLevel: optional leading space, optional GPT-2 regex split, then every byte of every
// piece becomes its byte-level character.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::optional<Regex>(Regex(kGpt2SplitPattern)) : std::nullopt) {}
  void pre_tokenize(Pieces& pieces) const override {
    if (add_prefix_space_ || regex_) {
      Spans spans;
      split_pieces(pieces, [&](Piece& piece, Pieces& out) {
        if (add_prefix_space_ && (piece.text.empty() || piece.text[0] != ' ')) piece.text.insert(piece.text.begin(), ' ');
        if (regex_) {
          regex_spans(*regex_, piece.text, spans);
          split_piece(piece, spans, SplitBehavior::Isolated, out);
        } else if (!piece.text.empty()) {
          out.push_back(std::move(piece));
        }
      });
    }
    std::string mapped;
    for (Piece& piece : pieces) {
      if (piece.added_id >= 0) continue;
      mapped.clear();
      append_byte_level(mapped, piece.text);
      piece.text.swap(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::optional<Regex> regex_;
};

enum class PrependScheme { Always, Never, First };

// Metaspace: spaces become the replacement character ("▁"), a leading one is added as the
// scheme says, and each replacement character starts a new piece.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {
    utf8::append(replacement_utf8_, replacement);
  }
  void pre_tokenize(Pieces& pieces) const override {
    Spans spans;
    split_pieces(pieces, [&](Piece& piece, Pieces& out) {
      std::string replaced;
      replaced.reserve(piece.text.size() + 8);
      for (char c : piece.text) {
        if (c == ' ') {
          replaced += replacement_utf8_;
        } else {
          replaced += c;
        }
      }
      bool starts = replaced.compare(0, replacement_utf8_.size(), replacement_utf8_) == 0;
      bool prepend = !starts && (scheme_ == PrependScheme::Always ||
                                 (scheme_ == PrependScheme::First && piece.at_origin));
      if (prepend) replaced.insert(0, replacement_utf8_);
      piece.text = std::move(replaced);
      if (split_) {
        char_spans(piece.text, [&](char32_t c) { return c == replacement_; }, spans);
        split_piece(piece, spans, SplitBehavior::MergedWithNext, out);
      } else if (!piece.text.empty()) {
        out.push_back(std::move(piece));
      }
    });
  }

 private:
  char32_t replacement_;
  std::string replacement_utf8_;
  PrependScheme scheme_;
  bool split_;
};

// Digits, Punctuation, WhitespaceSplit, CharDelimiterSplit: one character class, one behavior.
template <class Predicate>
class CharClassPreTokenizer final : public PreTokenizer {
 public:
  CharClassPreTokenizer(Predicate predicate, SplitBehavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void pre_tokenize(Pieces& pieces) const override {
    Spans spans;
    split_pieces(pieces, [&](const Piece& piece, Pieces& out) {
      char_spans(piece.text, predicate_, spans);
      split_piece(piece, spans, behavior_, out);
    });
  }

 private:
  Predicate predicate_;
  SplitBehavior behavior_;
};

template <class Predicate>
std::unique_ptr<PreTokenizer> char_class(Predicate predicate, SplitBehavior behavior) {
  return std::make_unique<CharClassPreTokenizer<Predicate>>(std::move(predicate), behavior);
}

// Whitespace: keeps the matches of \w+|[^\w\s]+ (regex crate classes) and drops the rest.
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(Pieces& pieces) const override {
    split_pieces(pieces, [&](const Piece& piece, Pieces& out) {
      const std::string& text = piece.text;
      size_t i = 0;
      while (i < text.size()) {
        size_t start = i;
        char32_t c = utf8::next(text, i);
        if (utf8::is_whitespace(c) && !utf8::is_word_char(c)) continue;
        bool word = utf8::is_word_char(c);
        size_t end = i;
        while (end < text.size()) {
          size_t j = end;
          char32_t d = utf8::next(text, j);
          bool same = word ? utf8::is_word_char(d) : (!utf8::is_word_char(d) && !utf8::is_whitespace(d));
          if (!same) break;
          end = j;
        }
        Piece part;
        part.text.assign(text, start, end - start);
        part.at_origin = piece.at_origin && start == 0;
        out.push_back(std::move(part));
        i = end;
      }
    });
  }
};

SplitBehavior parse_behavior(const JsonNode& node) {
  std::string name = node.as_string();
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  node.fail("unknown split behavior \"" + name + "\"");
}

std::unique_ptr<PreTokenizer> parse_metaspace(const JsonNode& node) {
  char32_t replacement = node.field("replacement").as_char();
  PrependScheme scheme = PrependScheme::Always;
  if (auto s = node.optional_field("prepend_scheme")) {
    std::string name = s->as_string();
    if (name == "always") {
      scheme = PrependScheme::Always;
    } else if (name == "never") {
      scheme = PrependScheme::Never;
    } else if (name == "first") {
      scheme = PrependScheme::First;
    } else {
      s->fail("unknown prepend_scheme \"" + name + "\"");
    }
  } else if (!node.bool_field("add_prefix_space", true)) {
    scheme = PrependScheme::Never;  // files written before prepend_scheme existed
  }
  return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, node.bool_field("split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonNode& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.type_name();
  if (type == "Sequence") {
    return std::make_unique<SequencePreTokenizer>(
        parse_each(node.field("pretokenizers"), parse_pre_tokenizer, "a pre-tokenizer"));
  }
  if (type == "Split") {
    Regex regex = parse_pattern(node.field("pattern"));
    return std::make_unique<SplitPreTokenizer>(std::move(regex), parse_behavior(node.field("behavior")),
                                               node.bool_field("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(node.bool_field("add_prefix_space", true),
                                                   node.bool_field("use_regex", true));
  }
  if (type == "Metaspace") return parse_metaspace(node);
  if (type == "Digits") {
    bool individual = node.bool_field("individual_digits", false);
    return char_class(utf8::is_numeric, individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }
  if (type == "Punctuation") {
    auto behavior = node.optional_field("behavior");
    return char_class(utf8::is_punctuation, behavior ? parse_behavior(*behavior) : SplitBehavior::Isolated);
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return char_class(utf8::is_whitespace, SplitBehavior::Removed);
  if (type == "CharDelimiterSplit") {
    char32_t delimiter = node.field("delimiter").as_char();
    return char_class([delimiter](char32_t c) { return c == delimiter; }, SplitBehavior::Removed);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.push_back(char_class(utf8::is_whitespace, SplitBehavior::Removed));
    steps.push_back(char_class(utf8::is_punctuation, SplitBehavior::Isolated));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  node.field("type").fail("unsupported pre-tokenizer type \"" + type + "\"");
}

}  // namespace attnscope::tokenizer::detail
