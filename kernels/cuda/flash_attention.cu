// flash_attention_forward: validates a call and dispatches to the instantiation for
// its head dim and dtype (flash_attention_fwd_d*_*.cu).
#include <climits>
#include <cstdint>
#include <string>

#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "flash_attention_forward";

void require(bool ok, const std::string& problem) {
  if (!ok) throw Error(kWhere, problem);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

bool flash_attention_supports_head_dim(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 80 || head_dim == 96 || head_dim == 128;
}

void flash_attention_forward(const FlashAttentionParams& p, CUstream_st* stream) {
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
  require(p.q != nullptr && p.k != nullptr && p.v != nullptr && p.out != nullptr, "null q, k, v or out");
  require(aligned16(p.q) && aligned16(p.k) && aligned16(p.v) && aligned16(p.out),
          "q, k, v and out must be 16-byte aligned");
  require(p.q_stride % 8 == 0 && p.k_stride % 8 == 0 && p.v_stride % 8 == 0 && p.out_stride % 8 == 0,
          "row strides (q " + std::to_string(p.q_stride) + ", k " + std::to_string(p.k_stride) + ", v " +
              std::to_string(p.v_stride) + ", out " + std::to_string(p.out_stride) +
              ") must be multiples of 8 elements");
  require(p.q_stride >= int64_t(p.num_heads) * p.head_dim && p.out_stride >= int64_t(p.num_heads) * p.head_dim &&
              p.k_stride >= int64_t(p.num_kv_heads) * p.head_dim &&
              p.v_stride >= int64_t(p.num_kv_heads) * p.head_dim,
          "a row stride is narrower than its rows for " + heads);
  require(p.lse == nullptr || p.lse_stride >= p.n, "lse stride " + std::to_string(p.lse_stride) + " is below n");
  require(p.first_position + p.n < int64_t(INT32_MAX) - 128,
          "positions up to " + std::to_string(p.first_position + p.n) + " do not fit 32 bits");

  auto* s = reinterpret_cast<cudaStream_t>(stream);
  detail::dispatch_head_dim(p.dtype, p.head_dim,
                            [&]<int D, typename T>() { detail::launch_flash_forward<D, T>(p, s); });
  detail::check_cuda(cudaGetLastError(), kWhere, "launch failed");
}

}  // namespace attnscope::kernels::cuda
