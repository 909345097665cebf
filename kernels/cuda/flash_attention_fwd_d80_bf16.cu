// Forward instantiation: head dim 80, bf16.
#include "kernels/cuda/flash_attention_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_flash_forward<80, __nv_bfloat16>(const FlashAttentionParams&, cudaStream_t);
}
