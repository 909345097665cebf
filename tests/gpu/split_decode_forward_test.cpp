// The split-KV decode forward (split_decode.h) against the double reference on fresh
// random inputs: 1, 2, 7 and 16 rows; 1 to 40000 keys (one tile, tile edges, many
// splits); GQA groups 1, 4 and 8; head dims 32, 64, 80, 96 and 128; sliding windows;
// bf16 and fp16; lse. q is a strided column view, unfilled cache rows are NaN, out and
// lse are poisoned before each call: every element the call owns must be written and no
// other. The bounds are the portable forward's (attention_test_support.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/split_decode.h"
#include "kernels/error.h"
#include "tests/gpu/split_decode_support.h"

using namespace attnscope::testing::gpu;
namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;
using attnscope::kernels::DType;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t keys, n, window;
  DType dtype;
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " keys " << c.keys << " rows " << c.n
    << " window " << c.window << " " << (c.dtype == DType::BF16 ? "bf16" : "fp16");
  return s.str();
}

// Checks out and lse of the call's heads [head_begin, head_end) against the reference;
// every other element of out and lse must still hold its NaN poison.
void check_outputs(const DecodeProblem& p, const DeviceDecodeProblem& device, const std::vector<float>& lse,
                   int head_begin, int head_end, bool with_lse = true) {
  const std::vector<float> out = device.download_out();
  double err2 = 0, ref2 = 0;
  for (int64_t r = 0; r < p.n; ++r)
    for (int64_t col = 0; col < device.out_stride(); ++col) {
      const bool owned = col >= int64_t(head_begin) * p.dim && col < int64_t(head_end) * p.dim;
      if (owned != !std::isnan(out[std::size_t(r * device.out_stride() + col)])) {
        INFO("row " << r << " col " << col << (owned ? " not written (or NaN)" : " written outside the call"));
        REQUIRE(owned == !std::isnan(out[std::size_t(r * device.out_stride() + col)]));
      }
    }
  for (int h = 0; h < p.heads; ++h)
    for (int64_t r = 0; r < p.n; ++r) {
      const bool owned = h >= head_begin && h < head_end;
      const float got_lse = lse[std::size_t(h * p.n + r)];
      if (!owned || !with_lse) {
        INFO("head " << h << " row " << r << " lse written outside the call");
        REQUIRE(std::isnan(got_lse));
        if (!owned) continue;
      }
      const ReferenceRow ref = decode_reference_row(p, h, r);
      if (with_lse && !(std::fabs(got_lse - ref.lse) <= kForwardLseBound)) {
        INFO("head " << h << " row " << r << " lse " << got_lse << " reference " << ref.lse);
        REQUIRE(std::fabs(got_lse - ref.lse) <= kForwardLseBound);
      }
      for (int d = 0; d < p.dim; ++d) {
        const double got = out[std::size_t(r * device.out_stride() + h * p.dim + d)];
        const double want = ref.out[std::size_t(d)], err = std::fabs(got - want);
        err2 += err * err;
        ref2 += want * want;
        if (!(err <= forward_element_bound(p.dtype) * ref.magnitude[std::size_t(d)] + 1e-6)) {
          INFO("head " << h << " row " << r << " dim " << d << " got " << got << " want " << want << " sum p|v| "
                       << ref.magnitude[std::size_t(d)]);
          REQUIRE(err <= forward_element_bound(p.dtype) * ref.magnitude[std::size_t(d)] + 1e-6);
        }
      }
    }
  INFO("relative error " << std::sqrt(err2 / ref2));
  CHECK(std::sqrt(err2 / ref2) <= forward_norm_bound(p.dtype));
}

// An lse buffer of the call's heads x rows, NaN.
class PoisonedLse : public DeviceArray<float> {
 public:
  explicit PoisonedLse(const DecodeProblem& p) : DeviceArray<float>(std::size_t(p.heads * p.n)) { poison(); }
  void poison() { upload(std::vector<float>(size(), std::numeric_limits<float>::quiet_NaN())); }
};

// A problem on the device with its poisoned lse, a split-KV workspace, and the params of
// its call (lse and workspace set).
struct DecodeCall {
  DeviceDecodeProblem device;
  cuda::SplitDecodeWorkspace workspace;
  PoisonedLse lse;
  cuda::FlashAttentionParams params;
  explicit DecodeCall(const DecodeProblem& p) : device(p), lse(p), params(device.params(lse.data())) {
    params.decode_workspace = &workspace;
  }
};

void run_case(const Case& c, uint32_t seed) {
  INFO(describe(c));
  const DecodeProblem p = make_decode_problem(c.heads, c.kv_heads, c.dim, c.keys, c.n, c.window, c.dtype, seed);
  DecodeCall call(p);
  cuda::split_decode_forward(call.params, nullptr);
  cuda_check(cudaDeviceSynchronize(), "split forward");
  check_outputs(p, call.device, call.lse.download(), 0, p.heads);
}

}  // namespace

