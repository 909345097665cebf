// The block-sparse attention forward against a double reference over the entries each set
// keeps, on fresh random inputs: every compiled head dim, bf16 and fp16, MHA and GQA, the
// model's sliding window, one-shot, chunked (first_position > 0) and decode calls, and
// sets with full blocks, partial blocks, rows that keep only their own key, a sink +
// window span and mixtures (tests/gpu/kept_keys_support.h). q is a strided column view,
// unfilled cache rows are NaN, out / lse / the fp32 output are poisoned before each call:
// every element of a set's head must be written, the heads without a set and the rows
// outside the call must keep the poison.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/kept_keys_upload.h"
#include "kernels/error.h"
#include "tests/gpu/attention_device_problem.h"
#include "tests/gpu/kept_keys_support.h"

using namespace attnscope::testing::gpu;
namespace cuda = attnscope::kernels::cuda;
namespace k = attnscope::kernels;
using attnscope::kernels::DType;
using Catch::Contains;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t total, window;
  DType dtype;
  std::vector<int64_t> chunks;  // rows per call, in order; they sum to total
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " total " << c.total << " window " << c.window
    << " " << (c.dtype == DType::BF16 ? "bf16" : "fp16") << " chunks";
  for (int64_t n : c.chunks) s << " " << n;
  return s.str();
}

// The forward test's bounds (attention_forward_test.cpp): the reference sees the same
// rounded inputs, so the errors are P rounded to the input type before P V and the output
// rounded: at most 2 * 2^-9 * sum p |v| for bf16; the bound is 2.5x that. lse: fp32
// scores of D products. The fp32 output skips only the last rounding.
double element_bound(DType dtype) { return dtype == DType::BF16 ? 1e-2 : 2.5e-3; }
double norm_bound(DType dtype) { return dtype == DType::BF16 ? 1e-2 : 2.5e-3; }
constexpr double kLseBound = 1e-3;

// Heads h with h % 5 == 4 get no set (their columns must stay untouched); the others a
// kind in turn.
bool has_set(int head) { return head % 5 != 4; }
SetKind kind_of(int head, uint32_t seed) { return kSetKinds[(std::size_t(head) + seed) % std::size(kSetKinds)]; }

