#pragma once
// Host side of the Hopper capture pass: tensor maps for q and k, the shared-memory limit
// and the launch (attention_capture_hopper_kernel.cuh has the design).
#include <cuda_runtime.h>

#include <type_traits>

#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/cuda/hopper/attention_capture_hopper.h"
#include "kernels/cuda/hopper/attention_capture_hopper_kernel.cuh"
#include "kernels/cuda/hopper/tensor_map.h"

namespace attnscope::kernels::cuda::detail {

template <int HeadDim, typename T>
void launch_attention_capture_hopper(const FlashAttentionParams& p, const CaptureArgs& args, int captured_heads,
                                     cudaStream_t stream) {
  using G = hopper::CaptureTile<HeadDim>;
  constexpr DType kDType = std::is_same_v<T, __nv_bfloat16> ? DType::BF16 : DType::F16;
  // The K map ends at the last query's position: later cache rows read as zeros.
  const CUtensorMap map_q =
      hopper::make_tile_map(p.q, kDType, int64_t(p.num_heads) * HeadDim, p.n, p.q_stride, G::kRows);
  const CUtensorMap map_k = hopper::make_tile_map(p.k, kDType, int64_t(p.num_kv_heads) * HeadDim,
                                                  p.first_position + p.n, p.k_stride, G::kKeys);
  auto kernel = args.forward_entropy != nullptr ? hopper::attention_capture_hopper_kernel<HeadDim, T, true>
                                               : hopper::attention_capture_hopper_kernel<HeadDim, T, false>;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, G::kSmemBytes),
             "attention capture pass (Hopper)", "shared-memory limit");
  const dim3 grid(unsigned(captured_heads), unsigned((p.n + G::kRows - 1) / G::kRows));  // heads fastest
  kernel<<<grid, G::kThreads, G::kSmemBytes, stream>>>(map_q, map_k, args);
}

}  // namespace attnscope::kernels::cuda::detail
