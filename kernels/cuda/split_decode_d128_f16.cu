// Split-KV decode instantiations: head dim 128, f16.
#include "kernels/cuda/split_decode_capture.cuh"
#include "kernels/cuda/split_decode_forward.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_split_decode_forward<128, __half>(const SplitForwardArgs&, cudaStream_t);
template void launch_split_decode_capture<128, __half>(const SplitCaptureArgs&, cudaStream_t);
}
