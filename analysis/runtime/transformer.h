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
#include "kernels/backend.h"

namespace attnscope::runtime {

enum class Logits { LastRow, AllRows };

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
  // the logits of the last row or of every row ([rows, vocab], row-major).
  // `capture` (may be null) receives the attention statistics of its layers.
  std::vector<float> forward(std::span<const int32_t> ids, capture::Capture* capture, Logits logits);

 private:
  struct Layer {
    kernels::Tensor attn_norm, attn_norm_bias, qkv, qkv_bias, q_norm, k_norm;
    kernels::Tensor attn_out, attn_out_bias, mlp_norm, mlp_norm_bias;
    kernels::Tensor mlp_in, mlp_in_bias, mlp_out, mlp_out_bias;
    kernels::Tensor k_cache, v_cache;
  };

  void norm(const kernels::Tensor& x, const kernels::Tensor& weight, const kernels::Tensor& bias,
            kernels::Tensor& y);
  void attention_block(Layer& layer, kernels::Tensor& x, int64_t first_position,
                       kernels::AttentionCapture* capture);
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
