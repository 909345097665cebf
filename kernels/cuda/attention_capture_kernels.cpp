// The choice between the portable and the Hopper capture kernel, and the launch of the
// chosen one for a call's head dim and dtype.
#include "kernels/cuda/attention_capture_kernels.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/error.h"
#ifdef ATTNSCOPE_HAS_HOPPER_ATTENTION
#include "kernels/cuda/hopper/attention_capture_hopper.h"
#endif

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "attention capture pass";

FlashKernel parse(const char* variable, std::string_view name) {
  if (name.empty() || name == "auto") return FlashKernel::Automatic;
  if (name == "portable") return FlashKernel::Portable;
  if (name == "hopper") return FlashKernel::Hopper;
  throw Error(variable, "'" + std::string(name) + "' is not auto, portable or hopper");
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

FlashKernel capture_kernel_from_environment() {
  for (const char* variable : {"ATTNSCOPE_CAPTURE_KERNEL", "ATTNSCOPE_FLASH_KERNEL"})
    if (const char* value = std::getenv(variable)) return parse(variable, value);
  // Unset: the Hopper kernel where it can run (1.2-1.4x the forward; the portable one
  // 1.5-2.0x), the portable one elsewhere. Both pass every [capture] test on the H100.
  return FlashKernel::Automatic;
}

std::string capture_hopper_limitation(const FlashAttentionParams& p) {
  if (p.dtype != DType::BF16 && p.dtype != DType::F16) return "dtype " + std::string(dtype_name(p.dtype));
  if (p.head_dim != 64 && p.head_dim != 128)
    return "head_dim " + std::to_string(p.head_dim) + " (the Hopper capture kernel has 64 and 128)";
  // Its grid's y dimension counts query blocks of 128 rows, and a row's top-1 tile is
  // kept as a 16-bit index of key tiles of 128.
  if (p.n > int64_t(65535) * 128) return std::to_string(p.n) + " rows (the Hopper capture kernel takes 8388480)";
  if (p.first_position + p.n > int64_t(65536) * 128)
    return std::to_string(p.first_position + p.n) + " keys (the Hopper capture kernel takes 8388608)";
  // TMA reads 16-byte-aligned tensors whose row strides are multiples of 16 bytes, below 2^40.
  if (!aligned16(p.q) || !aligned16(p.k)) return "q or k is not 16-byte aligned";
  for (const int64_t stride : {p.q_stride, p.k_stride})
    if (stride % 8 != 0 || stride <= 0 || stride >= (int64_t(1) << 39))
      return "row stride " + std::to_string(stride) + " is not a positive multiple of 16 bytes below 2^40";
  return "";
}

std::string capture_hopper_unavailable(const FlashAttentionParams& p) {
  std::string why = hopper_device_unavailable();
  return why.empty() ? capture_hopper_limitation(p) : why;
}

FlashKernel choose_capture_kernel(const FlashAttentionParams& p, FlashKernel requested) {
  if (requested == FlashKernel::Portable) return FlashKernel::Portable;
  const std::string why = capture_hopper_unavailable(p);
  if (requested == FlashKernel::Hopper && !why.empty())
    throw Error(kWhere, "the Hopper capture kernel was asked for (ATTNSCOPE_CAPTURE_KERNEL or ATTNSCOPE_FLASH_KERNEL "
                        "is hopper) but: " + why);
  return why.empty() ? FlashKernel::Hopper : FlashKernel::Portable;
}

namespace detail {

void launch_capture_kernel(const FlashAttentionParams& a, const CaptureArgs& args, int captured_heads,
                           CUstream_st* stream) {
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  [[maybe_unused]] const FlashKernel kernel = choose_capture_kernel(a, capture_kernel_from_environment());
#ifdef ATTNSCOPE_HAS_HOPPER_ATTENTION
  if (kernel == FlashKernel::Hopper) {
    auto launch = [&]<int D, typename T>() { launch_attention_capture_hopper<D, T>(a, args, captured_heads, s); };
    const bool bf16 = a.dtype == DType::BF16;
    if (a.head_dim == 128)
      bf16 ? launch.template operator()<128, __nv_bfloat16>() : launch.template operator()<128, __half>();
    else
      bf16 ? launch.template operator()<64, __nv_bfloat16>() : launch.template operator()<64, __half>();
    return;
  }
#endif
  dispatch_head_dim(a.dtype, a.head_dim,
                    [&]<int D, typename T>() { launch_attention_capture<D, T>(args, captured_heads, s); });
}

}  // namespace detail
}  // namespace attnscope::kernels::cuda
