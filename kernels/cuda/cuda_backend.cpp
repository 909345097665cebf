// CudaBackend: the Backend interface over the ops of cuda_ops.h, cuda_upload.h,
// cuda_linear.h and the flash-attention entry points (flash_attention.h,
// capture_pipeline.h). It owns the per-op state; the context (device, stream,
// pool) is shared with every tensor it hands out.
#include "kernels/cuda/cuda_backend.h"

#include "kernels/cuda/capture_pipeline.h"
#include "kernels/cuda/cuda_checks.h"
#include "kernels/cuda/cuda_linear.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/cuda_upload.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/key_selection.h"
#include "kernels/cuda/split_decode.h"
#include "kernels/error.h"

namespace attnscope::kernels {
namespace {

using cuda::CudaContext;

// Not thread-safe: one caller at a time (as the CPU backend).
class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaBackendOptions& options)
      : context_(std::make_shared<CudaContext>(options)),
        uploader_(context_, options.upload_staging_bytes),
        linear_(context_),
        ids_(context_),
        rope_frequencies_(context_) {}

  ~CudaBackend() override {
    // Work in flight may still read the state below; members go after this.
    cudaSetDevice(context_->device());
    cudaStreamSynchronize(context_->stream());
  }

  std::string name() const override {
    return "cuda (device " + std::to_string(context_->device()) + ": " + context_->device_name() + ", " +
           std::string(dtype_name(context_->dtype())) + ")";
  }

  Tensor upload(std::span<const HostTensorView> blocks) override { return uploader_.upload(blocks); }
  Tensor allocate(int64_t rows, int64_t cols) override { return cuda::allocate(context_, rows, cols); }
  std::vector<float> download(const Tensor& t) override { return cuda::download(*context_, t); }

  void embedding(const Tensor& table, std::span<const int32_t> ids, Tensor& out) override {
    cuda::embedding(*context_, ids_, table, ids, out);
  }
  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) override {
    linear_.linear(x, weight, bias, y);
  }
  void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& y) override {
    cuda::rms_norm(*context_, x, weight, eps, y);
  }
  void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps, Tensor& y) override {
    cuda::layer_norm(*context_, x, weight, bias, eps, y);
  }
  void rope(Tensor& x, int head_dim, int64_t first_position, const RopeTable& table) override {
    cuda::rope(*context_, rope_frequencies_, x, head_dim, first_position, table);
  }
  void swiglu(const Tensor& gate, const Tensor& up, Tensor& out) override { cuda::swiglu(*context_, gate, up, out); }
  void gelu_tanh(Tensor& x) override { cuda::gelu_tanh(*context_, x); }
  void add(const Tensor& a, const Tensor& b, Tensor& out) override { cuda::add(*context_, a, b, out); }
  void copy_rows(const Tensor& src, Tensor& dst, int64_t dst_row) override {
    cuda::copy_rows(*context_, src, dst, dst_row);
  }
  void attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const AttentionShape& shape,
                 Tensor& out, AttentionCapture* capture, const AttentionRules* rules) override;

  const CudaContext& context() const { return *context_; }
  CudaContext& mutable_context() { return *context_; }
  // Started at the first captured call: its merge threads are not needed before.
  cuda::CapturePipeline& capture_pipeline() {
    if (capture_pipeline_ == nullptr) capture_pipeline_ = cuda::CapturePipeline::create(context_);
    return *capture_pipeline_;
  }
  CudaCaptureTimings capture_timings() const {
    return capture_pipeline_ != nullptr ? capture_pipeline_->timings() : CudaCaptureTimings{};
  }
  void reset_capture_timings() {
    if (capture_pipeline_ != nullptr) capture_pipeline_->reset_timings();
  }

 private:
  std::shared_ptr<CudaContext> context_;
  cuda::WeightUploader uploader_;
  cuda::LinearPlans linear_;
  cuda::IdsStaging ids_;
  cuda::RopeFrequencies rope_frequencies_;
  cuda::KeySelection key_selection_;  // Selected rules: selectors run, kept sets uploaded
  cuda::SplitDecodeWorkspace decode_workspace_;  // decode steps' split-KV partials (split_decode.h)
  // Captured statistics still held (AttentionCapture::held) keep it alive past the backend.
  std::shared_ptr<cuda::CapturePipeline> capture_pipeline_;
};

bool captures_any_head(const AttentionCapture* capture) {
  if (capture == nullptr) return false;
  for (const HeadAccumulator* head : capture->heads)
    if (head != nullptr) return true;
  return false;
}

