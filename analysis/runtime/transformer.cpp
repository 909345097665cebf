#include "analysis/runtime/transformer.h"

#include <cmath>
#include <numeric>

#include "analysis/runtime/rope_table.h"
#include "kernels/error.h"
#include "kernels/guarded_read.h"

namespace attnscope::runtime {
namespace {

kernels::Tensor upload(kernels::Backend& backend, const model::WeightBlocks& blocks) {
  if (blocks.empty()) return {};
  return backend.upload(blocks.blocks);
}

const kernels::Tensor* optional(const kernels::Tensor& t) { return t.empty() ? nullptr : &t; }

}  // namespace

Transformer::Transformer(const model::Checkpoint& checkpoint, kernels::Backend& backend,
                         int64_t max_context)
    : spec_(checkpoint.spec()), backend_(backend) {
  max_context_ = max_context > 0 ? max_context : spec_.max_position_embeddings;
  if (spec_.positions == model::PositionKind::Learned && max_context_ > spec_.max_position_embeddings)
    throw Error(checkpoint.directory().string(),
                "a context of " + std::to_string(max_context_) + " tokens exceeds the " +
                    std::to_string(spec_.max_position_embeddings) +
                    " learned positions of this model");
  if (spec_.positions == model::PositionKind::Rope) rope_ = make_rope_table(spec_.rope, spec_.head_dim);

  // A checkpoint truncated under its mapping faults the uploads' reads; one changed in
  // place does not, but either way the weights would be wrong: both are errors naming the file.
  try {
    upload_weights(checkpoint.weights());
  } catch (const kernels::MappedReadFault& fault) {
    checkpoint.report_read_fault(fault);
  }
  checkpoint.check_unchanged();
}

void Transformer::upload_weights(const model::ModelWeights& weights) {
  token_embedding_ = upload(backend_, weights.token_embedding);
  position_embedding_ = upload(backend_, weights.position_embedding);
  final_norm_ = upload(backend_, weights.final_norm);
  final_norm_bias_ = upload(backend_, weights.final_norm_bias);
  const bool tied = !weights.lm_head.empty() && !weights.token_embedding.empty() &&
                    weights.lm_head.blocks[0].data == weights.token_embedding.blocks[0].data;
  lm_head_ = tied ? token_embedding_ : upload(backend_, weights.lm_head);

  layers_.reserve(weights.layers.size());
  for (const model::LayerWeights& w : weights.layers) {
    Layer layer;
    layer.attn_norm = upload(backend_, w.attn_norm);
    layer.attn_norm_bias = upload(backend_, w.attn_norm_bias);
    layer.qkv = upload(backend_, w.qkv);
    layer.qkv_bias = upload(backend_, w.qkv_bias);
    layer.q_norm = upload(backend_, w.q_norm);
    layer.k_norm = upload(backend_, w.k_norm);
    layer.attn_out = upload(backend_, w.attn_out);
    layer.attn_out_bias = upload(backend_, w.attn_out_bias);
    layer.mlp_norm = upload(backend_, w.mlp_norm);
    layer.mlp_norm_bias = upload(backend_, w.mlp_norm_bias);
    layer.mlp_in = upload(backend_, w.mlp_in);
    layer.mlp_in_bias = upload(backend_, w.mlp_in_bias);
    layer.mlp_out = upload(backend_, w.mlp_out);
    layer.mlp_out_bias = upload(backend_, w.mlp_out_bias);
    layer.k_cache = backend_.allocate(max_context_, spec_.kv_width());
    layer.v_cache = backend_.allocate(max_context_, spec_.kv_width());
    layers_.push_back(std::move(layer));
  }
}

void Transformer::norm(const kernels::Tensor& x, const kernels::Tensor& weight,
                       const kernels::Tensor& bias, kernels::Tensor& y) {
  if (spec_.norm == model::NormKind::RmsNorm)
    backend_.rms_norm(x, weight, float(spec_.norm_eps), y);
  else
    backend_.layer_norm(x, weight, bias, float(spec_.norm_eps), y);
}

void Transformer::attention_block(Layer& layer, kernels::Tensor& x, int64_t first_position,
                                  kernels::AttentionCapture* capture, const kernels::AttentionRules* rules) {
  const int64_t rows = x.rows();
  const int64_t qw = spec_.q_width();
  const int64_t kvw = spec_.kv_width();
  kernels::Tensor h = backend_.allocate(rows, spec_.hidden_size);
  norm(x, layer.attn_norm, layer.attn_norm_bias, h);

  kernels::Tensor qkv = backend_.allocate(rows, qw + 2 * kvw);
  backend_.linear(h, layer.qkv, optional(layer.qkv_bias), qkv);
  kernels::Tensor q = qkv.column_slice(0, qw);
  kernels::Tensor k = qkv.column_slice(qw, kvw);
  const kernels::Tensor v = qkv.column_slice(qw + kvw, kvw);
  if (spec_.qk_norm) {
    backend_.rms_norm(q, layer.q_norm, float(spec_.norm_eps), q);
    backend_.rms_norm(k, layer.k_norm, float(spec_.norm_eps), k);
  }
  if (spec_.positions == model::PositionKind::Rope) {
    backend_.rope(q, spec_.head_dim, first_position, rope_);
    backend_.rope(k, spec_.head_dim, first_position, rope_);
  }
  backend_.copy_rows(k, layer.k_cache, first_position);
  backend_.copy_rows(v, layer.v_cache, first_position);

  kernels::AttentionShape shape;
  shape.num_heads = spec_.num_heads;
  shape.num_kv_heads = spec_.num_kv_heads;
  shape.head_dim = spec_.head_dim;
  shape.first_position = first_position;
  shape.sliding_window = spec_.sliding_window;
  shape.scale = float(1.0 / std::sqrt(double(spec_.head_dim)));
  kernels::Tensor attended = backend_.allocate(rows, qw);
  backend_.attention(q, layer.k_cache, layer.v_cache, shape, attended, capture, rules);

  kernels::Tensor projected = backend_.allocate(rows, spec_.hidden_size);
  backend_.linear(attended, layer.attn_out, optional(layer.attn_out_bias), projected);
  backend_.add(x, projected, x);
}

void Transformer::mlp_block(Layer& layer, kernels::Tensor& x) {
  const int64_t rows = x.rows();
  const int64_t inner = spec_.intermediate_size;
  kernels::Tensor h = backend_.allocate(rows, spec_.hidden_size);
  norm(x, layer.mlp_norm, layer.mlp_norm_bias, h);
  kernels::Tensor activated = backend_.allocate(rows, inner);
  if (spec_.mlp == model::MlpKind::SwiGlu) {
    kernels::Tensor gate_up = backend_.allocate(rows, 2 * inner);
    backend_.linear(h, layer.mlp_in, optional(layer.mlp_in_bias), gate_up);
    backend_.swiglu(gate_up.column_slice(0, inner), gate_up.column_slice(inner, inner), activated);
  } else {
    backend_.linear(h, layer.mlp_in, optional(layer.mlp_in_bias), activated);
    backend_.gelu_tanh(activated);
  }
  kernels::Tensor out = backend_.allocate(rows, spec_.hidden_size);
  backend_.linear(activated, layer.mlp_out, optional(layer.mlp_out_bias), out);
  backend_.add(x, out, x);
}

kernels::Tensor Transformer::run_layers(std::span<const int32_t> ids, capture::Capture* capture,
                                        const HeadRulePlan* rules) {
  const int64_t rows = int64_t(ids.size());
  if (rows == 0) throw Error("forward", "no tokens to run");
  if (position_ + rows > max_context_)
    throw Error("forward", std::to_string(position_ + rows) + " tokens exceed the context of " +
                               std::to_string(max_context_) + " this model was set up for");
  for (int32_t id : ids)
    if (id < 0 || id >= spec_.vocab_size)
      throw Error("forward", "token id " + std::to_string(id) + " is outside the vocabulary of " +
                                 std::to_string(spec_.vocab_size));
  if (rules != nullptr) rules->check_fits(spec_);

  const int64_t first_position = position_;
  kernels::Tensor x = backend_.allocate(rows, spec_.hidden_size);
  backend_.embedding(token_embedding_, ids, x);
  if (spec_.positions == model::PositionKind::Learned) {
    std::vector<int32_t> positions(static_cast<size_t>(rows));
    std::iota(positions.begin(), positions.end(), int32_t(first_position));
    kernels::Tensor pos = backend_.allocate(rows, spec_.hidden_size);
    backend_.embedding(position_embedding_, positions, pos);
    backend_.add(x, pos, x);
  }
  for (size_t l = 0; l < layers_.size(); ++l) {
    attention_block(layers_[l], x, first_position, capture ? capture->for_layer(int(l)) : nullptr,
                    rules ? rules->for_layer(int(l)) : nullptr);
    mlp_block(layers_[l], x);
  }
  position_ += rows;
  return x;
}

std::vector<float> Transformer::forward(std::span<const int32_t> ids, capture::Capture* capture,
                                        Logits logits, const HeadRulePlan* rules) {
  const kernels::Tensor x = run_layers(ids, capture, rules);
  if (logits == Logits::None) return {};
  const int64_t rows = x.rows();
  kernels::Tensor last = logits == Logits::AllRows ? x : x.row_slice(rows - 1, 1);
  kernels::Tensor normed = backend_.allocate(last.rows(), spec_.hidden_size);
  norm(last, final_norm_, final_norm_bias_, normed);
  kernels::Tensor out = backend_.allocate(last.rows(), spec_.vocab_size);
  backend_.linear(normed, lm_head_, nullptr, out);
  return backend_.download(out);
}

std::vector<float> Transformer::forward_hidden(std::span<const int32_t> ids, capture::Capture* capture,
                                               const HeadRulePlan* rules, int64_t first_row) {
  if (first_row < 0 || first_row > int64_t(ids.size()))
    throw Error("forward_hidden", "first row " + std::to_string(first_row) + " is outside the " +
                                      std::to_string(ids.size()) + " rows of the call");
  const kernels::Tensor x = run_layers(ids, capture, rules);
  if (first_row == x.rows()) return {};
  const kernels::Tensor rows = x.row_slice(first_row, x.rows() - first_row);
  kernels::Tensor normed = backend_.allocate(rows.rows(), spec_.hidden_size);
  norm(rows, final_norm_, final_norm_bias_, normed);
  return backend_.download(normed);
}

}  // namespace attnscope::runtime
