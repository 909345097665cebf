// Forward instantiation: head dim 96, f16.
#include "kernels/cuda/flash_attention_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_flash_forward<96, __half>(const FlashAttentionParams&, cudaStream_t);
}
