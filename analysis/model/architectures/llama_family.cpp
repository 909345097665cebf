// Llama 2/3/3.1/3.2, Mistral, Qwen2/2.5 and Qwen3: pre-norm decoders with RMSNorm,
// rotary positions, grouped-query attention and a SwiGLU MLP. They differ only in
// biases, Qwen3's per-head q/k norms, and Mistral's sliding window.
#include <string>

#include "analysis/model/architecture.h"
#include "analysis/model/config.h"
#include "analysis/model/architectures/rope_config.h"
#include "analysis/model/weight_views.h"

namespace attnscope::model {
namespace {

std::string layer_prefix(int layer) { return "model.layers." + std::to_string(layer) + "."; }

// Qwen2/Qwen3 can switch layers to sliding-window attention; we run full attention only.
void refuse_sliding_layers(const ConfigReader& config) {
  if (config.boolean_or("use_sliding_window", false))
    config.fail("use_sliding_window", "is true; Qwen's sliding-window layers are not supported");
  if (const nlohmann::json* types = config.find("layer_types")) {
    if (!types->is_array()) config.fail("layer_types", "must be a list of layer kinds");
    for (const nlohmann::json& t : *types)
      if (!t.is_string() || t.get<std::string>() != "full_attention")
        config.fail("layer_types", "lists " + t.dump() + "; only \"full_attention\" layers are supported");
  }
}

void read_head_layout(const ConfigReader& config, ModelSpec& spec) {
  spec.num_heads = config.count("num_attention_heads");
  spec.num_kv_heads = config.optional_count("num_key_value_heads").value_or(spec.num_heads);
  if (spec.num_heads % spec.num_kv_heads != 0)
    config.fail("num_key_value_heads", "(" + std::to_string(spec.num_kv_heads) +
                                           ") must divide num_attention_heads (" + std::to_string(spec.num_heads) + ")");
  if (spec.architecture == Architecture::Qwen3) {
    spec.head_dim = config.count("head_dim");  // Qwen3 heads are not hidden_size / heads wide
  } else if (auto head_dim = config.optional_count("head_dim")) {
    spec.head_dim = *head_dim;
  } else {
    if (spec.hidden_size % spec.num_heads != 0)
      config.fail("num_attention_heads", "(" + std::to_string(spec.num_heads) + ") does not divide hidden_size (" +
                                             std::to_string(spec.hidden_size) + ") and no head_dim is given");
    if (spec.hidden_size / spec.num_heads > kMaxHeadDim)
      config.fail("hidden_size", "(" + std::to_string(spec.hidden_size) + ") over num_attention_heads gives more than " +
                                     std::to_string(kMaxHeadDim) + " dimensions per head, which AttnScope does not support");
    spec.head_dim = int(spec.hidden_size / spec.num_heads);
  }
  if (spec.head_dim % 2 != 0)
    config.fail("head_dim", "(" + std::to_string(spec.head_dim) + ") must be even for rotary embeddings");
}

class LlamaFamily final : public ArchitectureAdapter {
 public:
  void read_config(const ConfigReader& config, ModelSpec& spec) const override {
    spec.vocab_size = config.positive_int("vocab_size");
    spec.hidden_size = config.positive_int("hidden_size");
    spec.intermediate_size = config.positive_int("intermediate_size");
    spec.num_layers = config.count("num_hidden_layers");
    read_head_layout(config, spec);
    spec.max_position_embeddings = config.positive_int("max_position_embeddings");
    spec.norm = NormKind::RmsNorm;
    spec.norm_eps = config.positive_number_or("rms_norm_eps", 1e-6);
    spec.mlp = MlpKind::SwiGlu;
    const std::string act = config.string_or("hidden_act", "silu");
    if (act != "silu") config.fail("hidden_act", "is \"" + act + "\"; only \"silu\" is supported for this architecture");
    spec.positions = PositionKind::Rope;
    spec.rope = read_rope_config(config);
    spec.tie_word_embeddings = config.boolean_or("tie_word_embeddings", false);

    switch (spec.architecture) {
      case Architecture::Llama:
        // HF Llama's attention_bias covers o_proj as well as q, k, v.
        spec.attention_bias = spec.output_bias = config.boolean_or("attention_bias", false);
        spec.mlp_bias = config.boolean_or("mlp_bias", false);
        break;
      case Architecture::Mistral:
        spec.sliding_window = config.optional_positive_int("sliding_window").value_or(0);
        break;
      case Architecture::Qwen2:
        spec.attention_bias = true;  // q, k, v always carry a bias; o_proj never does
        refuse_sliding_layers(config);
        break;
      case Architecture::Qwen3:
        spec.qk_norm = true;
        spec.attention_bias = spec.output_bias = config.boolean_or("attention_bias", false);
        refuse_sliding_layers(config);
        break;
      case Architecture::Gpt2:
        break;
    }
  }

