#pragma once
// A model's weights by role, as views into the checkpoint (or into buffers an
// architecture adapter made, e.g. for GPT-2's transposed Conv1D weights).
// Blocks of one role are stacked vertically by Backend::upload.
#include <memory>
#include <vector>

#include "kernels/backend.h"

namespace attnscope::model {

struct WeightBlocks {
  std::vector<kernels::HostTensorView> blocks;
  bool empty() const { return blocks.empty(); }
};

struct LayerWeights {
  WeightBlocks attn_norm, attn_norm_bias;  // bias only for LayerNorm
  WeightBlocks qkv, qkv_bias;              // [q_width + 2 kv_width, hidden]; q rows, then k, then v
  WeightBlocks q_norm, k_norm;             // Qwen3: [1, head_dim]
  WeightBlocks attn_out, attn_out_bias;    // [hidden, q_width]
  WeightBlocks mlp_norm, mlp_norm_bias;
  WeightBlocks mlp_in, mlp_in_bias;        // SwiGLU: gate rows then up rows [2 I, hidden]; GELU: [I, hidden]
  WeightBlocks mlp_out, mlp_out_bias;      // [hidden, I]
};

struct ModelWeights {
  WeightBlocks token_embedding;            // [vocab, hidden]
  WeightBlocks position_embedding;         // GPT-2: [max_positions, hidden]
  std::vector<LayerWeights> layers;
  WeightBlocks final_norm, final_norm_bias;
  WeightBlocks lm_head;                    // [vocab, hidden]; the embedding when tied
  // Keeps alive whatever the views point into (memory maps, converted buffers).
  std::vector<std::shared_ptr<const void>> keep_alive;
};

}  // namespace attnscope::model