void run_case(const Case& c, uint32_t seed) {
  INFO(describe(c));
  const Problem p = make_problem(c.heads, c.kv_heads, c.dim, c.total, c.window, c.dtype, seed);
  DeviceProblem device(p);
  cuda::KeptKeysUpload upload;
  const int64_t width = int64_t(c.heads) * c.dim;
  int64_t first = 0;
  double err2 = 0, ref2 = 0;
  for (int64_t n : c.chunks) {
    INFO("call rows [" << first << ", " << first + n << ")");
    device.fill_caches(first + n);
    device.poison_out();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    DeviceArray<float> lse(std::size_t(c.heads * n)), out32(std::size_t(n * width));
    lse.upload(std::vector<float>(lse.size(), nan));
    out32.upload(std::vector<float>(out32.size(), nan));
    std::vector<k::KeptKeys> kept;
    std::vector<int> heads;
    for (int h = 0; h < c.heads; ++h)
      if (has_set(h)) {
        kept.push_back(make_kept_keys(kind_of(h, seed), first, n, c.window, seed * 31u + uint32_t(h * 7 + first)));
        heads.push_back(h);
      }
    std::vector<cuda::HeadKeptKeys> sets;
    for (std::size_t i = 0; i < kept.size(); ++i) sets.push_back({heads[i], &kept[i]});
    cuda::BlockSparseParams params{device.params(first, n, lse.data()), upload.upload(sets, {first, n, c.window}, nullptr),
                                   out32.data(), width};
    cuda::block_sparse_attention_forward(params, nullptr);
    cuda_check(cudaDeviceSynchronize(), "block-sparse forward");
    const std::vector<float> out = device.download_out(), lse_host = lse.download(), f32 = out32.download();
    for (int64_t r = 0; r < p.total; ++r)
      for (int64_t col = 0; col < device.out_stride(); ++col) {
        const float got = out[std::size_t(r * device.out_stride() + col)];
        const bool owned = r >= first && r < first + n && col < width && has_set(int(col / c.dim));
        if (owned != !std::isnan(got)) {
          INFO("row " << r << " col " << col << (owned ? " not written (or NaN)" : " written outside the sets"));
          REQUIRE(owned == !std::isnan(got));
        }
      }
    for (std::size_t i = 0; i < kept.size(); ++i) {
      const int h = heads[i];
      INFO("head " << h << ": " << kind_name(kind_of(h, seed)) << ", density " << kept[i].density() << ", "
                   << kept[i].partial_blocks() << " of " << kept[i].kept_blocks() << " kept blocks partial");
      for (int64_t r = 0; r < n; ++r) {
        const int64_t pos = first + r;
        const ReferenceRow ref = reference_kept_row(p, h, kept[i], r);
        const double lse_got = lse_host[std::size_t(h * n + r)];
        if (!(std::fabs(lse_got - ref.lse) <= kLseBound)) {
          INFO("position " << pos << " lse " << lse_got << " reference " << ref.lse);
          REQUIRE(std::fabs(lse_got - ref.lse) <= kLseBound);
        }
        for (int d = 0; d < c.dim; ++d) {
          const double want = ref.out[std::size_t(d)], bound = element_bound(c.dtype) * ref.magnitude[std::size_t(d)] + 1e-6;
          const double got = out[std::size_t(pos * device.out_stride() + h * c.dim + d)];
          const double got32 = f32[std::size_t(r * width + h * c.dim + d)];
          err2 += (got - want) * (got - want);
          ref2 += want * want;
          if (!(std::fabs(got - want) <= bound && std::fabs(got32 - want) <= bound)) {
            INFO("position " << pos << " dim " << d << " got " << got << " (fp32 " << got32 << ") want " << want
                             << " sum p|v| " << ref.magnitude[std::size_t(d)]);
            REQUIRE(std::fabs(got - want) <= bound);
            REQUIRE(std::fabs(got32 - want) <= bound);
          }
          // out is the fp32 output rounded once: within one unit roundoff (2^-8 bf16, 2^-11 fp16),
          // or below the normal range half the subnormal spacing (fp16 under 6.1e-5: 2^-25).
          const double u = c.dtype == DType::BF16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
          const double subnormal = c.dtype == DType::BF16 ? std::ldexp(1.0, -134) : std::ldexp(1.0, -25);
          const double rounding = u * std::fabs(got32) + subnormal;
          if (!(std::fabs(got - got32) <= rounding)) {
            INFO("position " << pos << " dim " << d << " out " << got << " is not fp32 " << got32 << " rounded");
            REQUIRE(std::fabs(got - got32) <= rounding);
          }
        }
      }
    }
    first += n;
  }
  const double relative = std::sqrt(err2 / ref2);
  INFO("relative error " << relative);
  CHECK(relative <= norm_bound(c.dtype));
}

}  // namespace

TEST_CASE("Block-sparse attention matches the double reference over kept sets, shapes, dtypes and chunkings",
          "[gpu][sparse]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const std::vector<Case> cases = {
      {8, 2, 64, 700, 0, DType::BF16, {700}},
      {8, 2, 128, 700, 0, DType::F16, {300, 1, 257, 100, 1, 1, 40}},
      {5, 5, 32, 500, 100, DType::BF16, {200, 300}},
      {8, 8, 16, 300, 0, DType::F16, {300}},
      {8, 1, 80, 400, 37, DType::BF16, {129, 271}},
      {10, 2, 96, 333, 0, DType::BF16, {333}},
      {6, 3, 128, 450, 150, DType::BF16, {64, 64, 1, 321}},
      {4, 2, 64, 260, 0, DType::F16, {1, 1, 1, 257}},
  };
  uint32_t seed = 9100;
  for (const Case& c : cases) run_case(c, ++seed);
}

TEST_CASE("A set that keeps every visible entry gives the flash forward's result", "[gpu][sparse]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // Each row meets the same key tiles in the same order with the same arithmetic (tiles a
  // row cannot see contribute exact zeros): expected equal bit for bit; one bf16 unit of
  // the output and 1e-5 of the lse are allowed in case the compiler orders a sum otherwise.
  const Problem p = make_problem(8, 2, 128, 600, 0, DType::BF16, 77);
  DeviceProblem device(p);
  device.fill_caches(600);
  DeviceArray<float> dense_lse(8 * 600), sparse_lse(8 * 600);
  cuda::flash_attention_forward(device.params(0, 600, dense_lse.data()), nullptr, cuda::FlashKernel::Portable);
  cuda_check(cudaDeviceSynchronize(), "forward");
  const std::vector<float> dense = device.download_out();
  device.poison_out();
  cuda::KeptKeysUpload upload;
  const std::vector<int> heads = {0, 1, 2, 3, 4, 5, 6, 7};
  // out_f32 keeps the call on the block-sparse kernel (without it, sets that drop nothing
  // run the flash forward: the next test).
  DeviceArray<float> out_f32(600 * 8 * 128);
  cuda::block_sparse_attention_forward(
      {device.params(0, 600, sparse_lse.data()), upload.upload_dense(heads, {0, 600, 0}, nullptr), out_f32.data(), 8 * 128},
      nullptr);
  cuda_check(cudaDeviceSynchronize(), "block-sparse forward");
  const std::vector<float> sparse = device.download_out();
  const std::vector<float> a = dense_lse.download(), b = sparse_lse.download();
  double worst_out = 0, worst_lse = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst_lse = std::max(worst_lse, double(std::fabs(a[i] - b[i])));
  for (int64_t r = 0; r < 600; ++r)
    for (int64_t c = 0; c < 8 * 128; ++c) {
      const std::size_t i = std::size_t(r * device.out_stride() + c);
      worst_out = std::max(worst_out, std::fabs(double(dense[i]) - double(sparse[i])) / (std::fabs(double(dense[i])) + 1e-3));
    }
  INFO("largest relative output difference " << worst_out << ", largest lse difference " << worst_lse);
  CHECK(worst_lse <= 1e-5);
  CHECK(worst_out <= std::ldexp(1.0, -8));
}

