// Capture-pass instantiation: head dim 80, f16.
#include "kernels/cuda/attention_capture_kernel.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_attention_capture<80, __half>(const CaptureArgs&, int, cudaStream_t);
}