TEST_CASE("Split-KV decode forward matches the double reference over rows, key counts, groups, head dims and dtypes",
          "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // Every row count with every key count; the group, head dim, window and dtype turn with
  // them so that each meets several row and key counts.
  const int groups[] = {1, 4, 8};
  const int dims[] = {64, 128, 96, 32, 80};
  uint32_t seed = 9100;
  int i = 0;
  for (const int64_t n : {1, 2, 7, 16})
    for (const int64_t keys : {1, 63, 64, 65, 1000, 8192, 40000}) {
      if (keys < n) continue;
      const int group = groups[i % 3], dim = dims[i % 5];
      const int kv_heads = keys >= 8192 ? 1 : 2;  // the reference costs heads x rows x keys
      const int64_t window = i % 2 == 1 ? std::max<int64_t>(1, keys / 3) : 0;
      run_case({group * kv_heads, kv_heads, dim, keys, n, window, i % 4 < 2 ? DType::BF16 : DType::F16}, seed += 13);
      ++i;
    }
}

TEST_CASE("Split-KV decode forward covers every group, head dim and dtype at tile and split edges",
          "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  uint32_t seed = 9500;
  for (const int group : {1, 4, 8})
    for (const int dim : {32, 64, 80, 96, 128, 16})
      for (const DType dtype : {DType::BF16, DType::F16}) {
        // 9 rows of 8 heads need two CTAs per KV head; windows of 1 and 65 keys, no window.
        run_case({group * 2, 2, dim, 1000, 9, group == 8 ? 65 : 0, dtype}, seed += 7);
        run_case({group, 1, dim, 129, 1, group == 4 ? 1 : 0, dtype}, seed += 7);
      }
}

TEST_CASE("Split-KV decode forward writes only the heads of its range", "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // Ranges that begin and end inside GQA groups, and one inside a single group.
  for (const auto& [begin, count] : {std::pair{1, 6}, std::pair{5, 2}, std::pair{0, 3}}) {
    INFO("heads [" << begin << ", " << begin + count << ")");
    const DecodeProblem p = make_decode_problem(8, 2, 64, 700, 7, 0, DType::BF16, 9700 + uint32_t(begin));
    DecodeCall call(p);
    call.params.head_begin = begin;
    call.params.head_count = count;
    cuda::split_decode_forward(call.params, nullptr);
    cuda_check(cudaDeviceSynchronize(), "split forward");
    check_outputs(p, call.device, call.lse.download(), begin, begin + count);
  }
}

TEST_CASE("Split-KV decode forward without an lse buffer still writes the output", "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const DecodeProblem p = make_decode_problem(8, 2, 128, 5000, 2, 0, DType::F16, 9800);
  const DeviceDecodeProblem device(p);
  cuda::SplitDecodeWorkspace workspace;
  cuda::FlashAttentionParams params = device.params(nullptr);
  params.decode_workspace = &workspace;
  cuda::split_decode_forward(params, nullptr);
  cuda_check(cudaDeviceSynchronize(), "split forward");
  const std::vector<float> no_lse(std::size_t(p.heads * p.n), std::numeric_limits<float>::quiet_NaN());
  check_outputs(p, device, no_lse, 0, p.heads, false);
}

TEST_CASE("Split-KV decode forward gives the same bits on every run", "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // The splits are merged in a fixed order (no atomics): a repeated call must not differ.
  const DecodeProblem p = make_decode_problem(32, 8, 128, 20000, 1, 0, DType::BF16, 9900);
  DecodeCall call(p);
  cuda::split_decode_forward(call.params, nullptr);
  const std::vector<uint16_t> first = call.device.download_out_bits();
  const std::vector<float> first_lse = call.lse.download();
  for (int run = 0; run < 3; ++run) {
    cuda::split_decode_forward(call.params, nullptr);
    CHECK(call.device.download_out_bits() == first);
    const std::vector<float> again = call.lse.download();
    CHECK(std::equal(again.begin(), again.end(), first_lse.begin(),
                     [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }));
  }
}

TEST_CASE("CUDA attention forward takes the split path for decode steps unless ATTNSCOPE_DECODE_KERNEL=rows",
          "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const DecodeProblem p = make_decode_problem(8, 2, 128, 3000, 1, 0, DType::BF16, 9950);
  DecodeCall call(p);
  for (const char* value : {"rows", "split"}) {
    INFO("ATTNSCOPE_DECODE_KERNEL=" << value);
    const ScopedEnvironment scoped("ATTNSCOPE_DECODE_KERNEL", value);
    const bool split = std::string(value) == "split";
    CHECK(cuda::split_decode_chosen(call.params, cuda::FlashKernel::Automatic) == split);
    // A kernel the caller names is what runs.
    CHECK_FALSE(cuda::split_decode_chosen(call.params, cuda::FlashKernel::Portable));
    call.device.poison_out();
    call.lse.poison();
    cuda::flash_attention_forward(call.params, nullptr);
    cuda_check(cudaDeviceSynchronize(), "forward");
    // Only the split path reserves room in the workspace ("rows" runs first).
    CHECK((call.workspace.bytes() > 0) == split);
    check_outputs(p, call.device, call.lse.download(), 0, p.heads);
  }
  // Without a workspace the per-head kernels run the call.
  call.params.decode_workspace = nullptr;
  CHECK_FALSE(cuda::split_decode_chosen(call.params, cuda::FlashKernel::Automatic));
}

