// Decoders: token strings back to text, each as tokenizers defines its decode_chain
// (see decoders.h).
#include "analysis/tokenizer/decoders.h"

#include <optional>
#include <vector>

#include "analysis/tokenizer/byte_level.h"
#include "analysis/tokenizer/pattern.h"
#include "analysis/tokenizer/unicode_utf8.h"

namespace attnscope::tokenizer::detail {

namespace {

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// ByteLevel: all tokens to bytes, then one lossy UTF-8 string. A token with a character
// outside the byte alphabet (an added token with a space, say) contributes its raw UTF-8.
class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      if (auto b = bytes_of_byte_level(token)) {
        bytes += *b;
      } else {
        bytes += token;
      }
    }
    tokens.assign(1, utf8::lossy(bytes));
  }
};

// Metaspace: the replacement character becomes a space, except in the first token, where it
// is dropped unless the prepend scheme is "never".
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool drop_in_first) : drop_in_first_(drop_in_first) {
    utf8::append(replacement_, replacement);
  }
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& token = tokens[i];
      std::string out;
      out.reserve(token.size());
      for (size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !drop_in_first_) out += ' ';
          pos += replacement_.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool drop_in_first_;
};

class ReplaceDecoder final : public Decoder {
 public:
  explicit ReplaceDecoder(Replacement replacement) : replacement_(std::move(replacement)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) replacement_.apply(token);
  }

 private:
  Replacement replacement_;
};

// Rust's u8::from_str_radix(s, 16) on the two characters of "<0xXX>" (it accepts "+X" too).
std::optional<uint8_t> parse_hex_byte(std::string_view s) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (s[0] == '+') {
    int d = digit(s[1]);
    return d < 0 ? std::nullopt : std::optional<uint8_t>(static_cast<uint8_t>(d));
  }
  int hi = digit(s[0]), lo = digit(s[1]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

// ByteFallback: runs of "<0xXX>" tokens become the text they encode; a run that is not valid
// UTF-8 becomes one U+FFFD per byte.
class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& token : tokens) {
      std::optional<uint8_t> byte;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
        byte = parse_hex_byte(std::string_view(token).substr(3, 2));
      }
      if (byte) {
        pending.push_back(static_cast<char>(*byte));
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    tokens.assign(1, std::move(joined));
  }
};

// Strip: removes up to `start` leading and `stop` trailing copies of one character per token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      std::vector<char32_t> chars;
      for (size_t i = 0; i < token.size();) chars.push_back(utf8::next(token, i));
      size_t begin = 0;
      while (begin < start_ && begin < chars.size() && chars[begin] == content_) ++begin;
      size_t end = chars.size();
      for (size_t k = 0; k < stop_ && end > 0 && chars[end - 1] == content_; ++k) --end;
      std::string out;
      for (size_t k = begin; k < end; ++k) utf8::append(out, chars[k]);
      token = std::move(out);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

// BPEDecoder: the end-of-word suffix becomes a space, except on the last token, where it goes.
class BpeSuffixDecoder final : public Decoder {
 public:
  explicit BpeSuffixDecoder(const std::string& suffix)
      : to_space_(Replacement::literal(suffix, " ")), to_nothing_(Replacement::literal(suffix, "")) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) (i + 1 == tokens.size() ? to_nothing_ : to_space_).apply(tokens[i]);
  }

 private:
  Replacement to_space_, to_nothing_;
};

size_t count_field(const JsonNode& node, std::string_view key) {
  auto field = node.optional_field(key);
  if (!field) return 0;
  int64_t v = field->as_int();
  if (v < 0) field->fail("expected a non-negative count");
  return static_cast<size_t>(v);
}

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const JsonNode& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.type_name();
  if (type == "Sequence") {
    return std::make_unique<SequenceDecoder>(parse_each(node.field("decoders"), parse_decoder, "a decoder"));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    char32_t replacement = node.field("replacement").as_char();
    bool drop_in_first = true;
    if (auto scheme = node.optional_string("prepend_scheme")) {
      drop_in_first = *scheme != "never";
    } else {
      drop_in_first = node.bool_field("add_prefix_space", true);
    }
    return std::make_unique<MetaspaceDecoder>(replacement, drop_in_first);
  }
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(Replacement::parse(node));
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(node.field("content").as_char(), count_field(node, "start"),
                                          count_field(node, "stop"));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(node.optional_string("suffix").value_or("</w>"));
  node.field("type").fail("unsupported decoder type \"" + type + "\"");
}

}  // namespace attnscope::tokenizer::detail