  bool is_unused_extra(const ModelSpec& spec, std::string_view name) const override {
    // Older checkpoints saved RoPE's inverse frequencies as a buffer.
    if (name.ends_with("rotary_emb.inv_freq")) return true;
    return spec.tie_word_embeddings && name == "lm_head.weight";
  }

  std::vector<ExpectedTensor> expected_tensors(const ModelSpec& s) const override {
    const int64_t h = s.hidden_size, i = s.intermediate_size, qw = s.q_width(), kvw = s.kv_width();
    std::vector<ExpectedTensor> out;
    out.push_back({"model.embed_tokens.weight", {s.vocab_size, h}});
    for (int l = 0; l < s.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      out.push_back({p + "input_layernorm.weight", {h}});
      out.push_back({p + "self_attn.q_proj.weight", {qw, h}});
      out.push_back({p + "self_attn.k_proj.weight", {kvw, h}});
      out.push_back({p + "self_attn.v_proj.weight", {kvw, h}});
      if (s.attention_bias) {
        out.push_back({p + "self_attn.q_proj.bias", {qw}});
        out.push_back({p + "self_attn.k_proj.bias", {kvw}});
        out.push_back({p + "self_attn.v_proj.bias", {kvw}});
      }
      if (s.qk_norm) {
        out.push_back({p + "self_attn.q_norm.weight", {s.head_dim}});
        out.push_back({p + "self_attn.k_norm.weight", {s.head_dim}});
      }
      out.push_back({p + "self_attn.o_proj.weight", {h, qw}});
      if (s.output_bias) out.push_back({p + "self_attn.o_proj.bias", {h}});
      out.push_back({p + "post_attention_layernorm.weight", {h}});
      out.push_back({p + "mlp.gate_proj.weight", {i, h}});
      out.push_back({p + "mlp.up_proj.weight", {i, h}});
      out.push_back({p + "mlp.down_proj.weight", {h, i}});
      if (s.mlp_bias) {
        out.push_back({p + "mlp.gate_proj.bias", {i}});
        out.push_back({p + "mlp.up_proj.bias", {i}});
        out.push_back({p + "mlp.down_proj.bias", {h}});
      }
    }
    out.push_back({"model.norm.weight", {h}});
    if (!s.tie_word_embeddings) out.push_back({"lm_head.weight", {s.vocab_size, h}});
    return out;
  }

  ModelWeights build_weights(const ModelSpec& s, const TensorLookup& find) const override {
    ModelWeights w;
    w.token_embedding = single(find("model.embed_tokens.weight"));
    for (int l = 0; l < s.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      LayerWeights& layer = w.layers.emplace_back();
      layer.attn_norm = single(find(p + "input_layernorm.weight"));
      layer.qkv = stacked({find(p + "self_attn.q_proj.weight"), find(p + "self_attn.k_proj.weight"),
                           find(p + "self_attn.v_proj.weight")});
      if (s.attention_bias)
        layer.qkv_bias = joined_vectors({find(p + "self_attn.q_proj.bias"), find(p + "self_attn.k_proj.bias"),
                                         find(p + "self_attn.v_proj.bias")},
                                        w.keep_alive);
      if (s.qk_norm) {
        layer.q_norm = single(find(p + "self_attn.q_norm.weight"));
        layer.k_norm = single(find(p + "self_attn.k_norm.weight"));
      }
      layer.attn_out = single(find(p + "self_attn.o_proj.weight"));
      if (s.output_bias) layer.attn_out_bias = single(find(p + "self_attn.o_proj.bias"));
      layer.mlp_norm = single(find(p + "post_attention_layernorm.weight"));
      layer.mlp_in = stacked({find(p + "mlp.gate_proj.weight"), find(p + "mlp.up_proj.weight")});
      layer.mlp_out = single(find(p + "mlp.down_proj.weight"));
      if (s.mlp_bias) {
        layer.mlp_in_bias = joined_vectors({find(p + "mlp.gate_proj.bias"), find(p + "mlp.up_proj.bias")}, w.keep_alive);
        layer.mlp_out_bias = single(find(p + "mlp.down_proj.bias"));
      }
    }
    w.final_norm = single(find("model.norm.weight"));
    w.lm_head = s.tie_word_embeddings ? w.token_embedding : single(find("lm_head.weight"));
    return w;
  }
};

}  // namespace

const ArchitectureAdapter& llama_family_adapter() {
  static const LlamaFamily adapter;
  return adapter;
}

}  // namespace attnscope::model
