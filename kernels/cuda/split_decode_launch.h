#pragma once
// Launchers of the split-KV decode kernels, one instantiation file per head dim and dtype
// (split_decode_d*_*.cu), and the capture pass's entry into them (split_decode.cpp).
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/flash_attention.h"

namespace attnscope::kernels::cuda::detail {

struct CaptureArgs;
struct SplitForwardArgs;
struct SplitCaptureArgs;
class DeviceBuffer;

template <int HeadDim, typename T>
void launch_split_decode_forward(const SplitForwardArgs& args, cudaStream_t stream);

template <int HeadDim, typename T>
void launch_split_decode_capture(const SplitCaptureArgs& args, cudaStream_t stream);

// The split capture of one launch of the pass (args as run_capture_pass fills them for
// `slots` <= kMaxCapturedHeads heads), its per-row parts in `parts` (grown as needed).
void launch_split_decode_capture_pass(const FlashAttentionParams& attention, const CaptureArgs& args, int slots,
                                      DeviceBuffer& parts, cudaStream_t stream);

// Floats CaptureWorkspace::reserve sets aside for the parts of up to `slots` heads of
// `rows` rows (0 when rows > split_decode::kMaxRows: such calls do not take the path).
int64_t split_decode_capture_reserve_floats(int slots, int64_t rows);

}  // namespace attnscope::kernels::cuda::detail
