#pragma once
// Everything the runtime needs to know about a model, read from config.json.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/dtype.h"

namespace attnscope::model {

enum class Architecture { Llama, Mistral, Qwen2, Qwen3, Gpt2 };

enum class NormKind { RmsNorm, LayerNorm };
enum class MlpKind { SwiGlu, GeluTanh };  // gate/up/down with SiLU; GPT-2 fc/proj with gelu_new
enum class PositionKind { Rope, Learned };

enum class RopeScaling { None, Linear, Llama3 };

struct RopeSpec {
  double theta = 10000.0;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1.0;                          // linear and llama3
  double low_freq_factor = 1.0;                 // llama3
  double high_freq_factor = 4.0;                // llama3
  int64_t original_max_position_embeddings = 8192;  // llama3
};

struct ModelSpec {
  Architecture architecture = Architecture::Llama;
  std::string architecture_name;  // as in config.json "architectures", e.g. "LlamaForCausalLM"
  std::string model_type;         // "llama", "mistral", "qwen2", "qwen3", "gpt2"

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;      // query heads
  int num_kv_heads = 0;   // == num_heads without GQA
  int head_dim = 0;
  int64_t max_position_embeddings = 0;

  NormKind norm = NormKind::RmsNorm;
  double norm_eps = 1e-6;
  MlpKind mlp = MlpKind::SwiGlu;
  PositionKind positions = PositionKind::Rope;
  RopeSpec rope;

  bool attention_bias = false;   // bias on q, k, v (Qwen2; Llama's attention_bias)
  bool output_bias = false;      // bias on the attention output projection
  bool mlp_bias = false;
  bool qk_norm = false;          // Qwen3: RMSNorm on each q and k head before RoPE
  bool tie_word_embeddings = false;
  int64_t sliding_window = 0;    // 0: full attention (Mistral may set a window)

  kernels::DType dtype = kernels::DType::F32;  // config's torch_dtype (informational)
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;

  int64_t q_width() const { return int64_t(num_heads) * head_dim; }
  int64_t kv_width() const { return int64_t(num_kv_heads) * head_dim; }
};

std::string architecture_name(Architecture a);

}  // namespace attnscope::model
