// The split-KV decode capture pass (split_decode.h) against the CPU backend's capture:
// both are fed the same rounded inputs in the same calls, and their accumulators must
// agree on every field (capture_comparison.h's bounds). Decode steps of 1 to 16 rows run
// on the split path (ATTNSCOPE_DECODE_KERNEL=split for the test), longer calls on the
// per-head kernels in the same run, so their sums meet in the same accumulators. Cases
// cover GQA groups 1 to 8, head dims 32 to 128, windows, pool blocks that split a call's
// rows and a warp's keys, exact rows, subsets of the heads and caches of 1 to 40000 keys.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>

#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/split_decode.h"
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
  int64_t start;                // the first call's position: earlier rows are only cache
  std::vector<int64_t> chunks;  // rows per call from start, in order
  std::vector<int> captured;
  k::CaptureOptions options;
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " total " << c.total << " window " << c.window
    << " start " << c.start << " pool " << c.options.pool_block << " sink " << c.options.sink_tokens << " local "
    << c.options.local_window << " exact " << c.options.exact_probabilities << " chunks";
  for (int64_t n : c.chunks) s << " " << n;
  return s.str();
}

void run_case(const Case& c, uint32_t seed) {
  const ScopedEnvironment split("ATTNSCOPE_DECODE_KERNEL", "split");
  INFO(describe(c));
  const Problem p = make_problem(c.heads, c.kv_heads, c.dim, c.total, c.window, c.dtype, seed);

  CaptureSides sides(p, c.captured, c.options);

  DeviceProblem device(p);
  cuda::CaptureWorkspace workspace;
  cuda::SplitDecodeWorkspace decode_workspace;
  int64_t first = c.start;
  for (int64_t n : c.chunks) {
    INFO("call rows [" << first << ", " << first + n << ")");
    const k::AttentionShape shape{c.heads, c.kv_heads, c.dim, first, c.window, float(p.scale())};
    k::Tensor o = sides.out_cpu.row_slice(first, n);
    sides.cpu->attention(sides.q_cpu.row_slice(first, n), sides.k_cpu.row_slice(0, first + n),
                         sides.v_cpu.row_slice(0, first + n), shape, o, &sides.cpu_capture, nullptr);

    device.fill_caches(first + n);
    cuda::FlashAttentionParams params = device.params(first, n, workspace.lse_buffer(c.heads, n));
    params.decode_workspace = &decode_workspace;
    CHECK(cuda::split_decode_capture_chosen(params) == (n <= 16));
    cuda::flash_attention_forward(params, nullptr);
    cuda::capture_attention(params, sides.gpu_capture, workspace, nullptr);
    first += n;
  }
  sides.compare_heads(p);
}

k::CaptureOptions options(int64_t sink, int64_t local, int64_t pool, bool exact, int64_t exact_limit) {
  return capture_options(sink, local, pool, exact, exact_limit);
}

}  // namespace

TEST_CASE("Split-KV decode capture accumulates what the CPU backend accumulates", "[gpu][attention][capture][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      // A prefill on the per-head kernels, then decode steps on the split path, then a longer call.
      {8, 2, 64, 700, 0, DType::BF16, 0, {600, 1, 1, 7, 16, 75}, {0, 3, 5, 6}, options(4, 64, 64, true, 1000)},
      // Window; pool block 7: a call's 7 rows span two row blocks, a warp's keys five key blocks.
      {8, 1, 128, 1000, 129, DType::F16, 990, {1, 2, 7}, {0, 1, 2, 3, 4, 5, 6, 7}, options(1, 5, 7, false, 0)},
      // Group 1, pool block 100, exact rows, two of four heads.
      {4, 4, 32, 3000, 0, DType::BF16, 2984, {16}, {1, 2}, options(4, 64, 100, true, 3000)},
      // Group 8 with 16 rows: two CTAs per KV head; every head; exact rows over 8192 keys.
      {16, 2, 128, 8192, 0, DType::BF16, 8176, {16}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
       options(4, 64, 64, true, 8192)},
      // Group 2, head dim 80, a window of 1000 keys, pool block 48.
      {6, 3, 80, 5000, 1000, DType::BF16, 4990, {2, 1, 7}, {0, 1, 2, 3, 4, 5}, options(8, 128, 48, false, 0)},
      // From the first position: 1 key, then a few; head dim 96, fp16, a 3-key window.
      {8, 8, 96, 64, 3, DType::F16, 0, {1, 1, 1, 2, 16, 43}, {0, 2, 4, 7}, options(2, 4, 16, true, 64)},
  };
  uint32_t seed = 12000;
  for (const Case& c : cases) run_case(c, seed += 31);
}

