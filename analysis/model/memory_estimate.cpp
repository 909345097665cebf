#include "analysis/model/memory_estimate.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>
#include <vector>

#include "analysis/model/architecture.h"
#include "kernels/cuda/split_decode_plan.h"

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

uint64_t split_decode_forward_bytes(const ModelSpec& spec) {
  namespace sd = kernels::cuda::split_decode;
  // The fewest CTAs per split (one per KV head) give the most splits.
  const int64_t splits = sd::max_split_count(spec.num_kv_heads, kLargestSmCount);
  return uint64_t(sd::forward_workspace_floats(int64_t(spec.num_heads) * sd::kMaxRows, splits, spec.head_dim)) * 4;
}

uint64_t split_decode_capture_bytes(const ModelSpec& spec) {
  namespace sd = kernels::cuda::split_decode;
  return uint64_t(sd::capture_workspace_bound(spec.num_heads, sd::kMaxRows, kLargestSmCount)) * 4;
}

namespace {

constexpr uint64_t kCublasWorkspace = uint64_t(32) << 20;  // kernels/cuda/cuda_linear.cpp

uint64_t round_up(uint64_t value, uint64_t step) { return (value + step - 1) / step * step; }

// The CUDA capture pipeline (kernels/cuda/capture_pipeline.h) rotates this many staging
// sets, each sized for one layer's call of a chunk over the whole context.
constexpr uint64_t kCaptureStagingSets = 3;

// One call's results, in floats, without the per-key sums (what is copied to the host):
// per row 4 floats, the pooled rows a chunk can touch wherever it starts, the
// exact-probability window; for every head of a layer (CaptureWorkspace::reserve).
uint64_t capture_call_floats(const ModelSpec& spec, uint64_t chunk, uint64_t context, const kernels::CaptureOptions& o) {
  const auto slots = uint64_t(spec.num_heads);
  const auto block = uint64_t(std::max<int64_t>(o.pool_block, 1));
  const uint64_t pooled = ((chunk + block - 2) / block + 1) * ((context + block - 1) / block);
  const uint64_t exact = uint64_t(std::max<int64_t>(o.exact_limit, 0));
  const uint64_t window = o.exact_probabilities ? std::min(chunk, exact) * std::min(context, exact) : 0;
  return slots * (4 * chunk + pooled + window);
}

// The capture pass's device buffers for one call (attention_capture_pass.cu): the
// results above, the call's fp32 column and diagonal sums over every key, and what the
// forward hands it per row (lse, entropy, top-1).
uint64_t capture_pass_bytes(const ModelSpec& spec, uint64_t chunk, uint64_t context, const kernels::CaptureOptions& o) {
  const uint64_t key_floats = uint64_t(spec.num_heads) * 2 * round_up(std::max<uint64_t>(context, 1), 64);
  const uint64_t forward_floats = uint64_t(spec.num_heads) * 3 * chunk;
  return 4 * (capture_call_floats(spec, chunk, context, o) + key_floats + forward_floats);
}

}  // namespace

MemoryEstimate estimate_memory(const ModelSpec& spec, const MemoryEstimateOptions& o) {
  const bool cuda = o.target == ComputeTarget::Cuda;
  const uint64_t dtype = cuda ? 2 : 4;
  const auto context = uint64_t(std::max<int64_t>(o.context_length, 0));
  const uint64_t chunk = std::min(uint64_t(std::max<int64_t>(o.prefill_chunk, 1)), std::max<uint64_t>(context, 1));
  const auto hidden = uint64_t(spec.hidden_size), inner = uint64_t(spec.intermediate_size);
  const auto q = uint64_t(spec.q_width()), kv = uint64_t(spec.kv_width());

  MemoryEstimate e;
  e.target = o.target;
  e.weights = uint64_t(parameter_count(spec)) * dtype;
  e.kv_cache = 2 * uint64_t(spec.num_layers) * kv * context * dtype;

  // Buffers of one layer of one chunk, in columns: the residual stream plus the larger
  // of the attention block (normed input, fused qkv, attended, projected) and the MLP
  // block (normed input, SwiGLU's gate|up or GELU's input, activated, output).
  const uint64_t attention_cols = hidden + (q + 2 * kv) + q + hidden;
  const uint64_t mlp_in_cols = spec.mlp == MlpKind::SwiGlu ? 2 * inner : 0;
  const uint64_t mlp_cols = hidden + mlp_in_cols + inner + hidden;
  const uint64_t layer_bytes = chunk * (hidden + std::max(attention_cols, mlp_cols)) * dtype;
  // Attention scratch: on the CPU one head's float32 scores against every cached key;
  // flash attention keeps only each row's log-sum-exp (for the capture pass).
  const uint64_t scratch_bytes = cuda ? uint64_t(spec.num_heads) * chunk * 4 + kCublasWorkspace : chunk * context * 4;
  // Logits of the chunk's last row (or of every row), in the compute dtype and as host
  // float32.
  const uint64_t logit_rows = o.logits_of_every_row ? chunk : 1;
  const uint64_t logit_bytes = logit_rows * uint64_t(spec.vocab_size) * (dtype + 4);
  e.activations = layer_bytes + scratch_bytes + logit_bytes + (cuda ? split_decode_forward_bytes(spec) : 0);

  const auto heads = uint64_t(std::max<int64_t>(o.captured_heads, 0));
  e.capture = heads * capture_bytes_per_head(o.context_length, o.capture);
  if (cuda && heads > 0) {
    // Device: the staging sets' pass buffers, and 2 doubles per key of every captured
    // head for the run (DeviceKeySums). Pinned host: the sets' copies, and one layer's
    // per-key sums when they come back.
    e.capture_workspace =
        kCaptureStagingSets * (capture_pass_bytes(spec, chunk, context, o.capture) + split_decode_capture_bytes(spec)) +
        heads * context * 16;
    e.capture_staging = kCaptureStagingSets * 4 * capture_call_floats(spec, chunk, context, o.capture) +
                        uint64_t(spec.num_heads) * context * 16;
  }
  return e;
}

int64_t largest_context_that_fits(const ModelSpec& spec, MemoryEstimateOptions options, uint64_t device_budget,
                                  uint64_t host_budget, int64_t limit) {
  const auto fits = [&](int64_t context) {
    options.context_length = context;
    const MemoryEstimate e = estimate_memory(spec, options);
    return e.device() <= device_budget && e.host() <= host_budget;
  };
  // Every part grows with the context, so the contexts that fit are a prefix.
  int64_t lo = 0, hi = std::max<int64_t>(limit, 0);
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid))
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
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
  std::vector<std::pair<const char*, uint64_t>> rows = {
      {"weights", e.weights}, {"KV cache", e.kv_cache}, {"activations", e.activations}};
  if (e.target == ComputeTarget::Cuda) rows.emplace_back("capture pass", e.capture_workspace);
  rows.emplace_back("capture", e.capture);
  if (e.target == ComputeTarget::Cuda) rows.emplace_back("staging", e.capture_staging);
  if (e.target == ComputeTarget::Cuda) {
    rows.emplace_back("on device", e.device());
    rows.emplace_back("in host RAM", e.host());
  }
  rows.emplace_back("total", e.total());
  std::string out;
  for (const auto& [name, bytes] : rows) {
    char line[64];
    std::snprintf(line, sizeof line, "%-12s %10s\n", name, format_bytes(bytes).c_str());
    out += line;
  }
  return out;
}

}  // namespace attnscope::model
