// CudaBackend::attention under per-head rules against the CPU backend under the same
// rules (whose own test compares it with a double reference): every rule kind side by
// side, runs of equal rules, GQA, the model's sliding window, sinks spanning key tiles,
// chunked prefill over several query blocks and decode rows; on the default kernel choice
// (the Hopper kernel for dense heads where it runs) and with ATTNSCOPE_FLASH_KERNEL=portable.
// Dense heads keep the plain forward's output and lse (what the capture pass reads) bit
// for bit; capture of a rule head is refused.
#include <algorithm>
#include <string>

#include "kernels/cuda/flash_attention.h"
#include "kernels/error.h"
#include "tests/gpu/attention_device_problem.h"
#include "tests/gpu/cuda_test_support.h"
#include "tests/gpu/rules_test_support.h"

using namespace attnscope::testing::cuda_backend;
namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;
namespace gpu = attnscope::testing::gpu;
using Catch::Contains;
using k::HeadRule;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t model_window;
  std::vector<HeadRule> rules;
};

std::vector<float> run_attention(Backend& backend, const std::vector<float>& qkv, int64_t total, const Case& c,
                                 const std::vector<int64_t>& chunks, bool on_gpu) {
  return attnscope::testing::cuda_backend::run_attention(backend, qkv, total, {c.heads, c.kv_heads, c.dim, c.model_window},
                                                         k::AttentionRules{c.rules}, chunks, on_gpu);
}

std::vector<HeadRule> cycle(const std::vector<HeadRule>& kinds, int heads) {
  std::vector<HeadRule> rules;
  for (int h = 0; h < heads; ++h) rules.push_back(kinds[std::size_t(h) % kinds.size()]);
  return rules;
}

}  // namespace

TEST_CASE("CUDA attention under per-head rules matches the CPU backend over chunks and decode rows",
          "[gpu][attention][rules]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  // Every kind; sinks of 1 tile, 2 tiles and past the block's window; windows inside one
  // tile and across several; a window wider than the context; equal neighbours (one launch).
  const std::vector<HeadRule> kinds = {HeadRule::dense(),           HeadRule::sink_window(4, 16),
                                       HeadRule::ablated(),         HeadRule::zero_query(),
                                       HeadRule::sink_window(100, 150), HeadRule::sink_window(0, 1),
                                       HeadRule::sink_window(130, 5), HeadRule::sink_window(3, 100000)};
  const std::vector<HeadRule> runs = {HeadRule::dense(),         HeadRule::dense(),
                                      HeadRule::sink_window(64, 64), HeadRule::sink_window(64, 64),
                                      HeadRule::ablated(),       HeadRule::ablated(),
                                      HeadRule::zero_query(),    HeadRule::dense()};
  const std::vector<Case> cases = {Case{8, 2, 64, 0, kinds}, Case{8, 8, 128, 0, runs}, Case{8, 2, 32, 45, kinds},
                                   Case{16, 4, 96, 0, cycle(kinds, 16)}, Case{8, 2, 128, 200, kinds},
                                   Case{4, 4, 64, 0, std::vector<HeadRule>(4, HeadRule::sink_window(4, 32))}};
  // 700 rows: six query blocks, eleven key tiles; a 1-row chunk and decode rows.
  const int64_t total = 700;
  const std::vector<int64_t> chunks = {300, 1, 257, 100, 1, 1, 40};
  uint32_t seed = 4200;
  for (const char* kernel : {static_cast<const char*>(nullptr), "portable"}) {
    const FlashKernelEnvironment environment(kernel);
    for (DType compute : {DType::BF16, DType::F16}) {
      Backends b = make_backends(compute);
      for (const Case& c : cases) {
        INFO("ATTNSCOPE_FLASH_KERNEL=" << (kernel ? kernel : "(unset)") << ", " << type_label(compute) << " heads "
                                       << c.heads << "/" << c.kv_heads << " dim " << c.dim << " model window "
                                       << c.model_window);
        const int64_t width = int64_t(c.heads + 2 * c.kv_heads) * c.dim;
        const std::vector<float> qkv = rounded_values(std::size_t(total * width), ++seed, compute, 1.5f);
        const std::vector<float> gpu = run_attention(*b.gpu, qkv, total, c, chunks, true);
        const std::vector<float> cpu = run_attention(*b.cpu, qkv, total, c, chunks, false);
        for (int h = 0; h < c.heads; ++h) {
          INFO("head " << h << ": " << k::describe(c.rules[std::size_t(h)]));
          const std::vector<float> g = head_columns(gpu, c.heads, c.dim, h);
          const std::vector<float> r = head_columns(cpu, c.heads, c.dim, h);
          if (c.rules[std::size_t(h)].kind == k::HeadRuleKind::Ablated) {
            CHECK(std::all_of(g.begin(), g.end(), [](float x) { return x == 0.0f; }));  // exact zeros
            continue;
          }
          // As cuda_backend_attention_test.cpp, head by head: P rounded to the input type
          // before P V and the output rounded: 1e-2 for bf16 (fp16: a quarter).
          const double error = relative_error(g, r);
          INFO("relative error " << error);
          CHECK(error <= (compute == DType::BF16 ? 1e-2 : 2.5e-3));
        }
      }
    }
  }
}

