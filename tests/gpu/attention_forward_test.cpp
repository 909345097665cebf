// The CUDA flash-attention forward against a double-precision reference on fresh random
// inputs: MHA and GQA, every compiled head dim, bf16 and fp16, sliding windows, one-shot
// prefill, chunked prefill (first_position > 0) and decode rows. q is a strided column
// view, unfilled cache rows are NaN, out and lse are poisoned before each call and
// every element the call owns must be written; elements it does not own must keep
// the poison. Every case runs on the portable kernel and, where it applies (compute
// capability 9.0, head dim 64 or 128), on the Hopper kernel, with the same bounds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "kernels/error.h"
#include "tests/gpu/attention_device_problem.h"

using namespace attnscope::testing::gpu;
namespace cuda = attnscope::kernels::cuda;
using attnscope::kernels::DType;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t total, window;
  DType dtype;
  std::vector<int64_t> chunks;  // rows per call, in order; they sum to total
  float stddev = 1.5f;          // of q and k: 1.5 gives rows from flat to peaked
  int64_t checked_rows = 0;     // compare only the last rows of each call with the reference (0: all)
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " total " << c.total << " window " << c.window
    << " " << (c.dtype == DType::BF16 ? "bf16" : "fp16") << " stddev " << c.stddev << " chunks";
  for (int64_t n : c.chunks) s << " " << n;
  return s.str();
}

// Error bounds: attention_test_support.h (forward_element_bound and the others).
double element_bound(DType dtype) { return forward_element_bound(dtype); }
double norm_bound(DType dtype) { return forward_norm_bound(dtype); }
constexpr double kLseBound = kForwardLseBound;

const char* kernel_name(cuda::FlashKernel kernel) {
  return kernel == cuda::FlashKernel::Hopper ? "hopper" : kernel == cuda::FlashKernel::Portable ? "portable" : "auto";
}

void run_case(const Case& c, uint32_t seed, cuda::FlashKernel kernel) {
  INFO(describe(c) << ", " << kernel_name(kernel) << " kernel");
  const Problem p = make_problem(c.heads, c.kv_heads, c.dim, c.total, c.window, c.dtype, seed, c.stddev);
  DeviceProblem device(p);
  int64_t first = 0;
  double err2 = 0, ref2 = 0, worst = 0;
  for (int64_t n : c.chunks) {
    INFO("call rows [" << first << ", " << first + n << ")");
    device.fill_caches(first + n);
    device.poison_out();
    DeviceArray<float> lse(std::size_t(c.heads * n));
    lse.upload(std::vector<float>(lse.size(), std::numeric_limits<float>::quiet_NaN()));
    cuda::flash_attention_forward(device.params(first, n, lse.data()), nullptr, kernel);
    cuda_check(cudaDeviceSynchronize(), "forward");
    const std::vector<float> out = device.download_out();
    const std::vector<float> lse_host = lse.download();
    const int64_t width = int64_t(c.heads) * c.dim;
    for (int64_t r = 0; r < p.total; ++r)
      for (int64_t col = 0; col < device.out_stride(); ++col) {
        const float got = out[std::size_t(r * device.out_stride() + col)];
        const bool owned = r >= first && r < first + n && col < width;
        if (owned != !std::isnan(got)) {
          INFO("row " << r << " col " << col << (owned ? " not written (or NaN)" : " written outside the call"));
          REQUIRE(owned == !std::isnan(got));
        }
      }
    for (int h = 0; h < c.heads; ++h)
      for (int64_t r = c.checked_rows > 0 ? std::max<int64_t>(0, n - c.checked_rows) : 0; r < n; ++r) {
        const int64_t pos = first + r;
        const ReferenceRow ref = reference_row(p, h, pos);
        const double lse_got = lse_host[std::size_t(h * n + r)];
        if (!(std::fabs(lse_got - ref.lse) <= kLseBound)) {
          INFO("head " << h << " position " << pos << " lse " << lse_got << " reference " << ref.lse);
          REQUIRE(std::fabs(lse_got - ref.lse) <= kLseBound);
        }
        for (int d = 0; d < c.dim; ++d) {
          const double got = out[std::size_t(pos * device.out_stride() + h * c.dim + d)];
          const double want = ref.out[std::size_t(d)];
          const double err = std::fabs(got - want);
          err2 += err * err;
          ref2 += want * want;
          worst = std::max(worst, err / (ref.magnitude[std::size_t(d)] + 1e-12));
          if (!(err <= element_bound(c.dtype) * ref.magnitude[std::size_t(d)] + 1e-6)) {
            INFO("head " << h << " position " << pos << " dim " << d << " got " << got << " want " << want
                         << " sum p|v| " << ref.magnitude[std::size_t(d)]);
            REQUIRE(err <= element_bound(c.dtype) * ref.magnitude[std::size_t(d)] + 1e-6);
          }
        }
      }
    first += n;
  }
  const double relative = std::sqrt(err2 / ref2);
  INFO("relative error " << relative << ", worst element error / sum p|v| " << worst);
  CHECK(relative <= norm_bound(c.dtype));
}

