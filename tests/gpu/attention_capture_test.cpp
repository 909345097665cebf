// The CUDA capture pass against the CPU backend's capture: both are fed the same
// bf16/fp16-rounded inputs, in the same chunks, and their accumulators must agree on
// every field (counts exactly, sums within fp32 rounding), over head dims, GQA,
// windows, pool blocks aligned and not, small pool blocks, and exact rows. Every case runs
// on the portable capture kernel and, where it applies (compute capability 9.0, head dim
// 64 or 128), on the Hopper one twice: computing the rows' entropy and top-1 itself, and
// taking them from the Hopper forward (FlashAttentionParams::row_entropy), with the same
// bounds.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kernels/cuda/attention_capture_kernels.h"
#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/flash_attention.h"
#include "tests/gpu/attention_device_problem.h"
#include "tests/gpu/capture_comparison.h"
#include "tests/gpu/capture_cpu_side.h"
#include "tests/gpu/split_decode_support.h"

using namespace attnscope::testing::gpu;
namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;
using attnscope::kernels::DType;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t total, window;
  DType dtype;
  std::vector<int64_t> chunks;
  std::vector<int> captured;
  k::CaptureOptions options;
};


const char* kernel_name(cuda::FlashKernel kernel) {
  return kernel == cuda::FlashKernel::Hopper ? "hopper" : kernel == cuda::FlashKernel::Portable ? "portable" : "auto";
}

// ATTNSCOPE_CAPTURE_KERNEL set for the object's lifetime (the pass reads it per call), and
// ATTNSCOPE_DECODE_KERNEL=rows, so that the named kernel also runs the decode steps
// (the split-KV path has tests of its own: split_decode_capture_test.cpp).
class ScopedCaptureKernel {
 public:
  explicit ScopedCaptureKernel(cuda::FlashKernel kernel)
      : kernel_("ATTNSCOPE_CAPTURE_KERNEL", kernel_name(kernel)), rows_("ATTNSCOPE_DECODE_KERNEL", "rows") {}

 private:
  ScopedEnvironment kernel_, rows_;
};

bool device_is_hopper() {
  int device = 0, major = 0, minor = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "attribute");
  cuda_check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "attribute");
  return major == 9 && minor == 0;
}

// The portable capture kernel, and the Hopper one where it can run a capture of this
// shape. On a 9.0 device a head dim of 64 or 128 must get it unless the build left it out.
std::vector<cuda::FlashKernel> capture_kernels_for(int heads, int kv_heads, int dim, DType dtype) {
  const Problem p = make_problem(heads, kv_heads, dim, 16, 0, dtype, 1);
  DeviceProblem device(p);
  const std::string why = cuda::capture_hopper_unavailable(device.params(0, 16, nullptr));
  if (why.empty()) return {cuda::FlashKernel::Portable, cuda::FlashKernel::Hopper};
  if (device_is_hopper() && (dim == 64 || dim == 128)) {
    INFO("the Hopper capture kernel is unavailable on a 9.0 device: " << why);
    CHECK(why.find("not compiled") != std::string::npos);
    WARN("Hopper capture kernel not tested: " << why);
  }
  return {cuda::FlashKernel::Portable};
}

