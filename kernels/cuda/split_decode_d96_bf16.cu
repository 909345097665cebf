// Split-KV decode instantiations: head dim 96, bf16.
#include "kernels/cuda/split_decode_capture.cuh"
#include "kernels/cuda/split_decode_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_split_decode_forward<96, __nv_bfloat16>(const SplitForwardArgs&, cudaStream_t);
template void launch_split_decode_capture<96, __nv_bfloat16>(const SplitCaptureArgs&, cudaStream_t);
}
