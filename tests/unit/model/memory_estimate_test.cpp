// Memory estimates: exact KV cache and capture arithmetic, weights from the parameter count.
#include <catch2/catch.hpp>

#include "analysis/model/architecture.h"
#include "analysis/model/config.h"
#include "analysis/model/memory_estimate.h"

using Catch::Contains;
namespace m = attnscope::model;

namespace {

m::ModelSpec llama3_8b() {
  return m::parse_config(nlohmann::json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": false,
    "bos_token_id": 128000, "eos_token_id": 128001, "torch_dtype": "bfloat16"})"),
                         "Meta-Llama-3-8B/config.json");
}

constexpr uint64_t kGiB = uint64_t(1) << 30;

}  // namespace

TEST_CASE("Llama-3-8B at 8K context in bf16", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  CHECK(m::parameter_count(spec) == 8030261248);

  m::MemoryEstimateOptions options;
  options.context_length = 8192;
  options.target = m::ComputeTarget::Cuda;
  options.logits_of_every_row = true;
  const m::MemoryEstimate e = m::estimate_memory(spec, options);
  // ~16 GB of weights: 8.03 B parameters at 2 bytes.
  CHECK(e.weights == 2 * uint64_t(8030261248));
  CHECK(e.weights > 15'900'000'000);
  CHECK(e.weights < 16'200'000'000);
  // 32 layers * 8 KV heads * 128 * 8192 positions * (K and V) * 2 bytes.
  CHECK(e.kv_cache == kGiB);
  CHECK(e.capture == 0);
  // One 512-token chunk: logits (512 x 128256 x (2 + 4)) dominate, then one head's scores.
  CHECK(e.activations > uint64_t(512) * 128256 * 6);
  CHECK(e.activations < kGiB);
  CHECK(e.capture_workspace == 0);  // nothing captured
  CHECK(e.total() == e.weights + e.kv_cache + e.activations + e.capture);
  CHECK(e.device() == e.total());

  options.target = m::ComputeTarget::Cpu;  // the CPU backend computes in float32
  const m::MemoryEstimate cpu = m::estimate_memory(spec, options);
  CHECK(cpu.weights == 2 * e.weights);
  CHECK(cpu.kv_cache == 2 * kGiB);
}

TEST_CASE("capture buffers per head", "[memory]") {
  attnscope::kernels::CaptureOptions capture;
  capture.pool_block = 64;
  capture.exact_probabilities = false;
  const uint64_t n = 8192;
  const uint64_t blocks = 128;
  const uint64_t streaming = n * (8 + 8) + n * (4 + 8 + 8);
  const uint64_t pooled = blocks * (blocks + 1) / 2 * 8 + blocks * 8;
  CHECK(m::capture_bytes_per_head(8192, capture) == streaming + pooled);

  capture.exact_probabilities = true;
  capture.exact_limit = 4096;  // rows past the limit keep no exact probabilities
  CHECK(m::capture_bytes_per_head(8192, capture) == streaming + pooled + uint64_t(4096) * 4097 / 2 * 4);
  capture.exact_limit = 1 << 20;
  CHECK(m::capture_bytes_per_head(8192, capture) == streaming + pooled + n * (n + 1) / 2 * 4);

  capture.pool_block = 100;  // a partial last block still gets its row
  capture.exact_probabilities = false;
  CHECK(m::capture_bytes_per_head(250, capture) == 250 * 36 + 3 * 4 / 2 * 8 + 3 * 8);

  m::MemoryEstimateOptions options;
  options.context_length = 8192;
  options.captured_heads = 32 * 32;
  options.capture.pool_block = 64;
  const m::MemoryEstimate e = m::estimate_memory(llama3_8b(), options);
  CHECK(e.capture == 1024 * (streaming + pooled));
}

TEST_CASE("on the GPU the accumulators stay in host memory and the capture pass adds device buffers", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  m::MemoryEstimateOptions options;
  options.context_length = 131072;
  options.prefill_chunk = 4096;
  options.captured_heads = 32 * 32;
  options.capture.pool_block = 64;
  options.target = m::ComputeTarget::Cuda;
  const m::MemoryEstimate e = m::estimate_memory(spec, options);
  // Per layer call: 32 heads x (4 floats per row, 2 per key, 65 x 2048 pooled cells, the
  // forward's 3 per row: lse, entropy, top-1) and the split-KV capture's partials, in each
  // of the 3 staging sets; and 2 doubles per key for each of the 1024 heads (2 GiB).
  const uint64_t call = 4 * 32 * (4 * 4096 + 65 * 2048);
  const uint64_t forward_rows = 4 * 32 * 3 * 4096;
  CHECK(e.capture_workspace ==
        3 * (call + 4 * 32 * 2 * 131072 + forward_rows + m::split_decode_capture_bytes(spec)) +
            uint64_t(1024) * 131072 * 16);
  // Pinned: each set's copy of a call's rows and pooled map, one layer's per-key sums.
  CHECK(e.capture_staging == 3 * call + uint64_t(32) * 131072 * 16);
  CHECK(e.device() == e.weights + e.kv_cache + e.activations + e.capture_workspace);
  CHECK(e.host() == e.capture + e.capture_staging);
  CHECK(e.total() == e.device() + e.host());
  // 128K with every head captured fits an 80 GB card: 15 GiB weights + 16 GiB KV cache.
  CHECK(e.kv_cache == 16 * kGiB);
  CHECK(e.device() < 40 * kGiB);
  CHECK_THAT(m::describe(e), Contains("on device") && Contains("in host RAM") && Contains("capture pass") &&
                                 Contains("staging"));
}

TEST_CASE("a chunk that starts inside a pool block can touch one more block row", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  m::MemoryEstimateOptions options;
  options.context_length = 1000;
  options.prefill_chunk = 100;  // rows 63..162 touch block rows 0, 1 and 2 of 64
  options.captured_heads = 1;
  options.capture.pool_block = 64;
  options.target = m::ComputeTarget::Cuda;
  const m::MemoryEstimate e = m::estimate_memory(spec, options);
  // 3 block rows x 16 key blocks a head, beside 4 floats a row.
  CHECK(e.capture_staging == 3 * 4 * 32 * (4 * 100 + 3 * 16) + uint64_t(32) * 1000 * 16);
}

TEST_CASE("the largest context that fits is the edge of the budget", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  m::MemoryEstimateOptions options;
  options.target = m::ComputeTarget::Cuda;
  options.prefill_chunk = 4096;
  options.captured_heads = 1024;
  const uint64_t device = 24 * kGiB, host = 64 * kGiB;
  const int64_t n = m::largest_context_that_fits(spec, options, device, host, 1 << 20);
  REQUIRE(n > 0);
  REQUIRE(n < (1 << 20));
  options.context_length = n;
  const m::MemoryEstimate at = m::estimate_memory(spec, options);
  CHECK(at.device() <= device);
  CHECK(at.host() <= host);
  options.context_length = n + 1;
  const m::MemoryEstimate past = m::estimate_memory(spec, options);
  CHECK((past.device() > device || past.host() > host));
  // 24 GiB leave ~8.6 GiB beside 15 GiB of weights and 0.5 GiB of chunk buffers: the
  // KV cache takes 128 KiB a token, the fp64 per-key sums of 1024 heads 16 KiB, the
  // staging sets' pass buffers ~1.2 KiB: ~62K tokens.
  CHECK(n > 58000);
  CHECK(n < 66000);
  // The limit caps it; weights alone over the budget fit nothing.
  CHECK(m::largest_context_that_fits(spec, options, device, host, 1000) == 1000);
  CHECK(m::largest_context_that_fits(spec, options, 8 * kGiB, host, 1 << 20) == 0);
}

TEST_CASE("activations follow the chunk and the architecture", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  m::MemoryEstimateOptions options;
  options.context_length = 100;
  options.prefill_chunk = 512;  // larger than the context: the chunk is the context
  const uint64_t small = m::estimate_memory(spec, options).activations;
  options.context_length = 1000;
  options.prefill_chunk = 100;
  const uint64_t chunked = m::estimate_memory(spec, options).activations;
  options.prefill_chunk = 200;
  const uint64_t bigger = m::estimate_memory(spec, options).activations;
  CHECK(small < bigger);
  CHECK(chunked < bigger);
  CHECK(m::estimate_memory(spec, {}).kv_cache == 0);
  // Logits of every row (prompt_logits) against the last row only (generation).
  const uint64_t last_row = m::estimate_memory(spec, options).activations;
  options.logits_of_every_row = true;
  CHECK(m::estimate_memory(spec, options).activations - last_row == uint64_t(199) * 128256 * (4 + 4));
}

TEST_CASE("on the GPU the split-KV decode buffers are counted", "[memory]") {
  const m::ModelSpec spec = llama3_8b();
  // Forward partials: 32 heads x 16 rows, ceil(2 x 144 SMs / 8 KV heads) = 36 splits,
  // 128 + 2 floats each.
  CHECK(m::split_decode_forward_bytes(spec) == uint64_t(32) * 16 * 36 * 130 * 4);
  // Capture partials: 5 planes of min(32 x 16 rows x 4 warps x 288 splits,
  // 4 warps x 64 rows x (2 x 144 + 32)).
  CHECK(m::split_decode_capture_bytes(spec) == uint64_t(5) * 4 * 64 * (288 + 32) * 4);
  m::MemoryEstimateOptions options;
  options.context_length = 4096;
  options.captured_heads = 1024;
  const m::MemoryEstimate cpu = m::estimate_memory(spec, options);
  options.target = m::ComputeTarget::Cuda;
  const m::MemoryEstimate gpu = m::estimate_memory(spec, options);
  options.captured_heads = 0;
  const m::MemoryEstimate uncaptured = m::estimate_memory(spec, options);
  CHECK(uncaptured.capture_workspace == 0);
  // The same activations but for the attention scratch (float32 scores on the CPU, lse and
  // cuBLAS's workspace on the GPU), logits' dtype and the forward's partials.
  const uint64_t scratch_and_logits_cpu = uint64_t(512) * 4096 * 4 + 128256 * (4 + 4);
  const uint64_t scratch_and_logits_gpu = uint64_t(32) * 512 * 4 + (uint64_t(32) << 20) + 128256 * (2 + 4);
  CHECK(gpu.activations - scratch_and_logits_gpu - m::split_decode_forward_bytes(spec) ==
        (cpu.activations - scratch_and_logits_cpu) / 2);
  CHECK(gpu.capture_workspace > 3 * m::split_decode_capture_bytes(spec));
}

TEST_CASE("byte counts read as binary units", "[memory]") {
  CHECK(m::format_bytes(0) == "0 B");
  CHECK(m::format_bytes(1023) == "1023 B");
  CHECK(m::format_bytes(1024) == "1.00 KiB");
  CHECK(m::format_bytes(1536) == "1.50 KiB");
  CHECK(m::format_bytes(kGiB) == "1.00 GiB");
  CHECK(m::format_bytes(uint64_t(1.23 * double(kGiB))) == "1.23 GiB");
  CHECK(m::format_bytes(2 * uint64_t(8030261248)) == "15.0 GiB");
  CHECK(m::format_bytes(uint64_t(150) << 20) == "150 MiB");
  CHECK(m::format_bytes((uint64_t(1) << 20) - 1) == "1.00 MiB");
  CHECK(m::format_bytes(uint64_t(3) << 40) == "3.00 TiB");

  m::MemoryEstimate e;
  e.weights = kGiB;
  e.kv_cache = 512 << 20;
  const std::string text = m::describe(e);
  CHECK_THAT(text, Contains("weights") && Contains("1.00 GiB") && Contains("KV cache") && Contains("512 MiB") &&
                       Contains("total") && Contains("1.50 GiB"));
}