// rows_from_forward: the forward computes the rows' entropy and top-1 and the capture
// takes them (the Hopper kernels; what the capture pipeline does on a 9.0 device).
void run_case(const Case& c, uint32_t seed, cuda::FlashKernel kernel, bool rows_from_forward = false) {
  const ScopedCaptureKernel scoped(kernel);
  std::ostringstream what;
  what << kernel_name(kernel) << (rows_from_forward ? " (rows from the forward)" : "") << " capture kernel, heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " total " << c.total << " window " << c.window
       << " pool " << c.options.pool_block << " sink " << c.options.sink_tokens << " local " << c.options.local_window;
  INFO(what.str());
  const Problem p = make_problem(c.heads, c.kv_heads, c.dim, c.total, c.window, c.dtype, seed);

  CaptureSides sides(p, c.captured, c.options);

  DeviceProblem device(p);
  cuda::CaptureWorkspace workspace;
  int64_t first = 0;
  for (int64_t n : c.chunks) {
    const k::AttentionShape shape{c.heads, c.kv_heads, c.dim, first, c.window, float(p.scale())};
    k::Tensor o = sides.out_cpu.row_slice(first, n);
    sides.cpu->attention(sides.q_cpu.row_slice(first, n), sides.k_cpu, sides.v_cpu, shape, o, &sides.cpu_capture,
                         nullptr);

    device.fill_caches(first + n);
    cuda::FlashAttentionParams params = device.params(first, n, workspace.lse_buffer(c.heads, n));
    if (rows_from_forward) {
      const cuda::CaptureWorkspace::ForwardRows rows = workspace.forward_rows_buffer(c.heads, n);
      params.row_entropy = rows.entropy;
      params.row_top1 = rows.top1;
    }
    const bool wrote = cuda::flash_attention_forward(params, nullptr);
    REQUIRE(wrote == rows_from_forward);
    cuda::capture_attention(params, sides.gpu_capture, workspace, nullptr, wrote);
    first += n;
  }
  sides.compare_heads(p);
}

k::CaptureOptions options(int64_t sink, int64_t local, int64_t pool, bool exact, int64_t exact_limit) {
  return capture_options(sink, local, pool, exact, exact_limit);
}

}  // namespace

TEST_CASE("CUDA capture pass accumulates what the CPU backend accumulates", "[gpu][attention][capture]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      {8, 2, 32, 700, 0, DType::BF16, {1, 255, 128, 316}, {0, 3, 7}, options(4, 64, 64, true, 300)},
      {4, 4, 16, 520, 37, DType::BF16, {520}, {0, 1, 2, 3}, options(1, 5, 48, false, 0)},
      {4, 2, 128, 1100, 0, DType::F16, {600, 499, 1}, {1, 2}, options(4, 64, 100, false, 0)},
      {8, 8, 64, 300, 0, DType::BF16, {300}, {5}, options(4, 64, 16, true, 4096)},
      {4, 4, 32, 260, 0, DType::BF16, {100, 60, 100}, {0, 1, 2, 3}, options(4, 64, 32, true, 200)},
      {6, 3, 80, 400, 129, DType::F16, {200, 200}, {2, 5}, options(8, 100, 256, false, 0)},
      {2, 2, 96, 333, 0, DType::BF16, {333}, {1}, options(0, 1, 7, true, 50)},  // odd pool block, no sinks
  };
  uint32_t seed = 7000;
  for (const Case& c : cases) {
    seed += 29;
    uint32_t offset = 0;  // fresh inputs per kernel (METHOD.md)
    for (const cuda::FlashKernel kernel : capture_kernels_for(c.heads, c.kv_heads, c.dim, c.dtype)) {
      run_case(c, seed + (offset += 1000), kernel);
      if (kernel == cuda::FlashKernel::Hopper) run_case(c, seed + (offset += 1000), kernel, true);
    }
  }
}

