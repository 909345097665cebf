// The mask lab's per-head evaluation on the GPU (MaskEvaluator: the block-sparse kernel and
// the masked-recall kernel) against the CPU evaluation (analysis/masks/head_evaluation.h)
// of the same sets on the same rounded inputs: one family per head (streaming,
// vertical-slash, block top-k, top-k, top-p, Quest and H2O over their decode rows, dense),
// GQA, a chunked call (first_position > 0) and the model's sliding window, bf16 and fp16.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <vector>

#include "analysis/masks/head_evaluation.h"
#include "analysis/masks/mask_builder.h"
#include "kernels/cuda/mask_evaluation.h"
#include "kernels/error.h"
#include "tests/gpu/attention_device_problem.h"

using namespace attnscope::testing::gpu;
namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;
namespace am = attnscope::masks;
using attnscope::kernels::DType;
using Catch::Contains;

namespace {

const std::vector<am::MaskFamily> kFamilies = {
    am::StreamingMask{4, {64, 0}},
    am::VerticalSlashMask{60, 120, 64, 30, 100},
    am::BlockTopKMask{64, 3, am::BlockScore::Exact, 8},
    am::TopKMask{32},
    am::TopPMask{0.9},
    am::QuestMask{16, 96, 64},
    am::H2OMask{32, 32, 64},
    am::DenseMask{},
};

// The head's view of a Problem's call rows [first, first + n) (kernels::HeadAttentionView).
am::HeadInputs head_view(const Problem& p, int head, int64_t first, int64_t n) {
  const int kvh = head / (p.heads / p.kv_heads);
  am::HeadInputs in;
  in.q = p.q.data() + (first * p.heads + head) * p.dim;
  in.q_stride = int64_t(p.heads) * p.dim;
  in.k = p.k.data() + int64_t(kvh) * p.dim;
  in.k_stride = int64_t(p.kv_heads) * p.dim;
  in.v = p.v.data() + int64_t(kvh) * p.dim;
  in.v_stride = in.k_stride;
  in.rows = n;
  in.first_position = first;
  in.head_dim = p.dim;
  in.model_window = p.window;
  in.scale = float(p.scale());
  return in;
}

}  // namespace

