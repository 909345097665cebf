#pragma once
// Launchers of the non-attention kernels (cuda_convert.cu, cuda_elementwise.cu,
// cuda_norms.cu, cuda_rope.cu). They take checked device tensors of one compute type
// (BF16 or F16), launch asynchronously on `stream` and throw attnscope::Error(op, ...)
// for a launch failure. Shape checks happen before, in cuda_ops.
#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>

#include "kernels/tensor.h"

namespace attnscope::kernels::cuda {

// True when every tensor starts 16-byte aligned with a row stride and a width that are
// multiples of 8 elements: the kernels then move 16 bytes per access.
bool vectorizable(std::initializer_list<const Tensor*> tensors);

// Weight upload: n elements of `src_type` at `src` (device) converted to dst_type.
void launch_convert(const void* src, DType src_type, int64_t n, void* dst, DType dst_type, cudaStream_t stream);
// Rows [row0, row0 + piece_rows) of a stored [total_rows, cols] matrix (the piece at
// `src`) into the transposed destination [cols, total_rows] (contiguous).
void launch_convert_transposed(const void* src, DType src_type, int64_t piece_rows, int64_t cols, int64_t row0,
                               int64_t total_rows, void* dst, DType dst_type, cudaStream_t stream);
// src (any stride) to a contiguous float32 [rows, cols] at dst (device).
void launch_to_f32(const Tensor& src, float* dst, cudaStream_t stream);

// out[i] = table[ids[i]] (ids on the device, already bounds-checked).
void launch_gather_rows(const Tensor& table, const int32_t* ids, Tensor& out, cudaStream_t stream);
// Every row of out = row (a [1, out.cols()] tensor), or zero when row is null.
void launch_fill_rows(Tensor& out, const Tensor* row, cudaStream_t stream);

void launch_swiglu(const Tensor& gate, const Tensor& up, Tensor& out, cudaStream_t stream);
void launch_gelu_tanh(Tensor& x, cudaStream_t stream);
void launch_add(const Tensor& a, const Tensor& b, Tensor& out, cudaStream_t stream);

void launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& y, cudaStream_t stream);
void launch_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y,
                       cudaStream_t stream);

// inv_freq: head_dim / 2 floats on the device.
void launch_rope(Tensor& x, int head_dim, int64_t first_position, const float* inv_freq, float attention_scaling,
                 cudaStream_t stream);

}  // namespace attnscope::kernels::cuda
