// The whole model on the CUDA backend against the transformers fixtures of
// tests/reference (float32 references of tiny random-weight checkpoints of every
// architecture): logits and exact attention probabilities, one-shot and chunked
// prefill. The fixtures' wide weights make attention peaked, so bf16 rounding of q and
// k alone moves probabilities by tenths; the bound is what transformers itself gives in
// the same precision (low_precision.json, from tests/reference/measure_low_precision.py
// on the GPU machine): at most twice its error, plus one unit roundoff. The measured
// errors are reported (WARN) so that the GPU machine's log shows the margin.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/capture/capture.h"
#include "analysis/io/safetensors.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "tests/gpu/cuda_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace fs = std::filesystem;
namespace k = attnscope::kernels;
using namespace attnscope;

namespace {

const fs::path kFixtures = fs::path(ATTNSCOPE_TEST_DATA_DIR) / "reference" / "fixtures";

// transformers' own errors against the float32 reference in `compute` (eager attention).
struct TransformersError {
  double logit_row = 0, attention = 0;
};

TransformersError transformers_error(const fs::path& dir, DType compute) {
  std::ifstream in(dir / "low_precision.json");
  INFO(dir / "low_precision.json" << ": run tests/reference/measure_low_precision.py on the GPU machine");
  REQUIRE(in.good());
  const auto json = nlohmann::json::parse(in).at(compute == DType::BF16 ? "bf16" : "fp16");
  return {json.at("logit_row_error").get<double>(), json.at("attention_error").get<double>()};
}

}  // namespace

TEST_CASE("CUDA backend matches transformers' logits and attention on every architecture", "[gpu][model]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const std::string name = GENERATE("llama", "llama3-rope", "llama-linear-bias", "mistral", "qwen2", "qwen3", "gpt2");
  const DType compute = GENERATE(DType::BF16, DType::F16);
  const int64_t chunk = GENERATE(int64_t(1) << 20, 7);
  const fs::path dir = kFixtures / name;
  INFO("fixture " << name << ", " << type_label(compute) << ", prefill chunk " << chunk);
  std::ifstream in(dir / "reference.json");
  REQUIRE(in.good());
  const auto meta = nlohmann::json::parse(in);
  const std::vector<int32_t> prompt = meta.at("prompt_ids").get<std::vector<int32_t>>();
  const auto file = io::SafetensorsFile::open(dir / "reference.safetensors");
  const std::vector<float> ref_logits = file.read_f32("logits");

  const auto checkpoint = model::Checkpoint::open(dir);
  const model::ModelSpec& spec = checkpoint.spec();
  k::CudaBackendOptions options;
  options.dtype = compute;
  auto gpu = k::make_cuda_backend(options);
  runtime::Transformer transformer(checkpoint, *gpu, 0);
  capture::CaptureRequest request;
  request.options.exact_probabilities = true;
  capture::Capture capture(request, spec);
  const std::vector<float> logits = runtime::prompt_logits(transformer, prompt, &capture, chunk);
  REQUIRE(logits.size() == ref_logits.size());

  // Logits: largest error of a row relative to the row's largest |logit|.
  const double u = unit_roundoff(compute);
  const TransformersError theirs_error = transformers_error(dir, compute);
  const double logit_bound = 2 * theirs_error.logit_row + u;
  const double probability_bound = 2 * theirs_error.attention + u;
  const int64_t vocab = spec.vocab_size;
  double worst = 0;
  int64_t disagreements = 0;
  for (std::size_t row = 0; row * std::size_t(vocab) < ref_logits.size(); ++row) {
    const float* theirs = ref_logits.data() + row * std::size_t(vocab);
    const float* ours = logits.data() + row * std::size_t(vocab);
    double scale = 0, error = 0;
    for (int64_t c = 0; c < vocab; ++c) {
      scale = std::max(scale, std::fabs(double(theirs[c])));
      error = std::max(error, std::fabs(double(ours[c]) - double(theirs[c])));
    }
    worst = std::max(worst, error / scale);
    // Top-1 must agree wherever the reference's margin exceeds twice the error seen.
    const auto top = [&](const float* v) { return std::max_element(v, v + vocab) - v; };
    const int64_t best = top(theirs);
    double second = -1e300;
    for (int64_t c = 0; c < vocab; ++c)
      if (c != best) second = std::max(second, double(theirs[c]));
    if (double(theirs[best]) - second > 2 * error && top(ours) != best) ++disagreements;
  }
  WARN("measured: " << name << " " << type_label(compute) << " chunk " << chunk << ": worst logit row error " << worst
                    << " (transformers " << theirs_error.logit_row << ", bound " << logit_bound << ")");
  CHECK(worst <= logit_bound);
  CHECK(disagreements == 0);

  // Exact probabilities against transformers' eager attention (absolute: p in [0, 1]).
  const int64_t n = int64_t(prompt.size());
  double worst_p = 0;
  for (const k::HeadAccumulator& head : capture.heads()) {
    REQUIRE(head.exact_rows == n);
    const std::vector<float> theirs = file.read_f32("attention." + std::to_string(head.layer));
    for (int64_t q = 0; q < n; ++q)
      for (int64_t key = 0; key <= q; ++key)
        worst_p = std::max(worst_p, std::fabs(double(head.exact[std::size_t(q * (q + 1) / 2 + key)]) -
                                              double(theirs[std::size_t((head.head * n + q) * n + key)])));
  }
  WARN("measured: worst attention probability error " << worst_p << " (transformers " << theirs_error.attention
                                                     << ", bound " << probability_bound << ")");
  CHECK(worst_p <= probability_bound);
}
