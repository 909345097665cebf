// The mask lab's per-head evaluation on the GPU: dense side once, then per evaluate() the
// block-sparse launch over the sets and the masked-recall kernel.
#include "kernels/cuda/mask_evaluation.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
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
  std::vector<int64_t> first(sets.size(), 0);
  for (std::size_t i = 0; i < first_rows.size(); ++i) {
    if (first_rows[i] < 0 || first_rows[i] > n)
      throw Error(kWhere, "head " + std::to_string(sets[i].head) + ": first row " + std::to_string(first_rows[i]) +
                              " is outside the call's " + std::to_string(n) + " rows");
    first[i] = first_rows[i];
  }
  std::vector<DeviceHeadEvaluation> out(sets.size());
  if (sets.empty()) return out;
  auto* s = reinterpret_cast<cudaStream_t>(stream_);
  const DeviceKeptKeys kept = upload_.upload(sets, {call_.first_position, n, call_.sliding_window}, stream_);
  BlockSparseParams sparse{call_, kept, buffers_->sparse_out.as<float>(), int64_t(call_.num_heads) * call_.head_dim};
  sparse.attention.lse = buffers_->sparse_lse.as<float>();
  sparse.attention.lse_stride = n;
  block_sparse_attention_forward(sparse, stream_);

  check_cuda(cudaMemcpyAsync(buffers_->first_rows.as<int64_t>(), first.data(), first.size() * 8,
                             cudaMemcpyHostToDevice, s),
             kWhere, "copying the first rows");
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

  std::vector<double> sums(sets.size() * kMaskSums);
  check_cuda(cudaMemcpyAsync(sums.data(), m.sums, sums.size() * 8, cudaMemcpyDeviceToHost, s), kWhere,
             "downloading the per-head sums");
  const std::size_t row_values = worst_rows > 0 ? sets.size() * std::size_t(n) : 0;
  std::vector<float> recall(row_values), error(row_values);
  if (row_values > 0) {
    check_cuda(cudaMemcpyAsync(recall.data(), m.row_recall, recall.size() * 4, cudaMemcpyDeviceToHost, s), kWhere,
               "downloading the per-row recalls");
    check_cuda(cudaMemcpyAsync(error.data(), m.row_error, error.size() * 4, cudaMemcpyDeviceToHost, s), kWhere,
               "downloading the per-row errors");
  }
  check_cuda(cudaStreamSynchronize(s), kWhere, "the evaluation");

  for (std::size_t i = 0; i < sets.size(); ++i) {
    DeviceHeadEvaluation& e = out[i];
    const KeptKeys& set = *sets[i].kept;
    const double* sum = sums.data() + i * kMaskSums;
    e.head = sets[i].head;
    e.first_row = first[i];
    e.rows = n - first[i];
    e.kept_entries = set.kept_entries_from(first[i]);
    e.visible_entries = set.visible_entries_from(first[i]);
    e.density = e.visible_entries == 0 ? 0.0 : double(e.kept_entries) / double(e.visible_entries);
    if (e.rows > 0) {
      e.recall = sum[kRecallSum] / double(e.rows);
      e.min_recall = sum[kMinRecall];
      e.output_cosine = sum[kCosineSum] / double(e.rows);
      e.output_rel_l2 = sum[kFull2] > 0 ? std::sqrt(sum[kDiff2] / sum[kFull2]) : std::sqrt(sum[kDiff2]);
    }
    if (worst_rows <= 0 || e.rows == 0) continue;
    std::vector<DeviceRowError> rows;
    rows.reserve(std::size_t(e.rows));
    for (int64_t r = first[i]; r < n; ++r) {
      const std::size_t at = i * std::size_t(n) + std::size_t(r);
      rows.push_back({r, recall[at], error[at]});
    }
    const auto worst = std::min<std::size_t>(rows.size(), std::size_t(worst_rows));
    std::partial_sort(rows.begin(), rows.begin() + std::ptrdiff_t(worst), rows.end(),
                      [](const DeviceRowError& a, const DeviceRowError& b) {
                        return a.output_rel_l2 > b.output_rel_l2 || (a.output_rel_l2 == b.output_rel_l2 && a.row < b.row);
                      });
    rows.resize(worst);
    e.worst_rows = std::move(rows);
  }
  return out;
}

}  // namespace attnscope::kernels::cuda
