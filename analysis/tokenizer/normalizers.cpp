// The normalizers of tokenizer.json, each as tokenizers defines it (see normalizers.h).
#include "analysis/tokenizer/normalizers.h"

#include <vector>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include "analysis/tokenizer/pattern.h"
#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"

namespace attnscope::tokenizer::detail {

namespace {

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Prepend: adds a prefix to every non-empty piece (Llama 2's legacy "▁").
class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  explicit ReplaceNormalizer(Replacement replacement) : replacement_(std::move(replacement)) {}
  void normalize(std::string& text) const override { replacement_.apply(text); }

 private:
  Replacement replacement_;
};

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// NFC / NFKC / NFD / NFKD through ICU. ASCII text is already in every normal form.
class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(const icu::Normalizer2* normalizer) : normalizer_(normalizer) {}
  void normalize(std::string& text) const override {
    if (is_ascii(text)) return;
    UErrorCode status = U_ZERO_ERROR;
    icu::StringPiece input(text.data(), static_cast<int32_t>(text.size()));
    if (normalizer_->isNormalizedUTF8(input, status) && U_SUCCESS(status)) return;
    status = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
    normalizer_->normalizeUTF8(0, input, sink, nullptr, status);
    if (U_FAILURE(status)) throw Error("ICU", std::string("Unicode normalization failed: ") + u_errorName(status));
    text = std::move(out);
  }

 private:
  const icu::Normalizer2* normalizer_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) utf8::append_lowercase(out, utf8::next(text, i));
    text = std::move(out);
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t i = begin;
        if (!utf8::is_whitespace(utf8::next(text, i))) break;
        begin = i;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t i = start;
        if (!utf8::is_whitespace(utf8::next(text, i))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

// StripAccents: drops combining marks (meant to follow NFD / NFKD).
class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    if (is_ascii(text)) return;
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      if (!utf8::is_mark(utf8::next(text, i))) out.append(text, start, i - start);
    }
    text = std::move(out);
  }
};

const icu::Normalizer2* icu_instance(const JsonNode& node, const std::string& type) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = type == "NFC"    ? icu::Normalizer2::getNFCInstance(status)
                              : type == "NFKC" ? icu::Normalizer2::getNFKCInstance(status)
                              : type == "NFD"  ? icu::Normalizer2::getNFDInstance(status)
                                               : icu::Normalizer2::getNFKDInstance(status);
  if (U_FAILURE(status) || n == nullptr) {
    node.fail("ICU cannot provide " + type + ": " + u_errorName(status));
  }
  return n;
}

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const JsonNode& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.type_name();
  if (type == "Sequence") {
    return std::make_unique<SequenceNormalizer>(parse_each(node.field("normalizers"), parse_normalizer, "a normalizer"));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node.string_field("prepend"));
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(Replacement::parse(node));
  if (type == "NFC" || type == "NFKC" || type == "NFD" || type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(icu_instance(node, type));
  }
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(node.bool_field("strip_left", true),
                                             node.bool_field("strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  node.field("type").fail("unsupported normalizer type \"" + type + "\"");
}

}  // namespace attnscope::tokenizer::detail