TEST_CASE("Sets that drop nothing run the flash forward itself", "[gpu][sparse]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  // Heads 2-5 of 8, every visible block kept whole, built as sets (not the dense layout):
  // the same kernel as the flash forward of those heads, so the same bits.
  const Problem p = make_problem(8, 2, 128, 600, 0, DType::BF16, 78);
  DeviceProblem device(p);
  device.fill_caches(600);
  DeviceArray<float> dense_lse(8 * 600), sparse_lse(8 * 600);
  cuda::FlashAttentionParams dense = device.params(0, 600, dense_lse.data());
  dense.head_begin = 2;
  dense.head_count = 4;
  device.poison_out();
  cuda::flash_attention_forward(dense, nullptr);
  cuda_check(cudaDeviceSynchronize(), "forward");
  const std::vector<float> want = device.download_out();
  device.poison_out();
  const k::KeptKeys full = make_kept_keys(SetKind::Full, 0, 600, 0, 1);
  REQUIRE(full.partial_blocks() == 0);
  const cuda::HeadKeptKeys sets[] = {{2, &full}, {3, &full}, {4, &full}, {5, &full}};
  cuda::KeptKeysUpload upload;
  cuda::block_sparse_attention_forward({device.params(0, 600, sparse_lse.data()), upload.upload(sets, {0, 600, 0}, nullptr),
                                        nullptr, 0},
                                       nullptr);
  cuda_check(cudaDeviceSynchronize(), "block-sparse forward");
  const std::vector<float> got = device.download_out();
  const std::vector<float> lse_want = dense_lse.download(), lse_got = sparse_lse.download();
  int64_t differing = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    differing += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;  // NaN poison outside heads 2-5 included
  for (int h = 2; h < 6; ++h)
    for (int r = 0; r < 600; ++r) differing += lse_got[std::size_t(h * 600 + r)] != lse_want[std::size_t(h * 600 + r)];
  CHECK(differing == 0);  // exact: one kernel, one result
}

TEST_CASE("Block-sparse attention refuses sets that do not fit the call", "[gpu][sparse]") {
  ATTNSCOPE_REQUIRE_CUDA_DEVICE();
  const Problem p = make_problem(4, 2, 64, 200, 0, DType::BF16, 5);
  DeviceProblem device(p);
  device.fill_caches(200);
  cuda::KeptKeysUpload upload;
  const k::KeptKeys a = make_kept_keys(SetKind::Full, 0, 200, 0, 1);
  const cuda::HeadKeptKeys outside[] = {{4, &a}};
  CHECK_THROWS_WITH(cuda::block_sparse_attention_forward(
                        {device.params(0, 200, nullptr), upload.upload(outside, {0, 200, 0}, nullptr), nullptr, 0}, nullptr),
                    Contains("head 4") && Contains("4 heads"));
  const cuda::HeadKeptKeys fine[] = {{1, &a}};
  CHECK_THROWS_WITH(cuda::block_sparse_attention_forward(
                        {device.params(0, 100, nullptr), upload.upload(fine, {0, 200, 0}, nullptr), nullptr, 0}, nullptr),
                    Contains("4 query blocks") && Contains("2"));
  cuda::FlashAttentionParams no_output = device.params(0, 200, nullptr);
  no_output.out = nullptr;
  CHECK_THROWS_WITH(cuda::block_sparse_attention_forward({no_output, upload.upload(fine, {0, 200, 0}, nullptr), nullptr, 0},
                                                         nullptr),
                    Contains("no output"));
}
