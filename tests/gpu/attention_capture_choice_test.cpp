// The choice between the portable and the Hopper capture kernel where it depends on the
// call and the environment alone (attention_capture_kernels.h). Runs without a GPU.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "kernels/cuda/attention_capture_kernels.h"
#include "kernels/error.h"
#include "tests/support/scoped_environment.h"

namespace cuda = attnscope::kernels::cuda;
using attnscope::kernels::DType;
using attnscope::testing::ScopedEnvironment;

TEST_CASE("The capture kernel comes from ATTNSCOPE_CAPTURE_KERNEL, else ATTNSCOPE_FLASH_KERNEL",
          "[capture][dispatch]") {
  using Catch::Contains;
  {
    // Neither set: the Hopper kernel where it can run.
    const ScopedEnvironment capture("ATTNSCOPE_CAPTURE_KERNEL", nullptr), flash("ATTNSCOPE_FLASH_KERNEL", nullptr);
    CHECK(cuda::capture_kernel_from_environment() == cuda::FlashKernel::Automatic);
  }
  {
    const ScopedEnvironment capture("ATTNSCOPE_CAPTURE_KERNEL", nullptr), flash("ATTNSCOPE_FLASH_KERNEL", "portable");
    CHECK(cuda::capture_kernel_from_environment() == cuda::FlashKernel::Portable);
  }
  {
    const ScopedEnvironment capture("ATTNSCOPE_CAPTURE_KERNEL", "hopper"), flash("ATTNSCOPE_FLASH_KERNEL", "portable");
    CHECK(cuda::capture_kernel_from_environment() == cuda::FlashKernel::Hopper);
  }
  {
    const ScopedEnvironment capture("ATTNSCOPE_CAPTURE_KERNEL", "auto"), flash("ATTNSCOPE_FLASH_KERNEL", "portable");
    CHECK(cuda::capture_kernel_from_environment() == cuda::FlashKernel::Automatic);
  }
  {
    const ScopedEnvironment capture("ATTNSCOPE_CAPTURE_KERNEL", "Hopper"), flash("ATTNSCOPE_FLASH_KERNEL", nullptr);
    CHECK_THROWS_WITH(cuda::capture_kernel_from_environment(), Contains("ATTNSCOPE_CAPTURE_KERNEL"));
  }
}

TEST_CASE("The Hopper capture kernel takes head dims 64 and 128 with q and k TMA can read", "[capture][dispatch]") {
  using Catch::Contains;
  // Addresses are never dereferenced here: only their alignment is looked at.
  alignas(16) static const uint16_t storage[64] = {};
  cuda::FlashAttentionParams p;
  p.dtype = DType::BF16;
  p.q = p.k = storage;
  p.v = nullptr;  // the capture reads neither v nor out
  p.out = nullptr;
  p.num_heads = 8;
  p.num_kv_heads = 2;
  p.head_dim = 128;
  p.q_stride = 8 * 128 + 2 * 2 * 128 + 8;  // a column view of a fused qkv row
  p.k_stride = 2 * 128 + 8;
  p.n = 1;
  CHECK(cuda::capture_hopper_limitation(p).empty());
  p.head_dim = 64;
  CHECK(cuda::capture_hopper_limitation(p).empty());
  for (const int dim : {16, 32, 80, 96}) {
    auto bad = p;
    bad.head_dim = dim;
    CHECK_THAT(cuda::capture_hopper_limitation(bad), Contains("head_dim"));
  }
  auto bad = p;
  bad.k = storage + 4;  // 8 bytes off
  CHECK_THAT(cuda::capture_hopper_limitation(bad), Contains("aligned"));
  bad = p;
  bad.q_stride = 8 * 64 + 4;  // rows 8 bytes off 16-byte alignment
  CHECK_THAT(cuda::capture_hopper_limitation(bad), Contains("stride"));
  bad = p;
  bad.dtype = DType::F32;
  CHECK_FALSE(cuda::capture_hopper_limitation(bad).empty());
  // Positions past 2^23 keys (a row's top-1 tile is a 16-bit index of 128-key tiles).
  bad = p;
  bad.first_position = (int64_t(1) << 23);
  CHECK_THAT(cuda::capture_hopper_limitation(bad), Contains("keys"));
  bad.first_position = (int64_t(1) << 23) - 1;
  CHECK(cuda::capture_hopper_limitation(bad).empty());
}
