// attnscope-cli inspect: what a checkpoint is and how much memory a run at a given
// context will take, before anything is loaded into memory.
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/model/checkpoint.h"
#include "analysis/model/memory_estimate.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "kernels/dtype.h"

namespace attnscope::cli {
namespace {

std::string rope_description(const model::ModelSpec& spec) {
  if (spec.positions == model::PositionKind::Learned) return "learned absolute positions";
  std::string out = "RoPE theta " + std::to_string(int64_t(spec.rope.theta));
  if (spec.rope.scaling == model::RopeScaling::Linear)
    out += ", linear scaling x" + std::to_string(spec.rope.factor);
  if (spec.rope.scaling == model::RopeScaling::Llama3)
    out += ", llama3 scaling x" + std::to_string(spec.rope.factor) + " from " +
           std::to_string(spec.rope.original_max_position_embeddings);
  return out;
}

nlohmann::json memory_json(const model::MemoryEstimate& e) {
  return {{"weights_bytes", e.weights},
          {"kv_cache_bytes", e.kv_cache},
          {"activations_bytes", e.activations},
          {"capture_pass_bytes", e.capture_workspace},
          {"capture_bytes", e.capture},
          {"device_bytes", e.device()},
          {"host_bytes", e.host()},
          {"total_bytes", e.total()}};
}

}  // namespace

int run_inspect(const std::vector<std::string>& raw) {
  const Arguments args(raw, {"model", "context", "chunk"}, {"json"});
  const auto checkpoint = model::Checkpoint::open(model_directory(args));
  const model::ModelSpec& spec = checkpoint.spec();
  const int64_t context = args.integer_or("context", spec.max_position_embeddings, 1, int64_t(1) << 24);

  // The run command's defaults: every head captured, statistics only (no exact maps).
  model::MemoryEstimateOptions options;
  options.context_length = context;
  options.prefill_chunk = args.integer_or("chunk", options.prefill_chunk, 1, 1 << 20);
  options.captured_heads = int64_t(spec.num_layers) * spec.num_heads;
  const model::MemoryEstimate cpu = model::estimate_memory(spec, options);
  options.target = model::ComputeTarget::Cuda;
  const model::MemoryEstimate gpu = model::estimate_memory(spec, options);

  const std::string stored{kernels::dtype_name(checkpoint.stored_dtype())};
  if (args.flag("json")) {
    nlohmann::json out = {{"directory", checkpoint.directory().string()},
                          {"architecture", spec.architecture_name},
                          {"model_type", spec.model_type},
                          {"num_layers", spec.num_layers},
                          {"hidden_size", spec.hidden_size},
                          {"intermediate_size", spec.intermediate_size},
                          {"num_heads", spec.num_heads},
                          {"num_kv_heads", spec.num_kv_heads},
                          {"head_dim", spec.head_dim},
                          {"vocab_size", spec.vocab_size},
                          {"max_position_embeddings", spec.max_position_embeddings},
                          {"sliding_window", spec.sliding_window},
                          {"tie_word_embeddings", spec.tie_word_embeddings},
                          {"positions", rope_description(spec)},
                          {"stored_dtype", stored},
                          {"stored_bytes", checkpoint.stored_bytes()},
                          {"parameters", checkpoint.parameter_count()},
                          {"tensors", checkpoint.tensors().size()},
                          {"context", context},
                          {"memory", memory_json(cpu)},
                          {"memory_bf16", memory_json(gpu)}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "model:        " << checkpoint.directory().string() << "\n"
            << "architecture: " << spec.architecture_name << " (model_type " << spec.model_type << ")\n"
            << "layers:       " << spec.num_layers << ", hidden " << spec.hidden_size << ", MLP "
            << spec.intermediate_size << ", vocab " << spec.vocab_size << "\n"
            << "attention:    " << spec.num_heads << " query heads, " << spec.num_kv_heads
            << " KV heads, head_dim " << spec.head_dim
            << (spec.sliding_window > 0 ? ", sliding window " + std::to_string(spec.sliding_window) : "")
            << (spec.qk_norm ? ", q/k norm" : "") << (spec.attention_bias ? ", q/k/v bias" : "") << "\n"
            << "positions:    " << rope_description(spec) << ", context " << spec.max_position_embeddings << "\n"
            << "parameters:   " << checkpoint.parameter_count() << " in " << checkpoint.tensors().size()
            << " tensors, stored as " << stored << " (" << model::format_bytes(checkpoint.stored_bytes())
            << (spec.tie_word_embeddings ? ", embeddings tied" : "") << ")\n\n"
            << "memory for a run at " << context << " tokens, every head captured:\n"
            << "CPU backend (float32):\n"
            << model::describe(cpu) << "GPU backend (bf16):\n"
            << model::describe(gpu);
  return 0;
}

}  // namespace attnscope::cli
