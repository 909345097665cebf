#pragma once
// Host side of the Hopper forward: tensor maps for q, k and v, the kernel arguments, the
// shared-memory limit and the launch (flash_attention_hopper_kernel.cuh has the design).
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/cuda/hopper/flash_attention_hopper.h"
#include "kernels/cuda/hopper/flash_attention_hopper_kernel.cuh"
#include "kernels/cuda/hopper/tensor_map.h"

namespace attnscope::kernels::cuda::detail {

template <int HeadDim, typename T>
void launch_flash_forward_hopper(const FlashAttentionParams& p, cudaStream_t stream) {
  using G = hopper::HopperTile<HeadDim>;
  constexpr DType kDType = std::is_same_v<T, __nv_bfloat16> ? DType::BF16 : DType::F16;
  // K and V maps end at the last query's position: later cache rows read as zeros.
  const int64_t keys = p.first_position + p.n;
  const CUtensorMap map_q =
      hopper::make_tile_map(p.q, kDType, int64_t(p.num_heads) * HeadDim, p.n, p.q_stride, G::kRows);
  const CUtensorMap map_k =
      hopper::make_tile_map(p.k, kDType, int64_t(p.num_kv_heads) * HeadDim, keys, p.k_stride, G::kKeys);
  const CUtensorMap map_v =
      hopper::make_tile_map(p.v, kDType, int64_t(p.num_kv_heads) * HeadDim, keys, p.v_stride, G::kKeys);

  hopper::HopperForwardArgs args{};
  fill_attention_operands(args, p);
  args.row_entropy = p.row_entropy;
  args.row_top1 = p.row_top1;

  const bool row_statistics = p.row_entropy != nullptr;  // the dispatcher checked row_top1 and lse
  auto kernel = row_statistics ? hopper::flash_forward_hopper_kernel<HeadDim, T, true>
                               : hopper::flash_forward_hopper_kernel<HeadDim, T, false>;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, G::kSmemBytes),
             "flash_attention_forward (Hopper)", "shared-memory limit");
  const dim3 grid(unsigned((p.n + G::kRows - 1) / G::kRows), unsigned(p.num_heads));
  kernel<<<grid, G::kThreads, G::kSmemBytes, stream>>>(map_q, map_k, map_v, args);
}

}  // namespace attnscope::kernels::cuda::detail