// The Hopper kernel's own edges (run on both kernels): 128-row blocks and 128-key tiles
// at chunk offsets that are multiples of neither; enough key tiles to wrap its 3-slot K
// ring several times and to give both consumers many tiles; warps whose 32 rows span two
// row blocks of the pooled map (its slow path) and pool blocks below a warp's rows; GQA
// 4 and 8; a sliding window over several tiles; exact rows next to statistics.
TEST_CASE("CUDA capture pass: chunk offsets, ring wraps and pool blocks of the Hopper kernel",
          "[gpu][attention][capture]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      {8, 2, 128, 1500, 0, DType::BF16, {77, 1023, 400}, {0, 5}, options(4, 64, 64, true, 600)},
      {4, 1, 64, 1300, 300, DType::F16, {1300}, {1, 3}, options(2, 32, 48, false, 0)},
      {8, 1, 128, 700, 0, DType::BF16, {700}, {2, 7}, options(4, 64, 7, false, 0)},
      {4, 4, 64, 520, 0, DType::BF16, {129, 391}, {0}, options(1, 200, 256, true, 4096)},
      {2, 1, 128, 2100, 0, DType::F16, {2100}, {1}, options(4, 64, 128, false, 0)},  // 17 key tiles
  };
  uint32_t seed = 9100;
  for (const Case& c : cases) {
    seed += 31;
    uint32_t offset = 0;
    for (const cuda::FlashKernel kernel : capture_kernels_for(c.heads, c.kv_heads, c.dim, c.dtype)) {
      run_case(c, seed + (offset += 1000), kernel);
      if (kernel == cuda::FlashKernel::Hopper) run_case(c, seed + (offset += 1000), kernel, true);
    }
  }
}

