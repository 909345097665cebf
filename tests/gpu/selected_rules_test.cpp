// Selected rules (the mask lab's key selections) on the CUDA backend against the CPU
// backend under the same rules: the mask families' own selectors (analysis/masks) and a
// selector that reads the scores, beside Dense, SinkWindow and Ablated heads, GQA, the
// model's sliding window, chunked prefill and decode rows, a selector answering dense on
// some calls; both backends see the same rounded inputs, so their selectors choose the same
// keys. KeySelection (what the backend runs per call) downloads only what the selectors read.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "analysis/masks/mask_selector.h"
#include "kernels/cuda/key_selection.h"
#include "kernels/error.h"
#include "tests/gpu/attention_device_problem.h"
#include "tests/gpu/cuda_test_support.h"
#include "tests/gpu/rules_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;
namespace gpu = attnscope::testing::gpu;
namespace am = attnscope::masks;
using Catch::Contains;
using k::HeadRule;

namespace {

// Keeps, per row, the keys whose score is above the row's mean score over its visible
// keys (read from the views), and every key of every third call; the selection depends on
// q and k, so both backends must hand their selectors the same numbers.
class AboveMeanSelector : public k::KeySelector {
 public:
  std::optional<k::KeptKeys> select(const k::SelectionInput& in) override {
    if (++calls_ % 3 == 0) return std::nullopt;  // dense for this call
    k::KeptKeysBuilder b(in.first_position, in.rows, in.model_window);
    std::vector<double> s;
    for (int64_t r = 0; r < in.rows; ++r) {
      const int64_t p = in.first_position + r, first = in.model_window > 0 ? std::max<int64_t>(0, p - in.model_window + 1) : 0;
      s.assign(std::size_t(p - first + 1), 0.0);
      double mean = 0;
      for (int64_t key = first; key <= p; ++key) {
        double dot = 0;
        for (int64_t d = 0; d < in.head_dim; ++d) dot += double(in.q[r * in.q_stride + d]) * in.k[key * in.k_stride + d];
        mean += (s[std::size_t(key - first)] = dot);
      }
      mean /= double(s.size());
      for (int64_t key = first; key <= p; ++key)
        if (s[std::size_t(key - first)] > mean) b.keep(r, key, key + 1);
    }
    return b.finish();
  }
  std::string describe() const override { return "above the row's mean score"; }

 private:
  int calls_ = 0;
};

// Reads nothing but the call's shape; fails the test if handed views.
class ShapeOnlySelector : public k::KeySelector {
 public:
  std::optional<k::KeptKeys> select(const k::SelectionInput& in) override {
    saw_views_ = saw_views_ || in.q != nullptr || in.k != nullptr || in.v != nullptr;
    k::KeptKeysBuilder b(in.first_position, in.rows, in.model_window);
    for (int64_t r = 0; r < in.rows; ++r) b.keep(r, (in.first_position + r) / 2, in.first_position + r + 1);
    return b.finish();
  }
  std::string describe() const override { return "second half"; }
  bool reads_views() const override { return false; }
  bool saw_views() const { return saw_views_; }

 private:
  bool saw_views_ = false;
};

HeadRule selected(const am::MaskFamily& family) {
  return HeadRule::selected(std::make_shared<am::MaskSelector>(am::HeadMask{family, std::nullopt}));
}

// Fresh rules per run: selectors keep state from call to call.
std::vector<HeadRule> fresh_rules(int heads) {
  const std::vector<std::function<HeadRule()>> kinds = {
      [] { return selected(am::TopKMask{24}); },
      [] { return HeadRule::selected(std::make_shared<AboveMeanSelector>()); },
      [] { return selected(am::VerticalSlashMask{40, 110, 64, 30, 100}); },
      [] { return HeadRule::dense(); },
      [] { return selected(am::BlockTopKMask{64, 2, am::BlockScore::MeanPooled, 8}); },
      [] { return selected(am::StreamingMask{4, {0, 0.25}}); },
      [] { return HeadRule::sink_window(4, 50); },
      [] { return selected(am::H2OMask{20, 20, 64}); },
      [] { return HeadRule::selected(std::make_shared<ShapeOnlySelector>()); },
      [] { return selected(am::TopPMask{0.8}); },
      [] { return HeadRule::ablated(); },
      [] { return selected(am::QuestMask{16, 64, 64}); },
  };
  std::vector<HeadRule> rules;
  for (int h = 0; h < heads; ++h) rules.push_back(kinds[std::size_t(h) % kinds.size()]());
  return rules;
}

}  // namespace

