#pragma once
// The decoder-only transformer forward pass over a Backend, with a KV cache.
// One code path serves every supported architecture; the differences (norm kind,
// MLP kind, learned vs rotary positions, biases, q/k norms, sliding window) come
// from the ModelSpec.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/head_rule_plan.h"
#include "kernels/backend.h"

namespace attnscope::runtime {

// None: no logits (a prompt's chunks before its last): the LM head is not run and nothing
// is downloaded, so the call returns without waiting for the device.
enum class Logits { LastRow, AllRows, None };

class Transformer {
 public:
  // Uploads the checkpoint's weights to `backend` and allocates a KV cache for
  // `max_context` tokens (the model's max_position_embeddings when 0).
  Transformer(const model::Checkpoint& checkpoint, kernels::Backend& backend, int64_t max_context = 0);

  const model::ModelSpec& spec() const { return spec_; }
  kernels::Backend& backend() { return backend_; }
  int64_t max_context() const { return max_context_; }
  // Tokens held in the KV cache.
  int64_t position() const { return position_; }
  void reset() { position_ = 0; }

  // Runs `ids` at the current position, appending them to the KV cache, and returns
  // the logits of the last row or of every row ([rows, vocab], row-major), or nothing.
  // `capture` (may be null) receives the attention statistics of its layers; `rules`
  // (may be null: every head dense) sets each head's attention rule, and must have the
  // model's layers and heads (attnscope::Error otherwise).
  std::vector<float> forward(std::span<const int32_t> ids, capture::Capture* capture, Logits logits,
                             const HeadRulePlan* rules = nullptr);

  // Runs `ids` like forward and returns, instead of logits, the final hidden states of
  // rows [first_row, ids.size()) ([rows, hidden_size], row-major): the output of the
  // final norm, i.e. the LM head's input (Hugging Face's last_hidden_state, DuoAttention's
  // distillation target). first_row == ids.size() returns nothing (the rows still run).
  std::vector<float> forward_hidden(std::span<const int32_t> ids, capture::Capture* capture,
                                    const HeadRulePlan* rules, int64_t first_row);

 private:
  struct Layer {
    kernels::Tensor attn_norm, attn_norm_bias, qkv, qkv_bias, q_norm, k_norm;
    kernels::Tensor attn_out, attn_out_bias, mlp_norm, mlp_norm_bias;
    kernels::Tensor mlp_in, mlp_in_bias, mlp_out, mlp_out_bias;
    kernels::Tensor k_cache, v_cache;
  };

  // Every weight onto the backend, and each layer's KV cache (in the constructor).
  void upload_weights(const model::ModelWeights& weights);
  void norm(const kernels::Tensor& x, const kernels::Tensor& weight, const kernels::Tensor& bias,
            kernels::Tensor& y);
  void attention_block(Layer& layer, kernels::Tensor& x, int64_t first_position,
                       kernels::AttentionCapture* capture, const kernels::AttentionRules* rules);
  // Embeds `ids`, runs every layer and advances position(); returns the residual stream.
  kernels::Tensor run_layers(std::span<const int32_t> ids, capture::Capture* capture, const HeadRulePlan* rules);
  void mlp_block(Layer& layer, kernels::Tensor& x);

  model::ModelSpec spec_;
  kernels::Backend& backend_;
  int64_t max_context_ = 0;
  int64_t position_ = 0;
  kernels::RopeTable rope_;
  kernels::Tensor token_embedding_, position_embedding_, final_norm_, final_norm_bias_, lm_head_;
  std::vector<Layer> layers_;
};

}  // namespace attnscope::runtime
