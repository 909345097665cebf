#include "analysis/model/memory_estimate.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "analysis/model/architecture.h"

namespace attnscope::model {

uint64_t capture_bytes_per_head(int64_t context, const kernels::CaptureOptions& options) {
  const auto n = uint64_t(std::max<int64_t>(context, 0));
  // Per key position: column sums and diagonal (distance) sums, doubles.
  uint64_t bytes = n * (8 + 8);
  // Per query row: entropy (float), top-1 key and position (int64).
  bytes += n * (4 + 8 + 8);
  // Pooled map: a causal triangle of doubles over ceil(n / block) blocks, and row counts.
  if (options.pool_block > 0) {
    const uint64_t blocks = (n + uint64_t(options.pool_block) - 1) / uint64_t(options.pool_block);
    bytes += blocks * (blocks + 1) / 2 * 8 + blocks * 8;
  }
  // Exact probabilities: rows below exact_limit, packed lower triangle of floats.
  if (options.exact_probabilities) {
    const uint64_t rows = std::min(n, uint64_t(std::max<int64_t>(options.exact_limit, 0)));
    bytes += rows * (rows + 1) / 2 * 4;
  }
  return bytes;
}

MemoryEstimate estimate_memory(const ModelSpec& spec, const MemoryEstimateOptions& o) {
  const auto dtype = uint64_t(o.compute_dtype_bytes);
  const auto context = uint64_t(std::max<int64_t>(o.context_length, 0));
  const uint64_t chunk = std::min(uint64_t(std::max<int64_t>(o.prefill_chunk, 1)), std::max<uint64_t>(context, 1));
  const auto hidden = uint64_t(spec.hidden_size), inner = uint64_t(spec.intermediate_size);
  const auto q = uint64_t(spec.q_width()), kv = uint64_t(spec.kv_width());

  MemoryEstimate e;
  e.weights = uint64_t(parameter_count(spec)) * dtype;
  e.kv_cache = 2 * uint64_t(spec.num_layers) * kv * context * dtype;

  // Buffers of one layer of one chunk, in columns: the residual stream plus the larger
  // of the attention block (normed input, fused qkv, attended, projected) and the MLP
  // block (normed input, SwiGLU's gate|up or GELU's input, activated, output).
  const uint64_t attention_cols = hidden + (q + 2 * kv) + q + hidden;
  const uint64_t mlp_in_cols = spec.mlp == MlpKind::SwiGlu ? 2 * inner : 0;
  const uint64_t mlp_cols = hidden + mlp_in_cols + inner + hidden;
  const uint64_t layer_bytes = chunk * (hidden + std::max(attention_cols, mlp_cols)) * dtype;
  // Scores of one head against every cached key, in float32 for the softmax.
  const uint64_t score_bytes = chunk * context * 4;
  // Logits of every row of the chunk, on the device and as host float32.
  const uint64_t logit_bytes = chunk * uint64_t(spec.vocab_size) * (dtype + 4);
  e.activations = layer_bytes + score_bytes + logit_bytes;

  e.capture = uint64_t(std::max<int64_t>(o.captured_heads, 0)) * capture_bytes_per_head(o.context_length, o.capture);
  return e;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = double(bytes);
  std::size_t unit = 0;
  while (value >= 1023.5 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, value < 9.995 ? "%.2f %s" : value < 99.95 ? "%.1f %s" : "%.0f %s", value, kUnits[unit]);
  return text;
}

std::string describe(const MemoryEstimate& e) {
  std::string out;
  const std::array<std::pair<const char*, uint64_t>, 5> rows = {{{"weights", e.weights},
                                                                 {"KV cache", e.kv_cache},
                                                                 {"activations", e.activations},
                                                                 {"capture", e.capture},
                                                                 {"total", e.total()}}};
  for (const auto& [name, bytes] : rows) {
    char line[64];
    std::snprintf(line, sizeof line, "%-12s %10s\n", name, format_bytes(bytes).c_str());
    out += line;
  }
  return out;
}

}  // namespace attnscope::model
