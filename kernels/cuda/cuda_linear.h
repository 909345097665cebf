#pragma once
// linear (y = x W^T + b) through cuBLASLt: bf16/fp16 operands, fp32 accumulation, the
// bias added in fp32 (one rounding of the output).
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "kernels/cuda/cuda_context.h"

struct cublasLtContext;

namespace attnscope::kernels::cuda {

class LinearPlans {
 public:
  explicit LinearPlans(std::shared_ptr<CudaContext> context);
  ~LinearPlans();
  LinearPlans(const LinearPlans&) = delete;
  LinearPlans& operator=(const LinearPlans&) = delete;

  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y);

 private:
  // What the algorithm choice depends on: shape, strides and pointer alignments.
  struct Key {
    int64_t out = 0, rows = 0, in = 0, ldw = 0, ldx = 0, ldy = 0;
    uint32_t align_w = 0, align_x = 0, align_y = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Plan;
  Plan& plan_for(const Key& key);

  std::shared_ptr<CudaContext> context_;
  cublasLtContext* handle_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace attnscope::kernels::cuda
