// flash_attention_forward: validates a call, chooses the kernel (portable or Hopper) and
// dispatches to the instantiation for its head dim and dtype (flash_attention_fwd_d*_*.cu,
// hopper/flash_attention_hopper_d*_*.cu).
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/cuda/split_decode.h"
#include "kernels/error.h"
#ifdef ATTNSCOPE_HAS_HOPPER_ATTENTION
#include "kernels/cuda/hopper/flash_attention_hopper.h"
#endif

#ifndef ATTNSCOPE_CUDA_ARCHITECTURES_LIST
#define ATTNSCOPE_CUDA_ARCHITECTURES_LIST "?"
#endif

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "flash_attention_forward";

void require(bool ok, const std::string& problem) {
  if (!ok) throw Error(kWhere, problem);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

#ifdef ATTNSCOPE_HAS_HOPPER_ATTENTION
void launch_hopper(const FlashAttentionParams& p, cudaStream_t stream) {
  auto launch = [&]<int D, typename T>() { detail::launch_flash_forward_hopper<D, T>(p, stream); };
  const bool bf16 = p.dtype == DType::BF16;
  if (p.head_dim == 128)
    bf16 ? launch.template operator()<128, __nv_bfloat16>() : launch.template operator()<128, __half>();
  else
    bf16 ? launch.template operator()<64, __nv_bfloat16>() : launch.template operator()<64, __half>();
}
#endif

}  // namespace

FlashKernel parse_flash_kernel(std::string_view name) {
  if (name.empty() || name == "auto") return FlashKernel::Automatic;
  if (name == "portable") return FlashKernel::Portable;
  if (name == "hopper") return FlashKernel::Hopper;
  throw Error("ATTNSCOPE_FLASH_KERNEL", "'" + std::string(name) + "' is not auto, portable or hopper");
}

FlashKernel flash_kernel_from_environment() {
  const char* value = std::getenv("ATTNSCOPE_FLASH_KERNEL");
  return value == nullptr ? FlashKernel::Automatic : parse_flash_kernel(value);
}

std::string flash_attention_hopper_limitation(const FlashAttentionParams& p) {
  if (p.dtype != DType::BF16 && p.dtype != DType::F16) return "dtype " + std::string(dtype_name(p.dtype));
  if (p.head_dim != 64 && p.head_dim != 128)
    return "head_dim " + std::to_string(p.head_dim) + " (the Hopper kernel has 64 and 128)";
  // TMA reads 16-byte-aligned tensors whose row strides are multiples of 16 bytes, below 2^40.
  if (!aligned16(p.q) || !aligned16(p.k) || !aligned16(p.v)) return "q, k or v is not 16-byte aligned";
  for (const int64_t stride : {p.q_stride, p.k_stride, p.v_stride})
    if (stride % 8 != 0 || stride <= 0 || stride >= (int64_t(1) << 39))
      return "row stride " + std::to_string(stride) + " is not a positive multiple of 16 bytes below 2^40";
  if (p.out_stride % 8 != 0 || !aligned16(p.out)) return "out is not 16-byte aligned row by row";
  if (p.rule.kind != HeadRuleKind::Dense) return "the rule '" + describe(p.rule) + "' (the Hopper kernel is dense)";
  if (p.head_begin != 0 || p.heads_run() != p.num_heads) return "a subset of the heads (it runs all of them)";
  return "";
}

std::string hopper_device_unavailable() {
#ifndef ATTNSCOPE_HAS_HOPPER_ATTENTION
  return "not compiled for sm_90a (ATTNSCOPE_CUDA_ARCHITECTURES=" ATTNSCOPE_CUDA_ARCHITECTURES_LIST " has no 90)";
#else
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess)
    return "no CUDA device";
  // sm_90a code runs on compute capability 9.0 only.
  if (major != 9 || minor != 0)
    return "device compute capability " + std::to_string(major) + "." + std::to_string(minor) + " is not 9.0";
  return "";
#endif
}

std::string flash_attention_hopper_unavailable(const FlashAttentionParams& p) {
  std::string why = hopper_device_unavailable();
  return why.empty() ? flash_attention_hopper_limitation(p) : why;
}

