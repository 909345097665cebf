#pragma once
// Hugging Face tokenizer.json: encode and decode exactly as the `tokenizers` library does.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::tokenizer {

class Tokenizer {
 public:
  // Reads tokenizer.json; throws attnscope::Error naming the file and the problem.
  static Tokenizer from_file(const std::filesystem::path& tokenizer_json);
  // Same from the JSON text; `origin` names it in errors.
  static Tokenizer from_json(std::string_view json_text, const std::string& origin);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Ids of `text`, as tokenizers' `encode(text, add_special_tokens)` gives them.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Text of `ids`, as tokenizers' `decode(ids, skip_special_tokens)` gives it.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The vocabulary string of a token (e.g. "Ġthe", "▁the", "<0x0A>"); empty if unknown.
  std::string token_string(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view token) const;
  // Largest id + 1 over the model vocabulary and the added tokens.
  int64_t vocab_size() const;
  bool is_special(int32_t id) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A model's tokenizer.json (model_dir / "tokenizer.json"), checked against the model's
// vocabulary (config.json's vocab_size): an id past it would only fail in the forward
// pass, as an embedding row that does not exist. attnscope::Error naming the file.
Tokenizer load_model_tokenizer(const std::filesystem::path& model_dir, int64_t model_vocab_size);

}  // namespace attnscope::tokenizer