// Whether this device must run the Hopper kernel (compute capability 9.0).
bool device_is_hopper() {
  int device = 0, major = 0, minor = 0;
  cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  cuda_check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "attribute");
  cuda_check(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "attribute");
  return major == 9 && minor == 0;
}

// The portable kernel, and the Hopper kernel where it can run the case. On a 9.0 device a
// head dim of 64 or 128 must get the Hopper kernel unless the build left it out.
std::vector<cuda::FlashKernel> kernels_for(const Case& c) {
  const Problem p = make_problem(c.heads, c.kv_heads, c.dim, 16, c.window, c.dtype, 1);
  DeviceProblem device(p);
  const std::string why = cuda::flash_attention_hopper_unavailable(device.params(0, 16, nullptr));
  if (why.empty()) return {cuda::FlashKernel::Portable, cuda::FlashKernel::Hopper};
  if (device_is_hopper() && (c.dim == 64 || c.dim == 128)) {
    INFO("the Hopper kernel is unavailable on a 9.0 device: " << why);
    CHECK(why.find("not compiled") != std::string::npos);
    WARN("Hopper kernel not tested: " << why);
  }
  return {cuda::FlashKernel::Portable};
}

void run_on_each_kernel(const Case& c, uint32_t seed) {
  // Fresh inputs per kernel (METHOD.md): the second run draws from another seed.
  uint32_t offset = 0;
  for (const cuda::FlashKernel kernel : kernels_for(c)) run_case(c, seed + (offset += 1000), kernel);
}

}  // namespace

TEST_CASE("CUDA attention forward matches the double reference over shapes, dtypes and chunkings",
          "[gpu][attention]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      {4, 4, 16, 300, 0, DType::BF16, {300}},
      {8, 2, 32, 700, 0, DType::BF16, {1, 255, 128, 316}},
      {8, 1, 64, 520, 37, DType::F16, {520}},
      {4, 2, 128, 1100, 0, DType::BF16, {600, 499, 1}},
      {6, 3, 80, 400, 129, DType::F16, {200, 200}},
      {2, 2, 96, 333, 0, DType::BF16, {333}},
      {8, 2, 128, 700, 200, DType::BF16, {699, 1}, 3.0f},  // peaked rows, window
      {4, 4, 64, 70, 1, DType::BF16, {70}},                // a row sees only itself
      {4, 1, 128, 130, 0, DType::F16, {129, 1}},
      {8, 4, 32, 260, 0, DType::BF16, {130, 1, 1, 128}},   // the sample model's head dim
  };
  uint32_t seed = 4000;
  for (const Case& c : cases) run_on_each_kernel(c, seed += 17);
}

TEST_CASE("CUDA attention forward: decode rows deep into a long cache", "[gpu][attention]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // The double reference costs O(rows x keys): the long prefill call is checked on its last rows.
  run_on_each_kernel({8, 2, 128, 2500, 0, DType::BF16, {2497, 1, 1, 1}, 1.5f, 200}, 91);
  run_on_each_kernel({8, 2, 64, 2500, 300, DType::F16, {2499, 1}, 1.5f, 200}, 92);
}

