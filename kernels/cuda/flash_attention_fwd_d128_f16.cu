// Forward instantiation: head dim 128, f16.
#include "kernels/cuda/flash_attention_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_flash_forward<128, __half>(const FlashAttentionParams&, cudaStream_t);
}
