// Selected rules on the CUDA backend: views downloaded for the selectors that read them,
// selectors run in parallel, kept sets uploaded.
#include "kernels/cuda/key_selection.h"

#include <cuda_runtime.h>

#include <exception>
#include <string>

#include "kernels/cuda/cuda_context.h"
#include "kernels/dtype.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "attention";

// Elements [0, count) of bf16 / fp16 bits as floats.
void to_float(const uint16_t* from, float* to, int64_t count, DType dtype) {
  if (dtype == DType::BF16) {
#pragma omp parallel for schedule(static) if (count > (int64_t(1) << 20))
    for (int64_t i = 0; i < count; ++i) to[i] = bf16_to_f32(from[i]);
  } else {
#pragma omp parallel for schedule(static) if (count > (int64_t(1) << 20))
    for (int64_t i = 0; i < count; ++i) to[i] = f16_to_f32(from[i]);
  }
}

}  // namespace

void KeySelection::download_views(const FlashAttentionParams& p, const std::vector<int>& heads, CUstream_st* stream) {
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  const int group = p.num_heads / p.num_kv_heads;
  const int64_t D = p.head_dim, n = p.n, keys = p.first_position + p.n;
  q_slot_.assign(std::size_t(p.num_heads), -1);
  kv_slot_.assign(std::size_t(p.num_kv_heads), -1);
  int q_count = 0, kv_count = 0;
  for (const int h : heads) {
    q_slot_[std::size_t(h)] = q_count++;
    int& kv = kv_slot_[std::size_t(h / group)];
    if (kv < 0) kv = kv_count++;
  }
  const int64_t q_elements = q_count * n * D, kv_elements = kv_count * keys * D;
  download_bytes_ = std::size_t(q_elements + 2 * kv_elements) * 2;
  if (download_bytes_ == 0) return;
  staging_.reserve(download_bytes_, "the key selectors' q, k and v");
  auto* q16 = staging_.as<uint16_t>();
  uint16_t* k16 = q16 + q_elements;
  uint16_t* v16 = k16 + kv_elements;
  const std::size_t row = std::size_t(D) * 2;
  for (int h = 0; h < p.num_heads; ++h)
    if (const int slot = q_slot_[std::size_t(h)]; slot >= 0)
      check_cuda(cudaMemcpy2DAsync(q16 + slot * n * D, row, static_cast<const uint16_t*>(p.q) + h * D,
                                   std::size_t(p.q_stride) * 2, row, std::size_t(n), cudaMemcpyDeviceToHost, s),
                 kWhere, "downloading q for the key selectors");
  for (int kv = 0; kv < p.num_kv_heads; ++kv)
    if (const int slot = kv_slot_[std::size_t(kv)]; slot >= 0) {
      check_cuda(cudaMemcpy2DAsync(k16 + slot * keys * D, row, static_cast<const uint16_t*>(p.k) + kv * D,
                                   std::size_t(p.k_stride) * 2, row, std::size_t(keys), cudaMemcpyDeviceToHost, s),
                 kWhere, "downloading k for the key selectors");
      check_cuda(cudaMemcpy2DAsync(v16 + slot * keys * D, row, static_cast<const uint16_t*>(p.v) + kv * D,
                                   std::size_t(p.v_stride) * 2, row, std::size_t(keys), cudaMemcpyDeviceToHost, s),
                 kWhere, "downloading v for the key selectors");
    }
  check_cuda(cudaStreamSynchronize(s), kWhere, "waiting for the key selectors' q, k and v");
  q_.resize(std::size_t(q_elements));
  k_.resize(std::size_t(kv_elements));
  v_.resize(std::size_t(kv_elements));
  to_float(q16, q_.data(), q_elements, p.dtype);
  to_float(k16, k_.data(), kv_elements, p.dtype);
  to_float(v16, v_.data(), kv_elements, p.dtype);
}

const AttentionRules& KeySelection::select(const FlashAttentionParams& p, const AttentionRules& rules,
                                           CUstream_st* stream) {
  check_rules(rules, p.num_heads, kWhere);
  const int group = p.num_heads / p.num_kv_heads;
  const int64_t D = p.head_dim, n = p.n, keys = p.first_position + p.n;
  std::vector<int> selected, reading;
  for (int h = 0; h < p.num_heads; ++h) {
    const HeadRule& rule = rules.heads[std::size_t(h)];
    if (rule.kind != HeadRuleKind::Selected) continue;
    selected.push_back(h);
    if (rule.selector->reads_views()) reading.push_back(h);
  }
  download_views(p, reading, stream);

  kept_.assign(std::size_t(p.num_heads), std::nullopt);
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) if (selected.size() > 1)
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const int h = selected[i];
    const KeySelector& described = *rules.heads[std::size_t(h)].selector;
    try {
      SelectionInput input;
      input.head = h;
      input.kv_head = h / group;
      if (const int slot = q_slot_.empty() ? -1 : q_slot_[std::size_t(h)]; slot >= 0) {
        const int kv = kv_slot_[std::size_t(h / group)];
        input.q = q_.data() + slot * n * D;
        input.k = k_.data() + kv * keys * D;
        input.v = v_.data() + kv * keys * D;
      }
      input.q_stride = input.k_stride = input.v_stride = D;
      input.rows = n;
      input.first_position = p.first_position;
      input.head_dim = D;
      input.model_window = p.sliding_window;
      input.scale = p.scale;
      std::optional<KeptKeys> kept = rules.heads[std::size_t(h)].selector->select(input);
      if (kept && (kept->rows() != n || kept->first_position() != p.first_position ||
                   kept->model_window() != p.sliding_window))
        throw Error(kWhere, "head " + std::to_string(h) + ": its key selector (" + described.describe() +
                                ") answered a set for " + std::to_string(kept->rows()) + " rows from position " +
                                std::to_string(kept->first_position()) + " for a call of " + std::to_string(n) +
                                " rows from position " + std::to_string(p.first_position));
      kept_[std::size_t(h)] = std::move(kept);
    } catch (...) {
#pragma omp critical(attnscope_cuda_selection_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);

  run_rules_ = rules;
  std::vector<HeadKeptKeys> sets;
  for (const int h : selected) {
    if (kept_[std::size_t(h)].has_value())
      sets.push_back({h, &*kept_[std::size_t(h)]});
    else
      run_rules_.heads[std::size_t(h)] = HeadRule::dense();  // the selector answered dense for this call
  }
  sets_ = upload_.upload(sets, {p.first_position, n, p.sliding_window}, stream);
  return run_rules_;
}

}  // namespace attnscope::kernels::cuda
