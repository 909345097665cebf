// Checks shared by the CUDA ops; the same rules and messages as kernels/cpu/cpu_checks.cpp.
#include "kernels/cuda/cuda_checks.h"

#include <cstdint>

#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

[[noreturn]] void fail(std::string_view op, const std::string& problem) { throw Error(std::string(op), problem); }

std::uintptr_t begin_of(const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data<char>()); }
std::uintptr_t end_of(const Tensor& t) {
  return begin_of(t) + std::uintptr_t((t.rows() - 1) * t.row_stride() + t.cols()) * dtype_size(t.dtype());
}

}  // namespace

std::string describe(const Tensor& t) {
  if (t.empty()) return "[empty]";
  std::string s = "[";
  s.append(std::to_string(t.rows())).append(", ").append(std::to_string(t.cols())).append("]");
  if (!t.contiguous()) s.append(" (row stride ").append(std::to_string(t.row_stride())).append(")");
  s.append(" ").append(dtype_name(t.dtype()));
  if (t.device() == Device::Host) s.append(" on the host");
  return s;
}

void require_device(std::string_view op, std::string_view name, const Tensor& t, DType dtype) {
  if (t.empty()) fail(op, std::string(name) + " is an empty tensor");
  if (t.device() != Device::Cuda || t.dtype() != dtype)
    fail(op, std::string(name) + " " + describe(t) + " is not a " + std::string(dtype_name(dtype)) +
                 " tensor of the CUDA backend");
}

void require_same_shape(std::string_view op, std::string_view a_name, const Tensor& a, std::string_view b_name,
                        const Tensor& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    fail(op, std::string(a_name) + " " + describe(a) + " and " + std::string(b_name) + " " + describe(b) +
                 " differ in shape");
}

void require_vector(std::string_view op, std::string_view name, const Tensor& v, int64_t cols) {
  if (v.rows() != 1 || v.cols() != cols)
    fail(op, std::string(name) + " " + describe(v) + " is not [1, " + std::to_string(cols) + "]");
}

bool overlaps(const Tensor& a, const Tensor& b) {
  if (a.empty() || b.empty() || a.elements() == 0 || b.elements() == 0) return false;
  return begin_of(a) < end_of(b) && begin_of(b) < end_of(a);
}

void require_same_or_disjoint(std::string_view op, std::string_view name, const Tensor& in, const Tensor& out) {
  const bool same = in.data<char>() == out.data<char>() && in.row_stride() == out.row_stride();
  if (!same && overlaps(in, out))
    fail(op, "out " + describe(out) + " partly overlaps " + std::string(name) + " " + describe(in));
}

}  // namespace attnscope::kernels::cuda
