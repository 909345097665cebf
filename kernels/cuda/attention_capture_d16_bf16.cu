// Capture-pass instantiation: head dim 16, bf16.
#include "kernels/cuda/attention_capture_kernel.cuh"

namespace attnscope::kernels::cuda::detail {
template void launch_attention_capture<16, __nv_bfloat16>(const CaptureArgs&, int, cudaStream_t);
}