void CudaBackend::attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const AttentionShape& shape,
                            Tensor& out, AttentionCapture* capture, const AttentionRules* rules) {
  constexpr const char* op = "attention";
  const DType dtype = context_->dtype();
  cuda::require_device(op, "q", q, dtype);
  cuda::require_device(op, "k_cache", k_cache, dtype);
  cuda::require_device(op, "v_cache", v_cache, dtype);
  cuda::require_device(op, "out", out, dtype);
  const int64_t q_width = int64_t(shape.num_heads) * shape.head_dim;
  const int64_t kv_width = int64_t(shape.num_kv_heads) * shape.head_dim;
  const int64_t keys = shape.first_position + q.rows();
  if (q.cols() != q_width)
    throw Error(op, "q " + cuda::describe(q) + " is not [n, " + std::to_string(q_width) + "] for " +
                        std::to_string(shape.num_heads) + " heads of " + std::to_string(shape.head_dim));
  cuda::require_same_shape(op, "q", q, "out", out);
  if (k_cache.cols() != kv_width || v_cache.cols() != kv_width || k_cache.rows() < keys || v_cache.rows() < keys)
    throw Error(op, "caches " + cuda::describe(k_cache) + " and " + cuda::describe(v_cache) + " do not hold " +
                        std::to_string(keys) + " rows of " + std::to_string(kv_width) + " columns");
  if (cuda::overlaps(out, q) || cuda::overlaps(out, k_cache) || cuda::overlaps(out, v_cache))
    throw Error(op, "out " + cuda::describe(out) + " overlaps an input");
  if (capture != nullptr && int64_t(capture->heads.size()) != shape.num_heads)
    throw Error(op, "the capture has " + std::to_string(capture->heads.size()) + " head slots for " +
                        std::to_string(shape.num_heads) + " heads");
  // The capture pass recomputes dense probabilities only: a head under a rule is captured
  // on the CPU backend (docs/attention-rules.md).
  if (rules != nullptr) check_rules(*rules, shape.num_heads, "attention rules");
  const bool ruled = !all_dense(rules);
  if (ruled && capture != nullptr)
    for (int h = 0; h < shape.num_heads; ++h)
      if (capture->heads[std::size_t(h)] != nullptr && rules->heads[std::size_t(h)].kind != HeadRuleKind::Dense)
        throw Error(op, "head " + std::to_string(h) + " is captured under the rule '" +
                            describe(rules->heads[std::size_t(h)]) +
                            "': the CUDA capture pass records dense attention only; capture it on the CPU backend");
  if (q.rows() == 0) return;
  context_->activate();

  cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, q.rows(), dtype);
  p.q = q.data<char>();
  p.q_stride = q.row_stride();
  p.k = k_cache.data<char>();
  p.k_stride = k_cache.row_stride();
  p.v = v_cache.data<char>();
  p.v_stride = v_cache.row_stride();
  p.out = out.data<char>();
  p.out_stride = out.row_stride();
  p.decode_workspace = &decode_workspace_;
  // Selected heads: their selectors run now (on host copies of what they read) and their
  // kept sets go to the device; the forward runs them on the block-sparse kernel.
  const AttentionRules* run_rules = rules;
  const cuda::DeviceKeptKeys* kept_sets = nullptr;
  if (any_selected(rules)) {
    run_rules = &key_selection_.select(p, *rules, context_->stream());
    kept_sets = &key_selection_.sets();
  }
  const auto forward = [&](const cuda::FlashAttentionParams& params) {
    if (ruled)
      return cuda::flash_attention_forward_with_rules(params, *run_rules, context_->stream(),
                                                      cuda::FlashKernel::Automatic, kept_sets);
    return cuda::flash_attention_forward(params, context_->stream());
  };
  // With capture: the forward (with each row's lse), the capture pass, and the host merge
  // queued behind them; the statistics stay in capture->held until finish_capture.
  if (captures_any_head(capture))
    capture_pipeline().run(p, *capture, k_cache.rows(), forward);
  else
    forward(p);
  context_->finish(op);
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) {
  CudaBackendOptions options;
  options.device = device;
  return make_cuda_backend(options);
}

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

CudaMemoryInfo cuda_memory_info(const Backend& backend) {
  const auto* cuda = dynamic_cast<const CudaBackend*>(&backend);
  if (cuda == nullptr) throw Error("cuda_memory_info", "backend " + backend.name() + " is not a CUDA backend");
  return cuda->context().memory_info();
}

void reset_cuda_memory_peak(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (cuda == nullptr) throw Error("reset_cuda_memory_peak", "backend " + backend.name() + " is not a CUDA backend");
  cuda->mutable_context().reset_memory_peak();
}

std::size_t free_device_memory(const Backend& backend) { return cuda_memory_info(backend).available(); }

CudaCaptureTimings cuda_capture_timings(const Backend& backend) {
  const auto* cuda = dynamic_cast<const CudaBackend*>(&backend);
  if (cuda == nullptr) throw Error("cuda_capture_timings", "backend " + backend.name() + " is not a CUDA backend");
  return cuda->capture_timings();
}

void reset_cuda_capture_timings(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (cuda == nullptr)
    throw Error("reset_cuda_capture_timings", "backend " + backend.name() + " is not a CUDA backend");
  cuda->reset_capture_timings();
}

}  // namespace attnscope::kernels