// The Hopper kernel's own edges (run on both kernels): GQA ratios 1, 4 and 8; query
// offsets of chunked prefill that are not multiples of its 128-row blocks or 128-key
// tiles; row counts that leave a partial block; enough key tiles per block to wrap its
// two-stage K/V ring several times; single decode rows.
TEST_CASE("CUDA attention forward: GQA ratios, chunk offsets and partial tiles of the Hopper kernel",
          "[gpu][attention]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      {8, 8, 128, 700, 0, DType::BF16, {700}},                  // GQA 1, 5.5 blocks
      {8, 2, 128, 640, 0, DType::F16, {640}},                   // GQA 4, whole blocks
      {16, 2, 128, 390, 0, DType::BF16, {390}},                 // GQA 8
      {8, 1, 64, 1000, 0, DType::F16, {1000}},                  // GQA 8, head dim 64, 8 key tiles
      {4, 1, 128, 1000, 0, DType::BF16, {77, 300, 1, 250, 372}},  // offsets 77, 377, 378, 628
      {4, 2, 64, 800, 0, DType::BF16, {129, 383, 288}},
      {4, 4, 64, 900, 129, DType::F16, {257, 1, 642}},          // window over chunk offsets
      {6, 2, 128, 1300, 0, DType::BF16, {1, 1, 1298}, 3.0f},    // decode rows first, then peaked rows
      {2, 1, 128, 129, 0, DType::F16, {127, 1, 1}},
  };
  uint32_t seed = 7000;
  for (const Case& c : cases) run_on_each_kernel(c, seed += 23);
  run_on_each_kernel({16, 2, 128, 3000, 0, DType::BF16, {2999, 1}, 1.5f, 130}, 7777);  // 24 key tiles
}

