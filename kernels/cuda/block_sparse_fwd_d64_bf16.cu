// Block-sparse forward instantiation: head dim 64, bf16.
#include "kernels/cuda/block_sparse_attention_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_block_sparse_forward<64, __nv_bfloat16>(const BlockSparseParams&, cudaStream_t);
}