TEST_CASE("Split-KV decode capture over a cache of 40000 keys", "[gpu][attention][capture][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  run_case({4, 1, 64, 40000, 0, DType::F16, 39999, {1}, {0, 1, 2, 3}, options(4, 64, 64, false, 0)}, 12500);
  run_case({8, 2, 128, 40000, 4096, DType::BF16, 39984, {16}, {1, 6}, options(4, 64, 256, true, 40000)}, 12600);
}

TEST_CASE("Split-KV decode capture gives the same row results on every run", "[gpu][attention][capture][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const ScopedEnvironment split("ATTNSCOPE_DECODE_KERNEL", "split");
  // Per-row values are merged from the splits in a fixed order: entropy, top-1, sink and
  // local mass must not change between runs (column and diagonal sums use atomics).
  const DecodeProblem p = make_decode_problem(32, 8, 128, 6000, 4, 0, DType::BF16, 12700);
  const DeviceDecodeProblem device(p);
  cuda::CaptureWorkspace workspace;
  cuda::SplitDecodeWorkspace decode_workspace;
  cuda::FlashAttentionParams params = device.params(workspace.lse_buffer(p.heads, p.n));
  params.decode_workspace = &decode_workspace;
  cuda::flash_attention_forward(params, nullptr);
  cuda::CapturePassRequest request;
  for (int h = 0; h < p.heads; ++h) request.heads.push_back(h);
  const auto bits = [](const auto& v) {
    std::vector<uint32_t> b(v.size());
    std::memcpy(b.data(), v.data(), v.size() * 4);
    return b;
  };
  cuda::run_capture_pass(params, request, workspace, nullptr);
  const cuda::CaptureResults first = cuda::download_capture_results(workspace, nullptr);
  REQUIRE(first.row_entropy.size() == std::size_t(p.heads * p.n));
  for (int run = 0; run < 2; ++run) {
    cuda::run_capture_pass(params, request, workspace, nullptr);
    const cuda::CaptureResults again = cuda::download_capture_results(workspace, nullptr);
    CHECK(bits(again.row_entropy) == bits(first.row_entropy));
    CHECK(again.row_top1 == first.row_top1);
    CHECK(bits(again.row_sink) == bits(first.row_sink));
    CHECK(bits(again.row_local) == bits(first.row_local));
  }
}

TEST_CASE("Split-KV decode capture agrees with the portable capture kernel on the same forward",
          "[gpu][attention][capture][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const DecodeProblem p = make_decode_problem(32, 8, 128, 30000, 1, 0, DType::BF16, 12800);
  const DeviceDecodeProblem device(p);
  cuda::CaptureWorkspace workspace;
  cuda::FlashAttentionParams params = device.params(workspace.lse_buffer(p.heads, p.n));
  cuda::flash_attention_forward(params, nullptr, cuda::FlashKernel::Portable);
  cuda::CapturePassRequest request;
  for (int h = 0; h < p.heads; h += 3) request.heads.push_back(h);
  const auto results = [&](const char* decode) {
    const ScopedEnvironment scoped("ATTNSCOPE_DECODE_KERNEL", decode);
    const ScopedEnvironment portable("ATTNSCOPE_CAPTURE_KERNEL", "portable");
    cuda::run_capture_pass(params, request, workspace, nullptr);
    return cuda::download_capture_results(workspace, nullptr);
  };
  const cuda::CaptureResults rows = results("rows"), split = results("split");
  // The same mma scores and exponentials: per-element p agree to the bit, sums to fp32
  // rounding of their order (capture_comparison.h's bounds).
  require_close_vectors("column_sums", split.column_sums, rows.column_sums);
  require_close_vectors("diagonal_sums", split.diagonal_sums, rows.diagonal_sums);
  require_close_vectors("pooled", split.pooled, rows.pooled);
  require_close_vectors("row_sink", split.row_sink, rows.row_sink);
  require_close_vectors("row_local", split.row_local, rows.row_local);
  for (std::size_t i = 0; i < rows.row_entropy.size(); ++i)
    REQUIRE(std::fabs(split.row_entropy[i] - rows.row_entropy[i]) <= 1e-4 * (1.0 + rows.row_entropy[i]));
  CHECK(split.row_top1 == rows.row_top1);  // same scores, same tie rule
}
