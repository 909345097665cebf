// GPT-2: post-2019 pre-norm decoder with LayerNorm, learned positions, a fused
// c_attn projection and a gelu_new MLP. Its Conv1D layers store weights [in, out],
// the transpose of nn.Linear, so they are handed over as transposed views.
#include <cctype>
#include <string>

#include "analysis/model/architecture.h"
#include "analysis/model/config.h"
#include "analysis/model/weight_views.h"

namespace attnscope::model {
namespace {

constexpr std::string_view kPrefix = "transformer.";  // GPT2LMHeadModel's; the original gpt2 files have none

std::string layer_prefix(int layer) { return "h." + std::to_string(layer) + "."; }

// "h.<n>.attn.<what>"
bool is_attention_buffer(std::string_view name, std::string_view what) {
  if (!name.starts_with("h.")) return false;
  std::size_t i = 2;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  return i > 2 && name.substr(i) == ".attn." + std::string(what);
}

void require_false(const ConfigReader& config, std::string_view key, const std::string& why) {
  if (config.boolean_or(key, false)) config.fail(key, "is true; " + why + " is not supported");
}

class Gpt2 final : public ArchitectureAdapter {
 public:
  void read_config(const ConfigReader& config, ModelSpec& spec) const override {
    spec.vocab_size = config.positive_int("vocab_size");
    spec.hidden_size = config.positive_int("n_embd");
    spec.num_layers = config.count("n_layer");
    spec.num_heads = config.count("n_head");
    spec.num_kv_heads = spec.num_heads;
    if (spec.hidden_size % spec.num_heads != 0)
      config.fail("n_head", "(" + std::to_string(spec.num_heads) + ") does not divide n_embd (" +
                                std::to_string(spec.hidden_size) + ")");
    if (spec.hidden_size / spec.num_heads > kMaxHeadDim)
      config.fail("n_embd", "(" + std::to_string(spec.hidden_size) + ") over n_head gives more than " +
                                std::to_string(kMaxHeadDim) + " dimensions per head, which AttnScope does not support");
    spec.head_dim = int(spec.hidden_size / spec.num_heads);
    spec.intermediate_size = config.optional_positive_int("n_inner").value_or(4 * spec.hidden_size);
    spec.max_position_embeddings = config.positive_int("n_positions");

    spec.norm = NormKind::LayerNorm;
    spec.norm_eps = config.positive_number_or("layer_norm_epsilon", 1e-5);
    spec.mlp = MlpKind::GeluTanh;
    const std::string act = config.string_or("activation_function", "gelu_new");
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
      config.fail("activation_function", "is \"" + act + "\"; only the tanh GELU (gelu_new, gelu_pytorch_tanh) is supported");
    spec.positions = PositionKind::Learned;
    spec.attention_bias = spec.output_bias = spec.mlp_bias = true;

    require_false(config, "scale_attn_by_inverse_layer_idx", "scaling attention by the layer index");
    require_false(config, "reorder_and_upcast_attn", "reordered, upcast attention");
    require_false(config, "add_cross_attention", "cross-attention");
    if (!config.boolean_or("scale_attn_weights", true))
      config.fail("scale_attn_weights", "is false; unscaled attention scores are not supported");
    // Tied unless the config says otherwise (the transformers default).
    spec.tie_word_embeddings = config.boolean_or("tie_word_embeddings", true);
  }

  std::string canonical_name(std::string_view stored) const override {
    if (stored.starts_with(kPrefix)) stored.remove_prefix(kPrefix.size());
    return std::string(stored);
  }

  bool is_unused_extra(const ModelSpec& spec, std::string_view name) const override {
    // The causal mask and its fill value, saved as buffers by older transformers.
    if (is_attention_buffer(name, "bias") || is_attention_buffer(name, "masked_bias")) return true;
    return spec.tie_word_embeddings && name == "lm_head.weight";
  }

  std::vector<ExpectedTensor> expected_tensors(const ModelSpec& s) const override {
    const int64_t h = s.hidden_size, i = s.intermediate_size;
    std::vector<ExpectedTensor> out;
    out.push_back({"wte.weight", {s.vocab_size, h}});
    out.push_back({"wpe.weight", {s.max_position_embeddings, h}});
    for (int l = 0; l < s.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      out.push_back({p + "ln_1.weight", {h}});
      out.push_back({p + "ln_1.bias", {h}});
      out.push_back({p + "attn.c_attn.weight", {h, 3 * h}});
      out.push_back({p + "attn.c_attn.bias", {3 * h}});
      out.push_back({p + "attn.c_proj.weight", {h, h}});
      out.push_back({p + "attn.c_proj.bias", {h}});
      out.push_back({p + "ln_2.weight", {h}});
      out.push_back({p + "ln_2.bias", {h}});
      out.push_back({p + "mlp.c_fc.weight", {h, i}});
      out.push_back({p + "mlp.c_fc.bias", {i}});
      out.push_back({p + "mlp.c_proj.weight", {i, h}});
      out.push_back({p + "mlp.c_proj.bias", {h}});
    }
    out.push_back({"ln_f.weight", {h}});
    out.push_back({"ln_f.bias", {h}});
    if (!s.tie_word_embeddings) out.push_back({"lm_head.weight", {s.vocab_size, h}});
    return out;
  }

  ModelWeights build_weights(const ModelSpec& s, const TensorLookup& find) const override {
    ModelWeights w;
    w.token_embedding = single(find("wte.weight"));
    w.position_embedding = single(find("wpe.weight"));
    for (int l = 0; l < s.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      LayerWeights& layer = w.layers.emplace_back();
      layer.attn_norm = single(find(p + "ln_1.weight"));
      layer.attn_norm_bias = single(find(p + "ln_1.bias"));
      layer.qkv = transposed(find(p + "attn.c_attn.weight"));  // out dimension is already q|k|v
      layer.qkv_bias = single(find(p + "attn.c_attn.bias"));
      layer.attn_out = transposed(find(p + "attn.c_proj.weight"));
      layer.attn_out_bias = single(find(p + "attn.c_proj.bias"));
      layer.mlp_norm = single(find(p + "ln_2.weight"));
      layer.mlp_norm_bias = single(find(p + "ln_2.bias"));
      layer.mlp_in = transposed(find(p + "mlp.c_fc.weight"));
      layer.mlp_in_bias = single(find(p + "mlp.c_fc.bias"));
      layer.mlp_out = transposed(find(p + "mlp.c_proj.weight"));
      layer.mlp_out_bias = single(find(p + "mlp.c_proj.bias"));
    }
    w.final_norm = single(find("ln_f.weight"));
    w.final_norm_bias = single(find("ln_f.bias"));
    w.lm_head = s.tie_word_embeddings ? w.token_embedding : single(find("lm_head.weight"));
    return w;
  }
};

}  // namespace

const ArchitectureAdapter& gpt2_adapter() {
  static const Gpt2 adapter;
  return adapter;
}

}  // namespace attnscope::model