TEST_CASE("CUDA attention forward chooses the Hopper kernel only where it can run", "[gpu][attention]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  using Catch::Contains;
  const Problem p96 = make_problem(4, 2, 96, 64, 0, DType::BF16, 15);
  DeviceProblem d96(p96);
  d96.fill_caches(64);
  const cuda::FlashAttentionParams params96 = d96.params(0, 64, nullptr);
  // Head dims without a Hopper instantiation run on the portable kernel; forcing Hopper throws.
  CHECK(cuda::choose_flash_kernel(params96, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Portable);
  CHECK_THROWS_WITH(cuda::flash_attention_forward(params96, nullptr, cuda::FlashKernel::Hopper), Contains("Hopper"));
  CHECK(cuda::choose_flash_kernel(params96, cuda::FlashKernel::Portable) == cuda::FlashKernel::Portable);

  const Problem p = make_problem(4, 2, 128, 64, 0, DType::BF16, 16);
  DeviceProblem device(p);
  device.fill_caches(64);
  const cuda::FlashAttentionParams params = device.params(0, 64, nullptr);
  if (device_is_hopper() && cuda::flash_attention_hopper_unavailable(params).empty()) {
    CHECK(cuda::choose_flash_kernel(params, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Hopper);
    // A view TMA cannot read (8 bytes off) is refused by both kernels alike: TMA's rules
    // (16-byte base, 16-byte row strides) are the portable kernel's, so under the call's
    // contract no aligned-for-one, unaligned-for-the-other view exists to fall back from.
    auto shifted = params;
    shifted.k = static_cast<const char*>(params.k) + 8;
    CHECK_FALSE(cuda::flash_attention_hopper_unavailable(shifted).empty());
    CHECK_THROWS_WITH(cuda::flash_attention_forward(shifted, nullptr, cuda::FlashKernel::Hopper), Contains("aligned"));
    CHECK_THROWS_WITH(cuda::flash_attention_forward(shifted, nullptr), Contains("aligned"));
  } else {
    CHECK(cuda::choose_flash_kernel(params, cuda::FlashKernel::Automatic) == cuda::FlashKernel::Portable);
    CHECK_THROWS_WITH(cuda::flash_attention_forward(params, nullptr, cuda::FlashKernel::Hopper), Contains("Hopper"));
  }
}

// Runs without a GPU: the parts of the choice that depend on the call alone.
TEST_CASE("Flash kernel names and the Hopper kernel's limits on a call", "[attention][dispatch]") {
  using Catch::Contains;
  CHECK(cuda::parse_flash_kernel("") == cuda::FlashKernel::Automatic);
  CHECK(cuda::parse_flash_kernel("auto") == cuda::FlashKernel::Automatic);
  CHECK(cuda::parse_flash_kernel("portable") == cuda::FlashKernel::Portable);
  CHECK(cuda::parse_flash_kernel("hopper") == cuda::FlashKernel::Hopper);
  CHECK_THROWS_WITH(cuda::parse_flash_kernel("Hopper"), Contains("ATTNSCOPE_FLASH_KERNEL"));

  // Addresses are never dereferenced here: only their alignment is looked at.
  alignas(16) static const uint16_t storage[64] = {};
  cuda::FlashAttentionParams p;
  p.dtype = DType::BF16;
  p.q = p.k = p.v = storage;
  p.out = const_cast<uint16_t*>(storage);
  p.num_heads = 8;
  p.num_kv_heads = 2;
  p.head_dim = 128;
  p.q_stride = p.out_stride = 8 * 128 + 8;  // column views, 16 bytes wider than their rows
  p.k_stride = p.v_stride = 2 * 128 + 8;
  p.n = 1;
  CHECK(cuda::flash_attention_hopper_limitation(p).empty());
  p.head_dim = 64;
  CHECK(cuda::flash_attention_hopper_limitation(p).empty());
  for (const int dim : {16, 32, 80, 96}) {
    auto bad = p;
    bad.head_dim = dim;
    CHECK_THAT(cuda::flash_attention_hopper_limitation(bad), Contains("head_dim"));
  }
  auto bad = p;
  bad.v = storage + 4;  // 8 bytes off
  CHECK_THAT(cuda::flash_attention_hopper_limitation(bad), Contains("aligned"));
  bad = p;
  bad.q_stride = 8 * 64 + 4;  // rows 8 bytes apart from 16-byte alignment
  CHECK_THAT(cuda::flash_attention_hopper_limitation(bad), Contains("stride"));
  bad = p;
  bad.dtype = DType::F32;
  CHECK_FALSE(cuda::flash_attention_hopper_limitation(bad).empty());
}

TEST_CASE("CUDA attention forward refuses calls it cannot run", "[gpu][attention]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const Problem p = make_problem(4, 2, 64, 32, 0, DType::BF16, 5);
  DeviceProblem device(p);
  device.fill_caches(32);
  cuda::FlashAttentionParams params = device.params(0, 32, nullptr);
  using Catch::Contains;
  auto bad = params;
  bad.head_dim = 48;
  CHECK_THROWS_WITH(cuda::flash_attention_forward(bad, nullptr), Contains("head_dim"));
  bad = params;
  bad.num_kv_heads = 3;
  CHECK_THROWS_WITH(cuda::flash_attention_forward(bad, nullptr), Contains("kv heads"));
  bad = params;
  bad.q_stride += 4;
  CHECK_THROWS_WITH(cuda::flash_attention_forward(bad, nullptr), Contains("multiples of 8"));
  bad = params;
  bad.dtype = DType::F32;
  CHECK_THROWS_AS(cuda::flash_attention_forward(bad, nullptr), attnscope::Error);
  bad = params;
  bad.q = static_cast<const char*>(params.q) + 2;
  CHECK_THROWS_WITH(cuda::flash_attention_forward(bad, nullptr), Contains("aligned"));
  CHECK_NOTHROW(cuda::flash_attention_forward(params, nullptr));
  cuda_check(cudaDeviceSynchronize(), "forward");
}