FlashKernel choose_flash_kernel(const FlashAttentionParams& p, FlashKernel requested) {
  if (requested == FlashKernel::Portable) return FlashKernel::Portable;
  const std::string why = flash_attention_hopper_unavailable(p);
  if (requested == FlashKernel::Hopper && !why.empty())
    throw Error(kWhere, "the Hopper kernel was asked for (ATTNSCOPE_FLASH_KERNEL=hopper or the caller) but: " + why);
  return why.empty() ? FlashKernel::Hopper : FlashKernel::Portable;
}

bool flash_attention_supports_head_dim(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 80 || head_dim == 96 || head_dim == 128;
}

void check_attention_call(const FlashAttentionParams& p, const char* where, bool needs_out) {
  const auto require = [where](bool ok, const std::string& problem) {
    if (!ok) throw Error(where, problem);
  };
  const std::string heads = "heads " + std::to_string(p.num_heads) + ", kv heads " + std::to_string(p.num_kv_heads) +
                            ", head_dim " + std::to_string(p.head_dim);
  require(p.dtype == DType::BF16 || p.dtype == DType::F16,
          "dtype " + std::string(dtype_name(p.dtype)) + " is not BF16 or F16");
  require(flash_attention_supports_head_dim(p.head_dim),
          heads + ": head_dim must be one of 16, 32, 64, 80, 96, 128");
  require(p.num_heads > 0 && p.num_kv_heads > 0 && p.num_heads % p.num_kv_heads == 0,
          heads + ": counts must be positive and kv heads must divide heads");
  require(p.num_heads <= 65535, heads + ": at most 65535 query heads");
  require(p.n >= 0 && p.first_position >= 0 && p.sliding_window >= 0,
          "n " + std::to_string(p.n) + ", first position " + std::to_string(p.first_position) + ", window " +
              std::to_string(p.sliding_window) + " must not be negative");
  require(p.scale > 0.0f, "scale " + std::to_string(p.scale) + " must be positive");
  if (p.n == 0) return;
  const bool has_out = p.out != nullptr;
  require(p.q != nullptr && p.k != nullptr && p.v != nullptr && (has_out || !needs_out), "null q, k, v or out");
  require(aligned16(p.q) && aligned16(p.k) && aligned16(p.v) && (!has_out || aligned16(p.out)),
          "q, k, v and out must be 16-byte aligned");
  require(p.q_stride % 8 == 0 && p.k_stride % 8 == 0 && p.v_stride % 8 == 0 && (!has_out || p.out_stride % 8 == 0),
          "row strides (q " + std::to_string(p.q_stride) + ", k " + std::to_string(p.k_stride) + ", v " +
              std::to_string(p.v_stride) + ", out " + std::to_string(p.out_stride) +
              ") must be multiples of 8 elements");
  require(p.q_stride >= int64_t(p.num_heads) * p.head_dim &&
              (!has_out || p.out_stride >= int64_t(p.num_heads) * p.head_dim) &&
              p.k_stride >= int64_t(p.num_kv_heads) * p.head_dim &&
              p.v_stride >= int64_t(p.num_kv_heads) * p.head_dim,
          "a row stride is narrower than its rows for " + heads);
  require(p.lse == nullptr || p.lse_stride >= p.n, "lse stride " + std::to_string(p.lse_stride) + " is below n");
  require((p.row_entropy == nullptr) == (p.row_top1 == nullptr) && (p.row_entropy == nullptr || p.lse != nullptr),
          "row entropy and top-1 come together and need lse (they share its layout)");
  require(p.first_position + p.n < int64_t(INT32_MAX) - 128,
          "positions up to " + std::to_string(p.first_position + p.n) + " do not fit 32 bits");
}

