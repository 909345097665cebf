// The mask lab's per-head evaluation on the GPU: dense side once, then per evaluate() the
// block-sparse launch over the sets and the masked-recall kernel.
#include "kernels/cuda/mask_evaluation.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/mask_metrics.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "mask evaluation";

// One device allocation, freed with the evaluator (after its stream is synchronised).
class DeviceMemory {
 public:
  explicit DeviceMemory(std::size_t bytes, const char* what) {
    check_cuda(cudaMalloc(&data_, std::max<std::size_t>(bytes, 8)), kWhere,
               std::string("cudaMalloc of ") + std::to_string(bytes) + " bytes for " + what);
  }
  ~DeviceMemory() { cudaFree(data_); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
};

}  // namespace

struct MaskEvaluator::Buffers {
  Buffers(int64_t n, int heads, int head_dim)
      : dense_out(std::size_t(n) * std::size_t(heads) * std::size_t(head_dim) * 4, "the dense output"),
        sparse_out(std::size_t(n) * std::size_t(heads) * std::size_t(head_dim) * 4, "the sparse output"),
        dense_lse(std::size_t(n) * std::size_t(heads) * 4, "the dense lse"),
        sparse_lse(std::size_t(n) * std::size_t(heads) * 4, "the sparse lse"),
        row_recall(std::size_t(n) * std::size_t(heads) * 4, "per-row recalls"),
        row_error(std::size_t(n) * std::size_t(heads) * 4, "per-row errors"),
        sums(std::size_t(heads) * kMaskSums * 8, "per-head sums"),
        first_rows(std::size_t(heads) * 8, "first rows") {}
  DeviceMemory dense_out, sparse_out, dense_lse, sparse_lse, row_recall, row_error, sums, first_rows;
};

MaskEvaluator::MaskEvaluator(const FlashAttentionParams& call, CUstream_st* stream) : call_(call), stream_(stream) {
  check_attention_call(call_, kWhere, false);
  call_.out = nullptr;
  call_.lse = nullptr;
  call_.head_begin = call_.head_count = 0;
  call_.rule = HeadRule::dense();
  buffers_ = std::make_unique<Buffers>(call_.n, call_.num_heads, call_.head_dim);
  std::vector<int> heads(std::size_t(call_.num_heads));
  for (int h = 0; h < call_.num_heads; ++h) heads[std::size_t(h)] = h;
  BlockSparseParams dense{call_, upload_.upload_dense(heads, {call_.first_position, call_.n, call_.sliding_window}, stream),
                          buffers_->dense_out.as<float>(), int64_t(call_.num_heads) * call_.head_dim};
  dense.attention.lse = buffers_->dense_lse.as<float>();
  dense.attention.lse_stride = call_.n;
  block_sparse_attention_forward(dense, stream_);
}

MaskEvaluator::~MaskEvaluator() {
  // Work still queued reads the buffers.
  cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream_));
}

std::vector<DeviceHeadEvaluation> MaskEvaluator::evaluate(std::span<const HeadKeptKeys> sets,
                                                          std::span<const int64_t> first_rows, int worst_rows) {
  const int64_t n = call_.n;
  if (!first_rows.empty() && first_rows.size() != sets.size())
    throw Error(kWhere, std::to_string(first_rows.size()) + " first rows for " + std::to_string(sets.size()) + " sets");
  for (std::size_t i = 0; i < first_rows.size(); ++i)
    if (first_rows[i] < 0 || first_rows[i] > n)
      throw Error(kWhere, "head " + std::to_string(sets[i].head) + ": first row " + std::to_string(first_rows[i]) +
                              " is outside the call's " + std::to_string(n) + " rows");
  if (sets.empty()) return {};
  auto* s = reinterpret_cast<cudaStream_t>(stream_);
  // A call that threw may have left copies of transfers_ queued.
  if (transfers_queued_) check_cuda(cudaStreamSynchronize(s), kWhere, "waiting for an earlier evaluation");
  const DeviceKeptKeys kept = upload_.upload(sets, {call_.first_position, n, call_.sliding_window}, stream_);
  BlockSparseParams sparse{call_, kept, buffers_->sparse_out.as<float>(), int64_t(call_.num_heads) * call_.head_dim};
  sparse.attention.lse = buffers_->sparse_lse.as<float>();
  sparse.attention.lse_stride = n;
  block_sparse_attention_forward(sparse, stream_);

  // One pinned buffer for what crosses per call besides the sets.
  const std::size_t count = sets.size();
  const std::size_t row_values = worst_rows > 0 ? count * std::size_t(n) : 0;
  const std::size_t sums_at = count * 8, recall_at = sums_at + count * kMaskSums * 8;
  const std::size_t error_at = recall_at + row_values * 4;
  transfers_.reserve(error_at + row_values * 4, "the mask evaluation's transfers");
  char* host = transfers_.as<char>();
  auto* first = reinterpret_cast<int64_t*>(host);
  for (std::size_t i = 0; i < count; ++i) first[i] = first_rows.empty() ? 0 : first_rows[i];
  transfers_queued_ = true;
  check_cuda(cudaMemcpyAsync(buffers_->first_rows.as<int64_t>(), first, count * 8, cudaMemcpyHostToDevice, s), kWhere,
             "copying the first rows");
  MaskMetricsParams m;
  m.dense_out = buffers_->dense_out.as<float>();
  m.sparse_out = buffers_->sparse_out.as<float>();
  m.out_stride = int64_t(call_.num_heads) * call_.head_dim;
  m.dense_lse = buffers_->dense_lse.as<float>();
  m.sparse_lse = buffers_->sparse_lse.as<float>();
  m.lse_stride = n;
  m.n = n;
  m.head_dim = call_.head_dim;
  m.sets = kept.sets;
  m.heads = kept.heads;
  m.first_rows = buffers_->first_rows.as<int64_t>();
  m.sums = buffers_->sums.as<double>();
  m.row_recall = buffers_->row_recall.as<float>();
  m.row_error = buffers_->row_error.as<float>();
  mask_metrics(m, stream_);

  auto* sums = reinterpret_cast<double*>(host + sums_at);
  auto* recall = reinterpret_cast<float*>(host + recall_at);
  auto* error = reinterpret_cast<float*>(host + error_at);
  check_cuda(cudaMemcpyAsync(sums, m.sums, count * kMaskSums * 8, cudaMemcpyDeviceToHost, s), kWhere,
             "downloading the per-head sums");
  if (row_values > 0) {
    check_cuda(cudaMemcpyAsync(recall, m.row_recall, row_values * 4, cudaMemcpyDeviceToHost, s), kWhere,
               "downloading the per-row recalls");
    check_cuda(cudaMemcpyAsync(error, m.row_error, row_values * 4, cudaMemcpyDeviceToHost, s), kWhere,
               "downloading the per-row errors");
  }
  check_cuda(cudaStreamSynchronize(s), kWhere, "the evaluation");
  transfers_queued_ = false;
  return head_evaluations(sets, std::span<const int64_t>(first, count), n, sums, recall, error, worst_rows);
}

}  // namespace attnscope::kernels::cuda
