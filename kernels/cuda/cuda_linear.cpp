// linear through cuBLASLt. Row-major y [n, out] = x [n, in] W^T, W [out, in] row-major,
// is in cuBLAS's column-major terms D (out x n, ld = y stride) = A^T B with A = W seen
// as (in x out, ld = W stride) and B = x seen as (in x n, ld = x stride): a "TN" GEMM
// that reads column views (q|k|v slices) through their strides without copies.
//
// cuBLASLt picks an algorithm per shape, stride and pointer alignment (column views
// start at any even address; the default preference assumes 256-byte alignment and
// would refuse them), so plans are cached by exactly those: decode and equal-sized
// prefill chunks reuse them.
//
// A bias is written into y first and the GEMM adds to it (beta = 1). cuBLASLt's BIAS
// epilogue rounded twice on strided outputs (H100, cuBLAS 13.0: 1.2 ulp off the
// single-rounding reference on column views); beta = 1 rounds once there, but its
// kernels for contiguous operands still round x W^T before adding C (1.07 ulp), as
// PyTorch's addmm does. A single rounding everywhere would need an fp32 scratch output.
#include "kernels/cuda/cuda_linear.h"

#include <cublasLt.h>

#include <string>

#include "kernels/cuda/cuda_checks.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kOp = "linear";
constexpr std::size_t kWorkspaceBytes = std::size_t(32) << 20;  // what cuBLAS advises for Hopper
constexpr std::size_t kMaxPlans = 512;                          // prompt lengths vary: bound the cache

void check_cublas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_ALLOC_FAILED)
    throw OutOfMemory(kOp, std::string(call) + " failed: cuBLASLt could not allocate its resources (" +
                               cublasLtGetStatusString(status) + ")");
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(kOp, std::string(call) + " failed: " + cublasLtGetStatusString(status));
}

uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  uint32_t a = 256;
  while (a > 2 && address % a != 0) a /= 2;
  return a;
}

cudaDataType_t data_type(DType t) { return t == DType::BF16 ? CUDA_R_16BF : CUDA_R_16F; }

template <typename V>
void set(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const V& value) {
  check_cublas(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof value), "cublasLtMatmulDescSetAttribute");
}

}  // namespace

struct LinearPlans::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t w = nullptr, x = nullptr, y = nullptr;
  cublasLtMatmulAlgo_t algo{};
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (y != nullptr) cublasLtMatrixLayoutDestroy(y);
    if (x != nullptr) cublasLtMatrixLayoutDestroy(x);
    if (w != nullptr) cublasLtMatrixLayoutDestroy(w);
    if (op != nullptr) cublasLtMatmulDescDestroy(op);
  }
};

LinearPlans::LinearPlans(std::shared_ptr<CudaContext> context) : context_(std::move(context)) {
  context_->activate();
  workspace_ = context_->allocate(kWorkspaceBytes, kOp, "the cuBLASLt workspace");
  workspace_bytes_ = kWorkspaceBytes;
  const cublasStatus_t status = cublasLtCreate(&handle_);
  if (status != CUBLAS_STATUS_SUCCESS) context_->release(workspace_, workspace_bytes_);
  check_cublas(status, "cublasLtCreate");
}

