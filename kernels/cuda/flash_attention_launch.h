#pragma once
// Launchers of the compiled kernel instantiations (one .cu file per head dim and
// dtype, so builds run in parallel and a change recompiles little). The dispatchers
// (flash_attention.cu, attention_capture_pass.cu) pick one by head dim and dtype.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/flash_attention.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda::detail {

struct CaptureArgs;

template <int HeadDim, typename T>
void launch_flash_forward(const FlashAttentionParams& params, cudaStream_t stream);

template <int HeadDim, typename T>
void launch_attention_capture(const CaptureArgs& args, int captured_heads, cudaStream_t stream);

// Calls f.template operator()<HeadDim, T>() for the compiled (head_dim, dtype) pair;
// false when there is none.
template <typename F>
bool dispatch_head_dim(DType dtype, int head_dim, F&& f) {
  auto by_dim = [&]<typename T>() {
    switch (head_dim) {
      case 16: f.template operator()<16, T>(); return true;
      case 32: f.template operator()<32, T>(); return true;
      case 64: f.template operator()<64, T>(); return true;
      case 80: f.template operator()<80, T>(); return true;
      case 96: f.template operator()<96, T>(); return true;
      case 128: f.template operator()<128, T>(); return true;
      default: return false;
    }
  };
  if (dtype == DType::BF16) return by_dim.template operator()<__nv_bfloat16>();
  if (dtype == DType::F16) return by_dim.template operator()<__half>();
  return false;
}

// Throws for a failed CUDA call (a launch: pass cudaGetLastError()).
inline void check_cuda(cudaError_t status, const char* where, const char* what) {
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: the backend stays usable
    throw OutOfMemory(where, std::string(what) + ": " + cudaGetErrorString(status));
  }
  if (status != cudaSuccess) throw Error(where, std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace attnscope::kernels::cuda::detail