TEST_CASE("Split-KV decode forward runs the Dense heads of a ruled decode step", "[gpu][attention][decode]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const ScopedEnvironment scoped("ATTNSCOPE_DECODE_KERNEL", "split");
  using k::HeadRule;
  const std::vector<HeadRule> rules = {HeadRule::dense(), HeadRule::dense(),   HeadRule::ablated(),
                                       HeadRule::dense(), HeadRule::dense(),   HeadRule::dense(),
                                       HeadRule::sink_window(4, 16), HeadRule::dense()};
  const DecodeProblem p = make_decode_problem(8, 2, 64, 900, 3, 0, DType::BF16, 9970);
  DecodeCall call(p);
  cuda::flash_attention_forward_with_rules(call.params, k::AttentionRules{rules}, nullptr);
  cuda_check(cudaDeviceSynchronize(), "forward with rules");
  CHECK(call.workspace.bytes() > 0);
  const std::vector<float> out = call.device.download_out(), lse_host = call.lse.download();
  for (int h = 0; h < p.heads; ++h) {
    if (rules[std::size_t(h)].kind != k::HeadRuleKind::Dense) continue;
    INFO("head " << h);
    for (int64_t r = 0; r < p.n; ++r) {
      const ReferenceRow ref = decode_reference_row(p, h, r);
      CHECK(std::fabs(lse_host[std::size_t(h * p.n + r)] - ref.lse) <= kForwardLseBound);
      for (int d = 0; d < p.dim; ++d) {
        const double err =
            std::fabs(out[std::size_t(r * call.device.out_stride() + h * p.dim + d)] - ref.out[std::size_t(d)]);
        REQUIRE(err <= forward_element_bound(p.dtype) * ref.magnitude[std::size_t(d)] + 1e-6);
      }
    }
  }
  // The ablated head is zeros (its rows exist: the rule writes them).
  for (int64_t r = 0; r < p.n; ++r)
    for (int d = 0; d < p.dim; ++d) REQUIRE(out[std::size_t(r * call.device.out_stride() + 2 * p.dim + d)] == 0.0f);
}

// Runs without a GPU: the names and the call-only part of the choice.
TEST_CASE("Decode kernel names and the split path's limits on a call", "[attention][decode][dispatch]") {
  using Catch::Contains;
  CHECK(cuda::parse_decode_kernel("") == cuda::DecodeKernel::Split);
  CHECK(cuda::parse_decode_kernel("split") == cuda::DecodeKernel::Split);
  CHECK(cuda::parse_decode_kernel("rows") == cuda::DecodeKernel::Rows);
  CHECK_THROWS_WITH(cuda::parse_decode_kernel("auto"), Contains("ATTNSCOPE_DECODE_KERNEL"));

  cuda::SplitDecodeWorkspace workspace;  // holds nothing until a call reserves room
  CHECK(workspace.bytes() == 0);
  cuda::FlashAttentionParams p;
  p.num_heads = 32;
  p.num_kv_heads = 8;
  p.head_dim = 128;
  p.n = 1;
  p.decode_workspace = &workspace;
  CHECK(cuda::split_decode_limitation(p).empty());
  p.n = 16;
  CHECK(cuda::split_decode_limitation(p).empty());
  p.n = 17;
  CHECK_THAT(cuda::split_decode_limitation(p), Contains("17 query rows"));
  p.n = 0;
  CHECK_THAT(cuda::split_decode_limitation(p), Contains("0 query rows"));
  p.n = 4;
  p.rule = k::HeadRule::sink_window(4, 64);
  CHECK_THAT(cuda::split_decode_limitation(p), Contains("rule"));
  p.rule = k::HeadRule::dense();
  p.decode_workspace = nullptr;
  CHECK_THAT(cuda::split_decode_limitation(p), Contains("workspace"));
  CHECK_THROWS_WITH(cuda::split_decode_forward(p, nullptr), Contains("workspace"));
  {
    const ScopedEnvironment scoped("ATTNSCOPE_DECODE_KERNEL", "sideways");
    p.decode_workspace = &workspace;
    CHECK_THROWS_WITH(cuda::split_decode_chosen(p, cuda::FlashKernel::Automatic), Contains("sideways"));
  }
}