LinearPlans::~LinearPlans() {
  plans_.clear();
  context_->release(workspace_, workspace_bytes_);
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

LinearPlans::Plan& LinearPlans::plan_for(const Key& key) {
  if (auto found = plans_.find(key); found != plans_.end()) return *found->second;
  if (plans_.size() >= kMaxPlans) plans_.clear();
  auto plan = std::make_unique<Plan>();
  const cudaDataType_t type = data_type(context_->dtype());
  check_cublas(cublasLtMatmulDescCreate(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  set(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, cublasOperation_t(CUBLAS_OP_T));
  set(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, cublasOperation_t(CUBLAS_OP_N));
  check_cublas(cublasLtMatrixLayoutCreate(&plan->w, type, uint64_t(key.in), uint64_t(key.out), key.ldw),
               "cublasLtMatrixLayoutCreate");
  check_cublas(cublasLtMatrixLayoutCreate(&plan->x, type, uint64_t(key.in), uint64_t(key.rows), key.ldx),
               "cublasLtMatrixLayoutCreate");
  check_cublas(cublasLtMatrixLayoutCreate(&plan->y, type, uint64_t(key.out), uint64_t(key.rows), key.ldy),
               "cublasLtMatrixLayoutCreate");

  cublasLtMatmulPreference_t preference = nullptr;
  check_cublas(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
  const auto prefer = [&](cublasLtMatmulPreferenceAttributes_t attribute, auto value) {
    const cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof value);
    if (status != CUBLAS_STATUS_SUCCESS) cublasLtMatmulPreferenceDestroy(preference);
    check_cublas(status, "cublasLtMatmulPreferenceSetAttribute");
  };
  prefer(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t(workspace_bytes_));
  // Split-K partial sums only in fp32 and in a fixed order: the in-place scheme sums
  // them in the output type (bf16) and in a varying order.
  prefer(CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, uint32_t(CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_w);
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_x);
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_y);
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_y);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, plan->op, plan->w, plan->x, plan->y, plan->y,
                                                               preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  check_cublas(status, "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0)
    throw Error(kOp, "cuBLASLt has no algorithm for y [" + std::to_string(key.rows) + ", " + std::to_string(key.out) +
                         "] = x [" + std::to_string(key.rows) + ", " + std::to_string(key.in) + "] W^T (strides y " +
                         std::to_string(key.ldy) + ", x " + std::to_string(key.ldx) + ", W " + std::to_string(key.ldw) +
                         "; alignments " + std::to_string(key.align_y) + ", " + std::to_string(key.align_x) + ", " +
                         std::to_string(key.align_w) + " bytes)");
  plan->algo = result.algo;
  return *plans_.emplace(key, std::move(plan)).first->second;
}

void LinearPlans::linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  const DType dtype = context_->dtype();
  require_device(kOp, "x", x, dtype);
  require_device(kOp, "weight", weight, dtype);
  require_device(kOp, "y", y, dtype);
  if (x.cols() != weight.cols())
    throw Error(kOp, "x " + describe(x) + " has " + std::to_string(x.cols()) + " features but weight " +
                         describe(weight) + " expects " + std::to_string(weight.cols()));
  if (y.rows() != x.rows() || y.cols() != weight.rows())
    throw Error(kOp, "y " + describe(y) + " is not [" + std::to_string(x.rows()) + ", " +
                         std::to_string(weight.rows()) + "] for x " + describe(x) + " and weight " + describe(weight));
  if (bias != nullptr) {
    require_device(kOp, "bias", *bias, dtype);
    require_vector(kOp, "bias", *bias, weight.rows());
  }
  if (overlaps(y, x) || overlaps(y, weight) || (bias != nullptr && overlaps(y, *bias)))
    throw Error(kOp, "y " + describe(y) + " overlaps an input");
  const int64_t n = x.rows(), out = weight.rows(), in = weight.cols();
  if (n == 0 || out == 0) return;
  context_->activate();
  // y starts as the bias rows (the whole answer when in = 0: cuBLASLt refuses k = 0).
  if (bias != nullptr || in == 0) launch_fill_rows(y, bias, context_->stream());
  if (in == 0) {
    context_->finish(kOp);
    return;
  }
  const Key key{out,
                n,
                in,
                weight.row_stride(),
                x.row_stride(),
                y.row_stride(),
                alignment_of(weight.data<char>()),
                alignment_of(x.data<char>()),
                alignment_of(y.data<char>())};
  Plan& plan = plan_for(key);
  const float alpha = 1.0f, beta = bias != nullptr ? 1.0f : 0.0f;
  check_cublas(cublasLtMatmul(handle_, plan.op, &alpha, weight.data<char>(), plan.w, x.data<char>(), plan.x, &beta,
                              y.data<char>(), plan.y, y.data<char>(), plan.y, &plan.algo, workspace_, workspace_bytes_,
                              context_->stream()),
               "cublasLtMatmul");
  context_->finish(kOp);
}

}  // namespace attnscope::kernels::cuda
