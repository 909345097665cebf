#pragma once
// Which capture kernel runs a call: the portable one (attention_capture_kernel.cuh:
// mma.sync, sm_80 and newer, every head dim) or the Hopper one
// (hopper/attention_capture_hopper_kernel.cuh: wgmma + TMA, sm_90a, head dims 64 and
// 128). Both write the same results in the same buffers. The environment variable
// ATTNSCOPE_CAPTURE_KERNEL=portable|hopper|auto chooses (read per call); where it is
// unset, ATTNSCOPE_FLASH_KERNEL does, so that one variable moves the forward and the
// capture together; neither set: "auto", the Hopper kernel where it can run.
//
// Pure C++ header.
#include <string>

#include "kernels/cuda/flash_attention.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

// ATTNSCOPE_CAPTURE_KERNEL, else ATTNSCOPE_FLASH_KERNEL, parsed (Automatic when neither
// is set); throws attnscope::Error naming the variable for a value other than
// auto, portable or hopper.
FlashKernel capture_kernel_from_environment();

// Why the Hopper capture kernel cannot take a capture of these params on any device: the
// dtype, the head dim, more than 65535 query blocks of 128 rows or 2^23 keys, or q / k
// that TMA cannot read (16-byte bases, row strides multiples of 16 bytes below 2^40); ""
// when it can. v and out are not looked at.
std::string capture_hopper_limitation(const FlashAttentionParams& params);

// The same here: also not compiled for sm_90a or a current device that is not compute
// capability 9.0.
std::string capture_hopper_unavailable(const FlashAttentionParams& params);

// The kernel a capture of these params runs for `requested` (Automatic: Hopper where
// capture_hopper_unavailable is empty). Throws attnscope::Error when Hopper is requested
// and unavailable.
FlashKernel choose_capture_kernel(const FlashAttentionParams& params, FlashKernel requested);

namespace detail {

struct CaptureArgs;

// One launch of the capture pass (attention_capture_pass.cu) on the kernel that
// choose_capture_kernel(params, capture_kernel_from_environment()) names.
void launch_capture_kernel(const FlashAttentionParams& attention, const CaptureArgs& args, int captured_heads,
                           CUstream_st* stream);

}  // namespace detail
}  // namespace attnscope::kernels::cuda
