// Tokenizer: the public face (tokenizer.h) over the pipeline stages in this folder.
// encode = added tokens split out -> normalizer -> pre-tokenizer -> BPE -> post-processor,
// decode = ids -> token strings -> decoder, both as Hugging Face tokenizers runs them.
#include "analysis/tokenizer/tokenizer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "analysis/tokenizer/tokenizer_parts.h"
#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"

namespace attnscope::tokenizer {

struct Tokenizer::Impl : detail::TokenizerParts {
  explicit Impl(detail::TokenizerParts parts) : detail::TokenizerParts(std::move(parts)) {}
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json) {
  const std::string origin = tokenizer_json.string();
  // A folder opens fine on Linux and then reads as nothing; say what is wrong instead.
  std::error_code ec;
  if (std::filesystem::is_directory(tokenizer_json, ec)) throw Error(origin, "is a folder, not a tokenizer.json file");
  std::ifstream in(tokenizer_json, std::ios::binary);
  if (!in) throw Error(origin, std::string("cannot open the file: ") + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(origin, "cannot read the file");
  const std::string text = buffer.str();
  if (text.empty()) throw Error(origin, "the file is empty");
  return from_json(text, origin);
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& origin) {
  return Tokenizer(std::make_unique<Impl>(detail::parse_tokenizer_json(json_text, origin)));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  // tokenizers takes a Rust &str, always valid UTF-8; other bytes become U+FFFD first (what a
  // lossy conversion to str would give), so the stages below may assume valid UTF-8.
  std::string repaired;
  if (!utf8::is_valid(text)) {
    repaired = utf8::lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  detail::Pieces pieces = impl_->added.extract_and_normalize(text, impl_->normalizer.get());
  // Pre-tokenizers work piece by piece, so doing one top-level piece at a time gives the same
  // result with less memory.
  detail::Pieces work;
  for (detail::Piece& piece : pieces) {
    if (piece.added_id >= 0) {
      ids.push_back(piece.added_id);
      continue;
    }
    work.clear();
    work.push_back(std::move(piece));
    if (impl_->pre_tokenizer) impl_->pre_tokenizer->pre_tokenize(work);
    for (const detail::Piece& part : work) {
      if (part.added_id >= 0) {
        ids.push_back(part.added_id);
      } else {
        impl_->model.tokenize(part.text, ids);
      }
    }
  }
  if (add_special_tokens && impl_->post_processor) impl_->post_processor->process(ids);
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* token = nullptr;
    if (const auto* added = impl_->added.by_id(id)) {
      token = &added->content;
    } else {
      token = impl_->model.token_string(id);
    }
    if (token == nullptr) continue;  // unknown ids are skipped, as in tokenizers
    if (skip_special_tokens && impl_->added.is_special_content(*token)) continue;
    tokens.push_back(*token);
  }
  if (!impl_->decoder) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) joined += ' ';
      joined += tokens[i];
    }
    return joined;
  }
  impl_->decoder->decode_chain(tokens);
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

std::string Tokenizer::token_string(int32_t id) const {
  if (const auto* added = impl_->added.by_id(id)) return added->content;
  const std::string* token = impl_->model.token_string(id);
  return token ? *token : std::string();
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (auto id = impl_->added.id_of(token)) return id;
  return impl_->model.token_id(token);
}

int64_t Tokenizer::vocab_size() const {
  return static_cast<int64_t>(std::max(impl_->model.max_id(), impl_->added.max_id())) + 1;
}

bool Tokenizer::is_special(int32_t id) const {
  const auto* added = impl_->added.by_id(id);
  return added != nullptr && added->special;
}

Tokenizer load_model_tokenizer(const std::filesystem::path& model_dir, int64_t model_vocab_size) {
  const std::filesystem::path file = model_dir / "tokenizer.json";
  Tokenizer tokenizer = Tokenizer::from_file(file);
  if (tokenizer.vocab_size() > model_vocab_size)
    throw Error(file.string(), "has token ids up to " + std::to_string(tokenizer.vocab_size() - 1) +
                                   ", past the model's vocabulary of " + std::to_string(model_vocab_size) +
                                   " tokens (vocab_size in " + (model_dir / "config.json").string() + ")");
  return tokenizer;
}

}  // namespace attnscope::tokenizer