TEST_CASE("GPU mask evaluation gives the CPU evaluation's recall, error and density per head",
          "[gpu][sparse][masks]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  struct Case {
    int heads, kv_heads, dim;
    int64_t total, first, window;
    DType dtype;
  };
  const std::vector<Case> cases = {{8, 2, 64, 600, 0, 0, DType::BF16},
                                   {8, 4, 128, 700, 200, 0, DType::F16},
                                   {8, 8, 32, 650, 0, 150, DType::BF16}};
  uint32_t seed = 700;
  for (const Case& c : cases) {
    const int64_t n = c.total - c.first;
    INFO("heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " rows [" << c.first << ", " << c.total
                  << ") window " << c.window << (c.dtype == DType::BF16 ? " bf16" : " fp16"));
    const Problem p = make_problem(c.heads, c.kv_heads, c.dim, c.total, c.window, c.dtype, ++seed);
    DeviceProblem device(p);
    device.fill_caches(c.total);
    cuda::MaskEvaluator evaluator(device.params(c.first, n, nullptr), nullptr);

    std::vector<std::unique_ptr<am::HeadAttention>> cpu_heads;
    std::vector<am::BuiltMask> built;
    std::vector<cuda::HeadKeptKeys> sets;
    std::vector<int64_t> first_rows;
    for (int h = 0; h < c.heads; ++h) {
      cpu_heads.push_back(std::make_unique<am::HeadAttention>(head_view(p, h, c.first, n)));
      built.push_back(am::build_mask(*cpu_heads.back(), {kFamilies[std::size_t(h) % kFamilies.size()], std::nullopt}));
    }
    for (int h = 0; h < c.heads; ++h) {
      sets.push_back({h, &built[std::size_t(h)].kept});
      first_rows.push_back(built[std::size_t(h)].first_row);
    }
    const std::vector<cuda::DeviceHeadEvaluation> gpu = evaluator.evaluate(sets, first_rows);
    REQUIRE(gpu.size() == std::size_t(c.heads));
    // Output errors: both GPU outputs round P to the input type before P V (relative 2^-9
    // bf16, 2^-11 fp16 per probability), which moves a head's relative L2 by about 1e-3
    // (bf16); the bounds allow several times that. Recall comes from two fp32 lse
    // (exp(lse_kept - lse_full)): 1e-4.
    const double error_abs = c.dtype == DType::BF16 ? 6e-3 : 2e-3;
    for (int h = 0; h < c.heads; ++h) {
      const am::HeadEvaluation cpu = am::evaluate_head(*cpu_heads[std::size_t(h)], built[std::size_t(h)].kept,
                                                       built[std::size_t(h)].first_row);
      const cuda::DeviceHeadEvaluation& g = gpu[std::size_t(h)];
      INFO("head " << h << ": " << am::method_name(kFamilies[std::size_t(h) % kFamilies.size()]) << ", density "
                   << cpu.density << "; recall cpu " << cpu.recall << " gpu " << g.recall << ", min " << cpu.min_recall
                   << " / " << g.min_recall << "; rel L2 " << cpu.output_rel_l2 << " / " << g.output_rel_l2
                   << "; cosine " << cpu.output_cosine << " / " << g.output_cosine);
      CHECK(g.head == h);
      CHECK(g.first_row == cpu.first_row);
      CHECK(g.rows == cpu.rows);
      CHECK(g.kept_entries == cpu.kept_entries);  // the same set, counted on the host
      CHECK(g.visible_entries == cpu.visible_entries);
      CHECK(std::fabs(g.recall - cpu.recall) <= 1e-4);
      CHECK(std::fabs(g.min_recall - cpu.min_recall) <= 1e-4);
      CHECK(std::fabs(g.output_rel_l2 - cpu.output_rel_l2) <= error_abs + 0.03 * cpu.output_rel_l2);
      CHECK(std::fabs(g.output_cosine - cpu.output_cosine) <= 1e-3);
      REQUIRE(g.worst_rows.size() == cpu.worst_rows.size());
      if (!g.worst_rows.empty()) {
        // A single row's error carries more rounding noise than the head's: 5x the bound.
        CHECK(std::fabs(g.worst_rows[0].output_rel_l2 - cpu.worst_rows[0].output_rel_l2) <=
              5 * error_abs + 0.05 * cpu.worst_rows[0].output_rel_l2);
      }
      if (std::holds_alternative<am::DenseMask>(kFamilies[std::size_t(h) % kFamilies.size()])) {
        // Both sides are the same launch over the same blocks: exact.
        CHECK(g.recall == 1.0);
        CHECK(g.min_recall == 1.0);
        CHECK(g.output_rel_l2 == 0.0);
      }
    }
  }
}

TEST_CASE("GPU mask evaluation refuses first rows that do not fit the sets", "[gpu][sparse][masks]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const Problem p = make_problem(2, 1, 64, 100, 0, DType::BF16, 8);
  DeviceProblem device(p);
  device.fill_caches(100);
  cuda::MaskEvaluator evaluator(device.params(0, 100, nullptr), nullptr);
  const k::KeptKeys set = k::KeptKeysBuilder(0, 100, 0).finish();
  const cuda::HeadKeptKeys sets[] = {{1, &set}};
  const int64_t too_late[] = {101};
  CHECK_THROWS_WITH(evaluator.evaluate(sets, too_late), Contains("head 1") && Contains("first row 101"));
  const int64_t two[] = {0, 0};
  CHECK_THROWS_WITH(evaluator.evaluate(sets, two), Contains("2 first rows for 1 sets"));
}
