// The whole model on the CUDA backend against the transformers fixtures of
// tests/reference (float32 references of tiny random-weight checkpoints of every
// architecture): logits and exact attention probabilities within bf16 / fp16 error,
// one-shot and chunked prefill. The measured errors are reported (WARN) so that the
// GPU machine's log shows how much margin the bounds leave.
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

  // Logits: largest error of a row relative to the row's largest |logit|. Every op
  // rounds to the compute type (~u = 2^-8 for bf16) through 2 layers and the head;
  // the bound is ~5u for bf16 (u = 2^-11 for fp16: the same 5u). First GPU run decides
  // whether it is tight; the measured value is printed.
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
  const double u = unit_roundoff(compute);
  WARN("measured: " << name << " " << type_label(compute) << " chunk " << chunk << ": worst logit row error " << worst
                    << " (bound " << 5 * u << ")");
  CHECK(worst <= 5 * u);
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
  WARN("measured: worst attention probability error " << worst_p << " (bound " << 4 * u << ")");
  CHECK(worst_p <= 4 * u);
}
