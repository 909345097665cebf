// Shape and type checks shared by the CPU ops, and OpenBLAS thread control.
#include <cblas.h>

#include <cstdint>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/error.h"

namespace attnscope::kernels::cpu {

std::string describe(const Tensor& t) {
  if (t.empty()) return "[empty]";
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
  // "literal" + std::string temporaries here.
  std::string s = "[";
  s.append(std::to_string(t.rows())).append(", ").append(std::to_string(t.cols())).append("]");
  if (!t.contiguous()) s.append(" (row stride ").append(std::to_string(t.row_stride())).append(")");
  if (t.dtype() != DType::F32) s.append(" ").append(dtype_name(t.dtype()));
  return s;
}

void fail(std::string_view op, const std::string& problem) { throw Error(std::string(op), problem); }

void require_f32(std::string_view op, std::string_view name, const Tensor& t) {
  if (t.empty()) fail(op, std::string(name) + " is an empty tensor");
  if (t.device() != Device::Host || t.dtype() != DType::F32)
    fail(op, std::string(name) + " " + describe(t) + " is not a float32 host tensor");
}

void require_same_shape(std::string_view op, std::string_view a_name, const Tensor& a,
                        std::string_view b_name, const Tensor& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    fail(op, std::string(a_name) + " " + describe(a) + " and " + std::string(b_name) + " " +
                 describe(b) + " differ in shape");
}

bool overlaps(const Tensor& a, const Tensor& b) {
  if (a.empty() || b.empty() || a.elements() == 0 || b.elements() == 0) return false;
  // Compared as integers: the tensors may live in different allocations.
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data<float>());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.data<float>());
  const auto a1 = a0 + std::uintptr_t((a.rows() - 1) * a.row_stride() + a.cols()) * sizeof(float);
  const auto b1 = b0 + std::uintptr_t((b.rows() - 1) * b.row_stride() + b.cols()) * sizeof(float);
  return a0 < b1 && b0 < a1;
}

void use_blas_threads(int threads) {
  // Cheap when unchanged; OpenBLAS also sets the calling thread's OpenMP default.
  if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

}  // namespace attnscope::kernels::cpu
