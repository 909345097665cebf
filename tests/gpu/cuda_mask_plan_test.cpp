// Mask plans end to end on the CUDA backend against the CPU backend: the bundled trained
// sample model (8 layers, 8 heads over 2 KV heads, head_dim 32) prefilling a prompt under a
// plan (Selected rules and the backends' own rules per head; the retrieval head dense).
// The two backends differ by bf16 rounding, so the bounds come from the same prompt run
// dense on both. Families whose keys follow from the call's shape (streaming and window
// spans, density budgets) select the same keys on both backends: their logits must agree
// as closely as the dense ones (twice the dense error). Score-based families (top-k,
// vertical-slash, block top-k, Quest) select from each backend's own q and k, which differ
// by rounding, so keys of near-equal weight may flip: there the plan's effect on the logits
// (plan minus dense) must agree. Identical inputs and exact agreement of the selections:
// selected_rules_test.cpp.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "analysis/masks/mask_selector.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "tests/gpu/cuda_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace fs = std::filesystem;
namespace am = attnscope::masks;
using namespace attnscope;

namespace {

const fs::path kSample = fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";

std::vector<int32_t> random_prompt(int64_t n, int32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> id(3, vocab - 1);
  std::vector<int32_t> ids(static_cast<std::size_t>(n));
  for (int32_t& x : ids) x = id(rng);
  return ids;
}

// Every head's keys follow from the call's shape: Selected streaming / window spans (one at
// a density), a fixed sink + window (the backends' SinkWindow rule), dense heads.
am::MaskPlan shape_plan(const model::ModelSpec& spec) {
  am::MaskPlan plan(spec, {am::StreamingMask{4, {0, 0.25}}, std::nullopt});
  for (int l = 0; l < spec.num_layers; ++l) {
    plan.set({l, 0}, {am::WindowMask{{32, 0.125}}, std::nullopt});
    plan.set({l, 1}, {am::StreamingMask{4, {64, 0}}, 0.3});
    plan.set({l, 3}, {am::StreamingMask{64, {128, 0}}, std::nullopt});
    plan.set({l, 5}, {am::DenseMask{}, std::nullopt});
  }
  plan.set({7, 2}, {am::DenseMask{}, std::nullopt});  // the model card's retrieval head
  return plan;
}

// Score-based families beside streaming heads.
am::MaskPlan score_plan(const model::ModelSpec& spec) {
  am::MaskPlan plan(spec, {am::StreamingMask{4, {0, 0.25}}, std::nullopt});
  for (int l = 0; l < spec.num_layers; ++l) {
    plan.set({l, 0}, {am::TopKMask{32}, std::nullopt});
    plan.set({l, 1}, {am::VerticalSlashMask{60, 120, 64, 30, 100}, std::nullopt});
    plan.set({l, 3}, {am::BlockTopKMask{64, 2, am::BlockScore::MeanPooled, 8}, std::nullopt});
    plan.set({l, 4}, {am::QuestMask{16, 64, 32}, std::nullopt});
    plan.set({l, 5}, {am::DenseMask{}, std::nullopt});
  }
  plan.set({7, 2}, {am::DenseMask{}, std::nullopt});
  return plan;
}

// Largest |a - b| of a row relative to the row's largest |b| (cuda_model_test.cpp's measure).
double worst_row_error(const std::vector<float>& a, const std::vector<float>& b, int64_t vocab) {
  double worst = 0;
  for (std::size_t row = 0; row * std::size_t(vocab) < b.size(); ++row) {
    double scale = 0, error = 0;
    for (int64_t c = 0; c < vocab; ++c) {
      const std::size_t i = row * std::size_t(vocab) + std::size_t(c);
      scale = std::max(scale, std::fabs(double(b[i])));
      error = std::max(error, std::fabs(double(a[i]) - double(b[i])));
    }
    worst = std::max(worst, error / scale);
  }
  return worst;
}

std::vector<float> logits(runtime::Transformer& model, const std::vector<int32_t>& prompt, const am::MaskPlan* plan,
                          const model::ModelSpec& spec) {
  if (plan == nullptr) return runtime::prompt_logits(model, prompt, nullptr, int64_t(prompt.size()));
  const runtime::HeadRulePlan rules = am::rules_for_plan(*plan, spec);  // fresh selectors per run
  return runtime::prompt_logits(model, prompt, nullptr, int64_t(prompt.size()), &rules);
}

struct PlanRun {
  double dense_error = 0, plan_error = 0;  // worst logit row error, GPU against CPU
  double effect = 0, effect_difference = 0;  // ||plan - dense|| on the CPU, and GPU minus CPU of it
};

PlanRun run_plan(am::MaskPlan (*make)(const model::ModelSpec&), DType compute) {
  const auto checkpoint = model::Checkpoint::open(kSample);
  const model::ModelSpec& spec = checkpoint.spec();
  const std::vector<int32_t> prompt = random_prompt(400, int32_t(spec.vocab_size), 11);
  const am::MaskPlan plan = make(spec);
  auto cpu_backend = kernels::make_cpu_backend(2);
  kernels::CudaBackendOptions options;
  options.dtype = compute;
  auto gpu_backend = kernels::make_cuda_backend(options);
  runtime::Transformer cpu(checkpoint, *cpu_backend, 0), gpu(checkpoint, *gpu_backend, 0);
  const std::vector<float> cpu_dense = logits(cpu, prompt, nullptr, spec), gpu_dense = logits(gpu, prompt, nullptr, spec);
  const std::vector<float> cpu_plan = logits(cpu, prompt, &plan, spec), gpu_plan = logits(gpu, prompt, &plan, spec);
  REQUIRE(gpu_plan.size() == cpu_plan.size());
  PlanRun r;
  r.dense_error = worst_row_error(gpu_dense, cpu_dense, spec.vocab_size);
  r.plan_error = worst_row_error(gpu_plan, cpu_plan, spec.vocab_size);
  double effect2 = 0, differ2 = 0;
  for (std::size_t i = 0; i < cpu_plan.size(); ++i) {
    const double cpu_effect = double(cpu_plan[i]) - cpu_dense[i], gpu_effect = double(gpu_plan[i]) - gpu_dense[i];
    effect2 += cpu_effect * cpu_effect;
    differ2 += (gpu_effect - cpu_effect) * (gpu_effect - cpu_effect);
  }
  r.effect = std::sqrt(effect2);
  r.effect_difference = std::sqrt(differ2);
  WARN("measured: " << type_label(compute) << " worst logit row error dense " << r.dense_error << ", under the plan "
                    << r.plan_error << "; plan effect " << r.effect << ", its difference between backends "
                    << r.effect_difference);
  return r;
}

}  // namespace

TEST_CASE("A plan of shape-only selections on the CUDA backend gives the CPU backend's logits", "[gpu][sparse][model]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const DType compute = GENERATE(DType::BF16, DType::F16);
  const PlanRun r = run_plan(shape_plan, compute);
  CHECK(r.plan_error <= 2 * r.dense_error + unit_roundoff(compute));
  CHECK(r.effect > 0);  // the plan changed the logits at all
  CHECK(r.effect_difference <= 0.25 * r.effect);
}

TEST_CASE("A plan of score-based selections has the same effect on the CUDA backend as on the CPU backend",
          "[gpu][sparse][model]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const DType compute = GENERATE(DType::BF16, DType::F16);
  const PlanRun r = run_plan(score_plan, compute);
  CHECK(r.effect > 0);
  // Keys of near-equal weight may flip between the backends' selections: half the effect.
  CHECK(r.effect_difference <= 0.5 * r.effect);
}
