#pragma once
// Internal to analysis/tokenizer: the BPE model of tokenizer.json, merging exactly as
// tokenizers' BPE::merge_word / Word::merge_all do (lowest rank first, then leftmost).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analysis/tokenizer/json_node.h"
#include "analysis/tokenizer/merge_table.h"
#include "analysis/tokenizer/string_map.h"

namespace attnscope::tokenizer::detail {

class BpeModel {
 public:
  // Reads the "model" object (type "BPE"); other model types are an error.
  static BpeModel parse(const JsonNode& model);

  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;
  ~BpeModel();

  // Appends the ids of one pre-token to `ids`.
  void tokenize(std::string_view word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_id(std::string_view token) const;
  const std::string* token_string(int32_t id) const;
  int32_t max_id() const { return max_id_; }  // -1 for an empty vocabulary
  size_t vocab_count() const { return vocab_.size(); }

 private:
  BpeModel();
  void tokenize_cached(std::string_view word, std::vector<int32_t>& ids) const;
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  int32_t unk_id() const;

  struct Cache;

  std::string origin_;  // the file, for errors raised while encoding
  StringMap<int32_t> vocab_;
  std::unordered_map<int32_t, const std::string*> vocab_r_;
  MergeTable merges_;
  std::optional<std::string> unk_token_;
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool cut_before_metaspace_ = false;  // words may be cut before "▁" (see bpe_model.cpp)
  std::array<int32_t, 256> byte_ids_{};  // id of "<0xXX>" per byte, -1 when absent
  int32_t max_id_ = -1;
  std::unique_ptr<Cache> cache_;
};

}  // namespace attnscope::tokenizer::detail
