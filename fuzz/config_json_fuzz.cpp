// Fuzz target: config.json (analysis/model/config.h) as Checkpoint::open and
// `attnscope-cli inspect` use it: the spec, the tensors it implies, the parameter count,
// the memory estimate for the model's whole context and the rotary table.
#include <algorithm>

#include "analysis/io/json_file.h"
#include "analysis/model/architecture.h"
#include "analysis/model/config.h"
#include "analysis/model/memory_estimate.h"
#include "analysis/runtime/rope_table.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  namespace model = attnscope::model;
  try {
    const auto json = attnscope::io::parse_json_text(fz::text(data, size), "config.json");
    const model::ModelSpec spec = model::parse_config(json, "config.json");
    fz::expect(spec.num_layers > 0 && spec.num_heads > 0 && spec.num_kv_heads > 0 && spec.head_dim > 0,
               "a parsed spec has positive counts");
    fz::expect(spec.num_heads % spec.num_kv_heads == 0, "KV heads divide query heads");
    fz::expect(model::parameter_count(spec) > 0, "a model has parameters");
    model::MemoryEstimateOptions options;
    options.context_length = spec.max_position_embeddings;
    options.captured_heads = int64_t(spec.num_layers) * spec.num_heads;
    model::estimate_memory(spec, options);
    options.target = model::ComputeTarget::Cuda;
    model::estimate_memory(spec, options);
    if (spec.positions == model::PositionKind::Rope) {
      const auto table = attnscope::runtime::make_rope_table(spec.rope, spec.head_dim);
      fz::expect(table.inv_freq.size() == size_t(spec.head_dim / 2), "one frequency per rotated pair");
    }
  } catch (const attnscope::Error&) {
  }
  return 0;
}
