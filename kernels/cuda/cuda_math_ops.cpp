// Element-wise ops, norms and rope: the CPU backend's checks, then the kernels of
// cuda_elementwise.cu, cuda_norms.cu and cuda_rope.cu.
#include <climits>
#include <string>

#include "kernels/cuda/cuda_checks.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {

void swiglu(CudaContext& context, const Tensor& gate, const Tensor& up, Tensor& out) {
  constexpr const char* op = "swiglu";
  require_device(op, "gate", gate, context.dtype());
  require_device(op, "up", up, context.dtype());
  require_device(op, "out", out, context.dtype());
  require_same_shape(op, "gate", gate, "up", up);
  require_same_shape(op, "gate", gate, "out", out);
  require_same_or_disjoint(op, "gate", gate, out);
  require_same_or_disjoint(op, "up", up, out);
  context.activate();
  launch_swiglu(gate, up, out, context.stream());
  context.finish(op);
}

void gelu_tanh(CudaContext& context, Tensor& x) {
  require_device("gelu_tanh", "x", x, context.dtype());
  context.activate();
  launch_gelu_tanh(x, context.stream());
  context.finish("gelu_tanh");
}

void add(CudaContext& context, const Tensor& a, const Tensor& b, Tensor& out) {
  constexpr const char* op = "add";
  require_device(op, "a", a, context.dtype());
  require_device(op, "b", b, context.dtype());
  require_device(op, "out", out, context.dtype());
  require_same_shape(op, "a", a, "b", b);
  require_same_shape(op, "a", a, "out", out);
  require_same_or_disjoint(op, "a", a, out);
  require_same_or_disjoint(op, "b", b, out);
  context.activate();
  launch_add(a, b, out, context.stream());
  context.finish(op);
}

void rms_norm(CudaContext& context, const Tensor& x, const Tensor& weight, float eps, Tensor& y) {
  constexpr const char* op = "rms_norm";
  require_device(op, "x", x, context.dtype());
  require_device(op, "weight", weight, context.dtype());
  require_device(op, "y", y, context.dtype());
  require_same_shape(op, "x", x, "y", y);
  const int64_t group = weight.cols();
  if (weight.rows() != 1 || group == 0 || x.cols() % group != 0)
    throw Error(op, "weight " + describe(weight) + " is not [1, g] with g dividing the " + std::to_string(x.cols()) +
                        " columns of x " + describe(x));
  if (group > INT32_MAX) throw Error(op, "weight " + describe(weight) + " is wider than 2^31 elements");
  require_same_or_disjoint(op, "x", x, y);
  if (overlaps(weight, y)) throw Error(op, "y " + describe(y) + " overlaps the weight");
  context.activate();
  launch_rms_norm(x, weight, eps, y, context.stream());
  context.finish(op);
}

void layer_norm(CudaContext& context, const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y) {
  constexpr const char* op = "layer_norm";
  require_device(op, "x", x, context.dtype());
  require_device(op, "weight", weight, context.dtype());
  require_device(op, "bias", bias, context.dtype());
  require_device(op, "y", y, context.dtype());
  require_same_shape(op, "x", x, "y", y);
  require_vector(op, "weight", weight, x.cols());
  require_vector(op, "bias", bias, x.cols());
  if (x.cols() == 0) throw Error(op, "x " + describe(x) + " has no columns");
  if (x.cols() > INT32_MAX) throw Error(op, "x " + describe(x) + " is wider than 2^31 elements");
  require_same_or_disjoint(op, "x", x, y);
  if (overlaps(weight, y) || overlaps(bias, y)) throw Error(op, "y " + describe(y) + " overlaps the weight or bias");
  context.activate();
  launch_layer_norm(x, weight, bias, eps, y, context.stream());
  context.finish(op);
}

RopeFrequencies::~RopeFrequencies() { context_->release(device_, capacity_ * sizeof(float)); }

const float* RopeFrequencies::to_device(const std::vector<float>& inv_freq) {
  constexpr const char* op = "rope";
  if (device_ != nullptr && inv_freq == host_) return device_;
  if (inv_freq.size() > capacity_) {
    context_->release(device_, capacity_ * sizeof(float));
    device_ = nullptr;
    capacity_ = 0;
    device_ = static_cast<float*>(context_->allocate(inv_freq.size() * sizeof(float), op, "rope frequencies"));
    capacity_ = inv_freq.size();
  }
  host_ = inv_freq;
  check_cuda(
      cudaMemcpyAsync(device_, host_.data(), host_.size() * sizeof(float), cudaMemcpyHostToDevice, context_->stream()),
      op, "cudaMemcpyAsync");
  // Rare (a new table): wait, so host_ may change at the next call without a race.
  context_->synchronize(op);
  return device_;
}

void rope(CudaContext& context, RopeFrequencies& frequencies, Tensor& x, int head_dim, int64_t first_position,
          const RopeTable& table) {
  constexpr const char* op = "rope";
  require_device(op, "x", x, context.dtype());
  if (head_dim <= 0 || head_dim % 2 != 0 || x.cols() % head_dim != 0)
    throw Error(
        op, "head_dim " + std::to_string(head_dim) + " is not even and positive or does not divide x " + describe(x));
  const int64_t half = head_dim / 2;
  if (int64_t(table.inv_freq.size()) != half)
    throw Error(op, "table has " + std::to_string(table.inv_freq.size()) + " frequencies, head_dim " +
                        std::to_string(head_dim) + " needs " + std::to_string(half));
  if (first_position < 0) throw Error(op, "first_position " + std::to_string(first_position) + " is negative");
  if (x.rows() == 0) return;
  context.activate();
  const float* inv_freq = frequencies.to_device(table.inv_freq);
  launch_rope(x, head_dim, first_position, inv_freq, table.attention_scaling, context.stream());
  context.finish(op);
}

}  // namespace attnscope::kernels::cuda
