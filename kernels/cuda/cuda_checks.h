#pragma once
// Shape, type and aliasing checks of the CUDA ops (the CPU backend's rules, for
// device tensors of the backend's compute type). Each throws attnscope::Error(op, ...).
#include <string>
#include <string_view>

#include "kernels/tensor.h"

namespace attnscope::kernels::cuda {

// "[rows, cols]", with the stride when it is a view and the type, for messages.
std::string describe(const Tensor& t);
// Throws unless t is a non-empty device tensor of `dtype`.
void require_device(std::string_view op, std::string_view name, const Tensor& t, DType dtype);
void require_same_shape(std::string_view op, std::string_view a_name, const Tensor& a, std::string_view b_name,
                        const Tensor& b);
// Throws unless v is [1, cols].
void require_vector(std::string_view op, std::string_view name, const Tensor& v, int64_t cols);
// True when the memory spans of a and b intersect.
bool overlaps(const Tensor& a, const Tensor& b);
// out may be `in` itself (the same view) but not a shifted view of the same memory.
void require_same_or_disjoint(std::string_view op, std::string_view name, const Tensor& in, const Tensor& out);

}  // namespace attnscope::kernels::cuda
