#pragma once
// The shape every exported or imported profile must match: decoder layers, query heads
// and KV heads, with the model's identity for file headers and messages, read from the
// checkpoint's config.json (Hugging Face keys). Only these keys are read, so a profile
// can be checked against any model's config.json, also one of an architecture the
// runtime does not run (a Phi-3 or Qwen2.5 MInference file).
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace attnscope::exports {

struct ModelShape {
  int layers = 0;
  int heads = 0;     // query heads
  int kv_heads = 0;  // == heads without GQA
  std::string name;          // "_name_or_path", else the checkpoint directory's name
  std::string architecture;  // "LlamaForCausalLM" ("" when config.json has none)
  std::string model_type;    // "llama"
  std::string config_file;   // where the shape came from, for messages

  // Query heads per KV head.
  int group_size() const { return heads / kv_heads; }
  // HF repeat_kv order: query head h reads KV head h / group_size().
  int kv_head_of(int head) const { return head / group_size(); }
  // "Meta-Llama-3.1-8B (config.json): 32 layers, 32 query heads, 8 KV heads".
  std::string describe() const;
};

// `path` is a checkpoint directory or its config.json. attnscope::Error naming the file
// for a missing file, bad JSON, a missing or non-positive count, or KV heads that do not
// divide the query heads. Keys: num_hidden_layers (n_layer), num_attention_heads
// (n_head), num_key_value_heads (absent: the query heads).
ModelShape read_model_shape(const std::filesystem::path& path);
ModelShape model_shape_from_config(const nlohmann::json& config, const std::string& config_file,
                                   const std::string& fallback_name);

// What a profile file's own shape is checked with: attnscope::Error(file, "<found> <what>
// but the model (<config>) has <expected> <dimension>") when found != expected, e.g.
// "full_attention_heads.tsv: 28 rows but the model (config.json) has 32 layers".
void check_dimension(const std::string& file, int64_t found, const std::string& what, int64_t expected,
                     const std::string& dimension, const ModelShape& shape);

}  // namespace attnscope::exports