TEST_CASE("CUDA attention under Selected rules matches the CPU backend over chunks and decode rows",
          "[gpu][sparse][rules]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const std::vector<RulesShape> shapes = {{12, 4, 64, 0}, {8, 2, 128, 0}, {12, 3, 32, 150}, {6, 6, 96, 0}};
  // 520 rows: a prefill of 300 (the prefill families' call), then chunks and decode rows.
  const int64_t total = 520;
  const std::vector<int64_t> chunks = {300, 1, 150, 1, 1, 67};
  uint32_t seed = 5300;
  for (const char* kernel : {static_cast<const char*>(nullptr), "portable"}) {
    const FlashKernelEnvironment environment(kernel);
    for (DType compute : {DType::BF16, DType::F16}) {
      Backends b = make_backends(compute);
      for (const RulesShape& c : shapes) {
        INFO("ATTNSCOPE_FLASH_KERNEL=" << (kernel ? kernel : "(unset)") << ", " << type_label(compute) << " heads "
                                       << c.heads << "/" << c.kv_heads << " dim " << c.dim << " model window "
                                       << c.model_window);
        const int64_t width = int64_t(c.heads + 2 * c.kv_heads) * c.dim;
        const std::vector<float> qkv = rounded_values(std::size_t(total * width), ++seed, compute, 1.5f);
        const k::AttentionRules gpu_rules{fresh_rules(c.heads)}, cpu_rules{fresh_rules(c.heads)};
        const std::vector<float> gpu = run_attention(*b.gpu, qkv, total, c, gpu_rules, chunks, true);
        const std::vector<float> cpu = run_attention(*b.cpu, qkv, total, c, cpu_rules, chunks, false);
        for (int h = 0; h < c.heads; ++h) {
          const HeadRule& rule = gpu_rules.heads[std::size_t(h)];
          INFO("head " << h << ": " << k::describe(rule));
          const std::vector<float> g = head_columns(gpu, c.heads, c.dim, h);
          const std::vector<float> r = head_columns(cpu, c.heads, c.dim, h);
          if (rule.kind == k::HeadRuleKind::Ablated) {
            CHECK(std::all_of(g.begin(), g.end(), [](float x) { return x == 0.0f; }));
            continue;
          }
          // As the rules test: P rounded to the input type before P V and the output
          // rounded: 1e-2 for bf16 (fp16: a quarter).
          const double error = relative_error(g, r);
          INFO("relative error " << error);
          CHECK(error <= (compute == DType::BF16 ? 1e-2 : 2.5e-3));
          if (const auto* shape_only = dynamic_cast<const ShapeOnlySelector*>(rule.selector.get()))
            CHECK_FALSE(shape_only->saw_views());
        }
      }
    }
  }
}

TEST_CASE("Key selection downloads only what its selectors read and turns dense answers into Dense heads",
          "[gpu][sparse][rules]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const int heads = 4, kv_heads = 2, dim = 64;
  const int64_t n = 200;
  const gpu::Problem p = gpu::make_problem(heads, kv_heads, dim, n, 0, DType::BF16, 42);
  gpu::DeviceProblem device(p);
  device.fill_caches(n);
  auto shape_only = std::make_shared<ShapeOnlySelector>();
  auto reading = std::make_shared<AboveMeanSelector>();
  const k::AttentionRules rules{{HeadRule::dense(), HeadRule::selected(shape_only), HeadRule::sink_window(2, 8),
                                 HeadRule::selected(reading)}};
  cuda::KeySelection selection;
  // Call 1: head 3 reads q of head 3 and k, v of KV head 1; head 1 reads nothing.
  const k::AttentionRules& run = selection.select(device.params(0, n, nullptr), rules, nullptr);
  CHECK(selection.last_download_bytes() == std::size_t(2 * (n * dim + 2 * n * dim)));
  CHECK_FALSE(shape_only->saw_views());
  CHECK(selection.sets().host_heads == std::vector<int32_t>{1, 3});
  CHECK(run.heads[3].kind == k::HeadRuleKind::Selected);
  CHECK(run.heads[2] == rules.heads[2]);
  // Call 3 of the reading selector answers dense: its head runs Dense, only head 1 keeps a set.
  selection.select(device.params(0, n, nullptr), rules, nullptr);
  const k::AttentionRules& third = selection.select(device.params(0, n, nullptr), rules, nullptr);
  CHECK(third.heads[3].kind == k::HeadRuleKind::Dense);
  CHECK(selection.sets().host_heads == std::vector<int32_t>{1});
  // Only shape-only selectors: nothing crosses.
  const k::AttentionRules shape_rules{{HeadRule::dense(), HeadRule::selected(shape_only), HeadRule::dense(),
                                       HeadRule::dense()}};
  selection.select(device.params(0, n, nullptr), shape_rules, nullptr);
  CHECK(selection.last_download_bytes() == 0);
}

TEST_CASE("A selector's set for another call is refused naming the head and the selector", "[gpu][sparse][rules]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  class WrongCall : public k::KeySelector {
   public:
    std::optional<k::KeptKeys> select(const k::SelectionInput& in) override {
      return k::KeptKeysBuilder(in.first_position, in.rows + 1, in.model_window).finish();
    }
    std::string describe() const override { return "one row too many"; }
    bool reads_views() const override { return false; }
  };
  const gpu::Problem p = gpu::make_problem(2, 1, 32, 100, 0, DType::BF16, 3);
  gpu::DeviceProblem device(p);
  device.fill_caches(100);
  cuda::KeySelection selection;
  const k::AttentionRules rules{{HeadRule::dense(), HeadRule::selected(std::make_shared<WrongCall>())}};
  CHECK_THROWS_WITH(selection.select(device.params(0, 100, nullptr), rules, nullptr),
                    Contains("head 1") && Contains("one row too many") && Contains("101 rows"));
}
