// Forward instantiation: head dim 80, f16.
#include "kernels/cuda/flash_attention_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_flash_forward<80, __half>(const FlashAttentionParams&, cudaStream_t);
}