TEST_CASE("dense heads beside rule heads get the plain forward's output and lse bit for bit",
          "[gpu][attention][rules]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // The capture pass reads the forward's lse of the captured (dense) heads: rules on other
  // heads must not change it, on the Hopper kernel (all heads, then the rule heads
  // overwritten) nor on the portable one (the dense heads in runs of their own).
  const std::vector<HeadRule> rules = {HeadRule::dense(),      HeadRule::sink_window(4, 16), HeadRule::ablated(),
                                       HeadRule::dense(),      HeadRule::zero_query(),       HeadRule::sink_window(70, 9),
                                       HeadRule::ablated(),    HeadRule::dense()};
  for (int dim : {64, 128})
    for (cuda::FlashKernel kernel : {cuda::FlashKernel::Automatic, cuda::FlashKernel::Portable}) {
      INFO("dim " << dim << (kernel == cuda::FlashKernel::Portable ? ", portable" : ", automatic choice"));
      const int64_t n = 300;
      const gpu::Problem problem = gpu::make_problem(8, 2, dim, n, 0, DType::BF16, 600u + unsigned(dim));
      gpu::DeviceProblem device(problem);
      device.fill_caches(n);
      const std::vector<float> nan(std::size_t(8 * n), kNaN);
      gpu::DeviceArray<float> plain_lse(nan.size()), ruled_lse(nan.size());
      plain_lse.upload(nan);
      ruled_lse.upload(nan);
      cuda::flash_attention_forward(device.params(0, n, plain_lse.data()), nullptr, kernel);
      gpu::cuda_check(cudaDeviceSynchronize(), "plain forward");
      const std::vector<float> plain_out = device.download_out();
      device.poison_out();
      cuda::flash_attention_forward_with_rules(device.params(0, n, ruled_lse.data()), k::AttentionRules{rules}, nullptr,
                                               kernel);
      gpu::cuda_check(cudaDeviceSynchronize(), "forward with rules");
      const std::vector<float> ruled_out = device.download_out();
      const std::vector<float> plain = plain_lse.download(), ruled = ruled_lse.download();
      for (int h : {0, 3, 7}) {
        INFO("dense head " << h);
        for (int64_t r = 0; r < n; ++r) {
          REQUIRE(ruled[std::size_t(h * n + r)] == plain[std::size_t(h * n + r)]);  // exact: the same kernel
          for (int d = 0; d < dim; ++d) {
            const std::size_t i = std::size_t(r * device.out_stride() + h * dim + d);
            REQUIRE(ruled_out[i] == plain_out[i]);
          }
        }
      }
    }
}

TEST_CASE("CUDA capture beside rule heads is accepted for dense heads and refused for a rule head",
          "[gpu][attention][rules][capture]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  Backends b = make_backends(DType::BF16);
  const std::vector<HeadRule> rules = {HeadRule::dense(), HeadRule::sink_window(4, 16), HeadRule::ablated(),
                                       HeadRule::dense()};
  const int64_t n = 150, qw = 4 * 64, kvw = 2 * 64;
  const std::vector<float> qkv = rounded_values(std::size_t(n * (qw + 2 * kvw)), 77, DType::BF16, 1.5f);
  const k::AttentionShape shape{4, 2, 64, 0, 0, 0.125f};
  Tensor fused = upload_f32(*b.gpu, n, qw + 2 * kvw, qkv);
  Tensor k_cache = b.gpu->allocate(n, kvw), v_cache = b.gpu->allocate(n, kvw);
  b.gpu->copy_rows(fused.column_slice(qw, kvw), k_cache, 0);
  b.gpu->copy_rows(fused.column_slice(qw + kvw, kvw), v_cache, 0);
  Tensor out = b.gpu->allocate(n, qw);
  std::vector<k::HeadAccumulator> heads(4);
  const k::AttentionRules ruled{rules};
  k::AttentionCapture dense_heads;
  dense_heads.heads = {&heads[0], nullptr, nullptr, &heads[3]};
  CHECK_NOTHROW(b.gpu->attention(fused.column_slice(0, qw), k_cache, v_cache, shape, out, &dense_heads, &ruled));
  k::AttentionCapture rule_head;
  rule_head.heads = {nullptr, &heads[1], nullptr, nullptr};
  CHECK_THROWS_WITH(b.gpu->attention(fused.column_slice(0, qw), k_cache, v_cache, shape, out, &rule_head, &ruled),
                    Contains("head 1") && Contains("sink 4 + window 16") && Contains("CPU backend"));
}

TEST_CASE("CUDA attention refuses rules that do not fit the heads", "[gpu][attention][rules]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  auto gpu = k::make_cuda_backend();
  const k::AttentionShape shape{2, 1, 64, 0, 0, 0.125f};
  const Tensor q = gpu->allocate(4, 128), cache = gpu->allocate(4, 64);
  Tensor out = gpu->allocate(4, 128);
  k::AttentionRules rules{{HeadRule::dense()}};
  CHECK_THROWS_WITH(gpu->attention(q, cache, cache, shape, out, nullptr, &rules), Contains("1 head slots"));
  rules.heads = {HeadRule::dense(), HeadRule::sink_window(2, 0)};
  CHECK_THROWS_WITH(gpu->attention(q, cache, cache, shape, out, nullptr, &rules), Contains("window is 0"));
}