TEST_CASE("CUDA capture pass chooses the Hopper kernel only where it can run", "[gpu][attention][capture]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  using Catch::Contains;
  const Problem p96 = make_problem(4, 2, 96, 64, 0, DType::BF16, 15);
  DeviceProblem d96(p96);
  const cuda::FlashAttentionParams params96 = d96.params(0, 64, nullptr);
  CHECK(cuda::choose_capture_kernel(params96, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Portable);
  CHECK_THROWS_WITH(cuda::choose_capture_kernel(params96, cuda::FlashKernel::Hopper), Contains("head_dim"));
  CHECK(cuda::choose_capture_kernel(params96, cuda::FlashKernel::Portable) == cuda::FlashKernel::Portable);

  const Problem p = make_problem(4, 2, 128, 64, 0, DType::BF16, 16);
  DeviceProblem device(p);
  const cuda::FlashAttentionParams params = device.params(0, 64, nullptr);
  if (device_is_hopper() && cuda::capture_hopper_unavailable(params).empty()) {
    CHECK(cuda::choose_capture_kernel(params, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Hopper);
  } else {
    CHECK(cuda::choose_capture_kernel(params, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Portable);
    CHECK_THROWS_WITH(cuda::choose_capture_kernel(params, cuda::FlashKernel::Hopper), Contains("Hopper"));
  }
}

TEST_CASE("CUDA capture pass returns the probabilities of a requested window", "[gpu][attention][capture]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  for (const cuda::FlashKernel kernel : capture_kernels_for(4, 2, 64, DType::BF16)) {
    INFO(kernel_name(kernel) << " capture kernel");
    const ScopedCaptureKernel scoped(kernel);
    const Problem p = make_problem(4, 2, 64, 400, 0, DType::BF16, 321);
    DeviceProblem device(p);
    device.fill_caches(400);
    cuda::CaptureWorkspace workspace;
    const cuda::FlashAttentionParams params = device.params(0, 400, workspace.lse_buffer(4, 400));
    cuda::flash_attention_forward(params, nullptr);
    cuda::CapturePassRequest request;
    request.heads = {3, 0};
    request.statistics = false;
    request.window = {150, 290, 40, 230};  // rows 150..289, keys 40..229: crosses the diagonal
    cuda::run_capture_pass(params, request, workspace, nullptr);
    const cuda::CaptureResults r = cuda::download_capture_results(workspace, nullptr);
    REQUIRE(r.window_probs.size() == std::size_t(2 * 140 * 190));
    for (std::size_t slot = 0; slot < 2; ++slot)
      for (int64_t pos = 150; pos < 290; ++pos) {
        const ReferenceRow ref = reference_row(p, request.heads[slot], pos);
        for (int64_t key = 40; key < 230; ++key) {
          const double want = key <= pos ? ref.probs[std::size_t(key)] : 0.0;
          const double got = r.window_probs[std::size_t((int64_t(slot) * 140 + pos - 150) * 190 + key - 40)];
          if (!(std::fabs(got - want) <= 1e-5 * want + 1e-7)) {
            INFO("head " << request.heads[slot] << " position " << pos << " key " << key << " GPU " << got
                         << " reference " << want);
            REQUIRE(std::fabs(got - want) <= 1e-5 * want + 1e-7);
          }
        }
      }
  }
}

// The Hopper forward's top-1 on exact ties: keys repeat with a period of 150 (identical
// rows, so identical scores on every backend), and a row's top-1 must be the lowest
// visible key of the best class, whether the copies lie in one key tile or several, with
// and without a window. Its entropy is compared too.
TEST_CASE("Hopper forward's row statistics take the lowest of tied keys", "[gpu][attention][capture]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  constexpr int64_t kPeriod = 150, kTotal = 700;
  for (const int64_t window : {int64_t(0), int64_t(333)}) {
    INFO("window " << window);
    Problem p = make_problem(4, 2, 128, kTotal, window, DType::BF16, 4242);
    const std::size_t row = std::size_t(p.kv_heads * p.dim);
    for (int64_t key = kPeriod; key < kTotal; ++key)
      std::copy_n(p.k.begin() + std::ptrdiff_t(std::size_t(key % kPeriod) * row), row,
                  p.k.begin() + std::ptrdiff_t(std::size_t(key) * row));
    DeviceProblem device(p);
    device.fill_caches(kTotal);
    cuda::CaptureWorkspace workspace;
    cuda::FlashAttentionParams params = device.params(0, kTotal, workspace.lse_buffer(p.heads, kTotal));
    if (!cuda::flash_attention_hopper_unavailable(params).empty()) {
      WARN("Hopper forward not tested: " << cuda::flash_attention_hopper_unavailable(params));
      return;
    }
    const cuda::CaptureWorkspace::ForwardRows rows = workspace.forward_rows_buffer(p.heads, kTotal);
    params.row_entropy = rows.entropy;
    params.row_top1 = rows.top1;
    REQUIRE(cuda::flash_attention_forward(params, nullptr, cuda::FlashKernel::Hopper));
    const std::size_t cells = std::size_t(p.heads * kTotal);
    std::vector<int32_t> top1(cells);
    std::vector<float> entropy(cells);
    cuda_check(cudaMemcpy(top1.data(), rows.top1, cells * 4, cudaMemcpyDeviceToHost), "download top-1");
    cuda_check(cudaMemcpy(entropy.data(), rows.entropy, cells * 4, cudaMemcpyDeviceToHost), "download entropy");
    for (int head = 0; head < p.heads; ++head)
      for (int64_t pos = 0; pos < kTotal; ++pos) {
        const ReferenceRow ref = reference_row(p, head, pos);
        const int64_t k0 = p.first_key(pos);
        double best = -1e300, h = 0;
        int64_t want = k0;
        for (int64_t key = k0; key <= pos; ++key) {
          const double x = ref.probs[std::size_t(key - k0)];
          if (x > best) {
            best = x;
            want = key;
          }
          if (x > 0) h -= x * std::log(x);
        }
        const int64_t got = top1[std::size_t(head * kTotal + pos)];
        INFO("head " << head << " position " << pos << " top-1 GPU " << got << " reference " << want);
        REQUIRE(got >= k0);
        REQUIRE(got <= pos);
        // The best class, or a near tie of classes the roundings order differently; either
        // way the lowest visible copy of it.
        const double got_p = ref.probs[std::size_t(got - k0)];
        REQUIRE((got % kPeriod == want % kPeriod || std::fabs(got_p - best) <= 1e-5 * best));
        REQUIRE((got - kPeriod < k0));
        CHECK(std::fabs(entropy[std::size_t(head * kTotal + pos)] - h) <= 1e-4 * (1.0 + h));
      }
  }
}