bool flash_attention_forward(const FlashAttentionParams& p, CUstream_st* stream, FlashKernel kernel) {
  check_attention_call(p, kWhere);
  require(p.head_begin >= 0 && p.head_count >= 0 && p.heads_run() > 0 && p.head_begin + p.heads_run() <= p.num_heads,
          "heads [" + std::to_string(p.head_begin) + ", " + std::to_string(p.head_begin + p.heads_run()) +
              ") are not a non-empty range of the " + std::to_string(p.num_heads) + " heads");
  check_rule(p.rule, kWhere);
  // A Selected head needs its kept-key set on the device: flash_attention_forward_with_rules
  // runs it on the block-sparse kernel when given the sets.
  require(p.rule.kind != HeadRuleKind::Selected,
          "the rule '" + describe(p.rule) + "' (a mask-lab key selection) needs its kept keys: "
          "flash_attention_forward_with_rules with the uploaded sets runs it");
  if (p.n == 0) return false;

  auto* s = reinterpret_cast<cudaStream_t>(stream);
  if (p.rule.kind == HeadRuleKind::Ablated) {
    const std::size_t element = 2;  // bf16 and fp16
    const std::size_t width = std::size_t(p.heads_run()) * std::size_t(p.head_dim) * element;
    char* first = static_cast<char*>(p.out) + std::size_t(p.head_begin) * std::size_t(p.head_dim) * element;
    detail::check_cuda(cudaMemset2DAsync(first, std::size_t(p.out_stride) * element, 0, width, std::size_t(p.n), s),
                       kWhere, "zeroing the ablated heads failed");
    return false;
  }
  if (split_decode_chosen(p, kernel)) {
    split_decode_forward(p, stream);
    return false;
  }
  if (kernel == FlashKernel::Automatic) kernel = flash_kernel_from_environment();
  kernel = choose_flash_kernel(p, kernel);

#ifdef ATTNSCOPE_HAS_HOPPER_ATTENTION
  if (kernel == FlashKernel::Hopper) {
    launch_hopper(p, s);
    detail::check_cuda(cudaGetLastError(), kWhere, "launch of the Hopper kernel failed");
    return p.row_entropy != nullptr;
  }
#endif
  detail::dispatch_head_dim(p.dtype, p.head_dim,
                            [&]<int D, typename T>() { detail::launch_flash_forward<D, T>(p, s); });
  detail::check_cuda(cudaGetLastError(), kWhere, "launch failed");
  return false;
}

bool flash_attention_forward_with_rules(const FlashAttentionParams& p, const AttentionRules& rules,
                                        CUstream_st* stream, FlashKernel kernel, const DeviceKeptKeys* selected) {
  check_rules(rules, p.num_heads, kWhere);
  require(p.head_begin == 0 && p.head_count == 0 && p.rule.kind == HeadRuleKind::Dense,
          "params with a head range or a rule of their own: the rules set every head's");
  if (selected != nullptr) {
    std::vector<int32_t> heads;
    for (int h = 0; h < p.num_heads; ++h)
      if (rules.heads[std::size_t(h)].kind == HeadRuleKind::Selected) heads.push_back(h);
    require(heads == selected->host_heads, "the uploaded kept-key sets are not exactly the " +
                                               std::to_string(heads.size()) + " Selected heads of the rules");
  }
  bool any_dense = false;
  for (const HeadRule& rule : rules.heads) any_dense = any_dense || rule.kind == HeadRuleKind::Dense;
  // A decode step's Dense runs go to the split-KV path each (Automatic lets the call choose).
  const bool split = any_dense && split_decode_chosen(p, kernel);
  if (kernel == FlashKernel::Automatic) kernel = flash_kernel_from_environment();
  const FlashKernel dense_kernel =
      split ? FlashKernel::Automatic : any_dense ? choose_flash_kernel(p, kernel) : FlashKernel::Portable;
  const bool row_statistics = dense_kernel == FlashKernel::Hopper && flash_attention_forward(p, stream, FlashKernel::Hopper);
  for (int begin = 0; begin < p.num_heads;) {
    const HeadRule& rule = rules.heads[std::size_t(begin)];
    int end = begin + 1;
    while (end < p.num_heads && rules.heads[std::size_t(end)] == rule) ++end;
    if (rule.kind == HeadRuleKind::Selected && selected != nullptr) {
      begin = end;  // the block-sparse launch below
      continue;
    }
    if (rule.kind != HeadRuleKind::Dense || dense_kernel != FlashKernel::Hopper) {
      FlashAttentionParams run = p;
      run.head_begin = begin;
      run.head_count = end - begin;
      run.rule = rule;
      flash_attention_forward(run, stream, rule.kind == HeadRuleKind::Dense ? dense_kernel : FlashKernel::Portable);
    }
    begin = end;
  }
  if (selected != nullptr && selected->sets > 0) block_sparse_attention_forward({p, *selected, nullptr, 0}, stream);
  return row_statistics;
}

}  // namespace attnscope::kernels::cuda
