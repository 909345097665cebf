// block_sparse_attention_forward: validates a call and its sets, then dispatches to the
// instantiation for its head dim and dtype (block_sparse_fwd_d*_*.cu).
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace detail {
template <int HeadDim, typename T>
void launch_block_sparse_forward(const BlockSparseParams& params, cudaStream_t stream);
}  // namespace detail

namespace {
constexpr const char* kWhere = "block_sparse_attention_forward";
}  // namespace

void block_sparse_attention_forward(const BlockSparseParams& params, CUstream_st* stream) {
  const FlashAttentionParams& p = params.attention;
  const DeviceKeptKeys& kept = params.kept;
  const auto require = [](bool ok, const std::string& problem) {
    if (!ok) throw Error(kWhere, problem);
  };
  check_attention_call(p, kWhere, false);
  require(p.out != nullptr || params.out_f32 != nullptr || p.lse != nullptr, "no output: out, out_f32 and lse are null");
  require(params.out_f32 == nullptr ||
              (reinterpret_cast<std::uintptr_t>(params.out_f32) % 8 == 0 && params.out_f32_stride % 2 == 0 &&
               params.out_f32_stride >= int64_t(p.num_heads) * p.head_dim),
          "out_f32 must be 8-byte aligned with an even row stride of at least " +
              std::to_string(int64_t(p.num_heads) * p.head_dim) + " floats");
  const int64_t query_blocks = (p.n + DeviceKeptKeys::kBlock - 1) / DeviceKeptKeys::kBlock;
  require(kept.sets == int(kept.host_heads.size()) && kept.sets <= 65535,
          std::to_string(kept.sets) + " sets for " + std::to_string(kept.host_heads.size()) +
              " listed heads (at most 65535)");
  require(kept.sets == 0 || kept.query_blocks == query_blocks,
          "the sets have " + std::to_string(kept.query_blocks) + " query blocks; a call of " + std::to_string(p.n) +
              " rows has " + std::to_string(query_blocks));
  for (const int32_t head : kept.host_heads)
    require(head >= 0 && head < p.num_heads,
            "a set of head " + std::to_string(head) + " in a call of " + std::to_string(p.num_heads) + " heads");
  if (p.n == 0 || kept.sets == 0) return;
  require(kept.heads != nullptr && kept.block_offsets != nullptr && (kept.entries == 0 || kept.blocks != nullptr) &&
              (kept.masks == 0 || kept.mask_words != nullptr),
          "the sets' device arrays are missing");
  require(kept.entries < (int64_t(1) << 31) && kept.masks < (int64_t(1) << 31),
          std::to_string(kept.entries) + " kept blocks do not fit 32-bit indices");
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  const std::vector<int32_t>& heads = kept.host_heads;
  if (kept.every_visible_block_kept && params.out_f32 == nullptr && p.out != nullptr &&
      heads.back() - heads.front() + 1 == kept.sets) {
    // Nothing dropped: the dense forward's result, from its faster kernel (same stream).
    FlashAttentionParams dense = p;
    dense.head_begin = heads.front();
    dense.head_count = kept.sets;
    dense.rule = HeadRule::dense();
    flash_attention_forward(dense, stream);
    return;
  }
  detail::dispatch_head_dim(p.dtype, p.head_dim,
                            [&]<int D, typename T>() { detail::launch_block_sparse_forward<D, T>(params, s); });
  detail::check_cuda(cudaGetLastError(), kWhere, "launch failed");
}

}  // namespace attnscope::kernels::cuda
