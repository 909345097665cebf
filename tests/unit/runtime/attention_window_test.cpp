// recompute_windows against the capture's own exact rows: the bundled sample model runs
// a prompt once with every row kept exact, then windows of one head are recomputed
// (other chunk size, a cold KV cache) and must hold the same probabilities.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "analysis/model/checkpoint.h"
#include "analysis/runtime/attention_window.h"
#include "analysis/runtime/generation.h"
#include "analysis/tokenizer/tokenizer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

namespace rt = attnscope::runtime;
namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";

struct Fixture {
  attnscope::model::Checkpoint checkpoint = attnscope::model::Checkpoint::open(kModel);
  std::unique_ptr<attnscope::kernels::Backend> backend = attnscope::kernels::make_cpu_backend(2);
  std::vector<int32_t> tokens;
  Fixture() {
    const auto tok = attnscope::tokenizer::Tokenizer::from_file(kModel / "tokenizer.json");
    tokens = tok.encode("The quick brown fox jumps over the lazy dog. The pass key is 71432. Remember it. "
                        "71432 is the pass key. What is the pass key? The pass key is",
                        true);
  }
  // Exact rows of every row for (layer, head), from one run with chunks of 7 tokens.
  std::vector<float> full_exact(int layer, int head) {
    attnscope::capture::CaptureRequest request;
    request.layers = {layer};
    request.heads = {head};
    request.options.exact_probabilities = true;
    request.options.exact_limit = int64_t(tokens.size());
    attnscope::capture::Capture capture(request, checkpoint.spec());
    rt::Transformer model(checkpoint, *backend, int64_t(tokens.size()));
    rt::prompt_logits(model, tokens, &capture, 7);
    return capture.heads().front().exact;
  }
};

}  // namespace

TEST_CASE("recomputed windows hold the probabilities the full capture kept", "[runtime][window]") {
  Fixture f;
  const int64_t n = int64_t(f.tokens.size());
  REQUIRE(n > 30);
  const std::vector<float> exact = f.full_exact(7, 2);
  rt::Transformer model(f.checkpoint, *f.backend, n);
  rt::WindowRequest request;
  request.layer = 7;
  request.head = 2;
  request.prefill_chunk = 16;
  request.windows = {{n - 10, n, 0, n}, {5, 12, 3, 9}};
  const auto windows = rt::recompute_windows(model, f.tokens, request);
  REQUIRE(windows);
  REQUIRE(windows->size() == 2);
  for (const auto& w : *windows) {
    const auto& s = w.window;
    const int64_t width = s.key_end - s.key_begin;
    REQUIRE(int64_t(w.values.size()) == (s.query_end - s.query_begin) * width);
    for (int64_t q = s.query_begin; q < s.query_end; ++q)
      for (int64_t k = s.key_begin; k < s.key_end; ++k) {
        const float got = w.values[size_t((q - s.query_begin) * width + (k - s.key_begin))];
        const float want = k <= q ? exact[size_t(q * (q + 1) / 2 + k)] : 0.0f;
        // Another chunking changes the GEMMs' summation order: 1e-6 absolute on probabilities
        // with AVX2 BLAS kernels, under 5e-6 measured with the GPU host's AVX-512 ones.
        REQUIRE(std::fabs(got - want) <= 5e-6f);
      }
  }
}

TEST_CASE("a recomputed row sums to one over its keys", "[runtime][window]") {
  Fixture f;
  const int64_t n = int64_t(f.tokens.size());
  rt::Transformer model(f.checkpoint, *f.backend, n);
  rt::WindowRequest request;
  request.layer = 3;
  request.head = 1;
  request.windows = {{n - 1, n, 0, n}};
  const auto windows = rt::recompute_windows(model, f.tokens, request);
  REQUIRE(windows);
  double sum = 0;
  for (float p : windows->front().values) sum += p;
  REQUIRE(sum == Approx(1.0).margin(1e-5));  // float softmax over ~40 keys
}

TEST_CASE("a window past the run's tokens is refused with its bounds named", "[runtime][window]") {
  Fixture f;
  const int64_t n = int64_t(f.tokens.size());
  rt::Transformer model(f.checkpoint, *f.backend, n);
  rt::WindowRequest request;
  request.windows = {{0, n + 1, 0, 4}};
  REQUIRE_THROWS_WITH(rt::recompute_windows(model, f.tokens, request),
                      Catch::Contains("reaches past the run's " + std::to_string(n) + " tokens"));
  request.windows = {{4, 4, 0, 4}};
  REQUIRE_THROWS_WITH(rt::recompute_windows(model, f.tokens, request), Catch::Contains("is empty"));
}

TEST_CASE("a cancelled recompute returns nothing", "[runtime][window]") {
  Fixture f;
  const int64_t n = int64_t(f.tokens.size());
  rt::Transformer model(f.checkpoint, *f.backend, n);
  std::atomic<bool> cancel{true};
  rt::WindowRequest request;
  request.windows = {{0, n, 0, n}};
  request.cancel = &cancel;
  REQUIRE_FALSE(rt::recompute_windows(model, f.tokens, request).has_value());
}

TEST_CASE("recompute bytes count the packed rows up to the last window row", "[runtime][window]") {
  const std::vector<rt::AttentionWindow> windows = {{0, 10, 0, 10}, {90, 100, 0, 50}};
  REQUIRE(rt::recompute_bytes(windows) == uint64_t(100 * 101 / 2 * 4));  // exact integer count
}
