// merge_capture_results: the host half of the GPU capture. The device sums each
// chunk's rows in fp32; here they are added into the accumulator's doubles with the
// bookkeeping of accumulate_attention_row (kernels/attention_capture.cpp): which rows
// count for sink and local mass, growth of the per-key vectors and of the pooled map,
// packed exact rows.
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/cuda/attention_capture_results.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "merge_capture_results";

template <typename T>
void grow(std::vector<T>& v, int64_t size) {
  if (int64_t(v.size()) < size) v.resize(std::size_t(size));
}

int64_t first_key(int64_t position, int64_t window) { return window > 0 ? std::max<int64_t>(0, position - window + 1) : 0; }

}  // namespace

ProbabilityWindow exact_rows_window(const CaptureOptions& options, int64_t first_position, int64_t n) {
  ProbabilityWindow w;
  if (!options.exact_probabilities) return w;
  const int64_t end = std::min(first_position + n, options.exact_limit);
  if (end <= first_position) return w;
  return {first_position, end, 0, end};
}

void merge_capture_results(const CaptureResults& r, int slot, const CaptureOptions& options, HeadAccumulator& acc) {
  if (slot < 0 || std::size_t(slot) >= r.heads.size())
    throw Error(kWhere, "slot " + std::to_string(slot) + " of " + std::to_string(r.heads.size()));
  if (r.n == 0) return;
  if (!r.statistics) throw Error(kWhere, "results hold only a probability window, no statistics");
  if (acc.pooled.sums.empty()) acc.pooled.block = r.pool_block;
  if (acc.pooled.block != r.pool_block)
    throw Error(kWhere, "head " + std::to_string(acc.head) + " pools by " + std::to_string(acc.pooled.block) +
                            " but the pass pooled by " + std::to_string(r.pool_block));
  const std::size_t row_base = std::size_t(slot) * std::size_t(r.n);
  const int64_t last = r.first_position + r.n - 1;
  const int64_t block = r.pool_block;
  const ProbabilityWindow exact = exact_rows_window(options, r.first_position, r.n);
  if (!exact.empty() && (r.window.query_begin != exact.query_begin || r.window.query_end != exact.query_end ||
                         r.window.key_begin != 0 || r.window.key_end < exact.key_end))
    throw Error(kWhere, "the pass's probability window does not hold the exact rows asked for");

  // Per-row records, in position order.
  PooledMap& pooled = acc.pooled;
  const int64_t last_block = last / block;
  if (int64_t(pooled.sums.size()) <= last_block) {
    const int64_t old = int64_t(pooled.sums.size());
    pooled.sums.resize(std::size_t(last_block + 1));
    for (int64_t i = old; i <= last_block; ++i) pooled.sums[std::size_t(i)].assign(std::size_t(i + 1), 0.0);
  }
  grow(pooled.rows_in_block, last_block + 1);
  for (int64_t i = 0; i < r.n; ++i) {
    const int64_t position = r.first_position + i;
    const std::size_t at = row_base + std::size_t(i);
    acc.rows += 1;
    acc.positions.push_back(position);
    acc.top1.push_back(r.row_top1[at]);
    acc.row_entropy.push_back(r.row_entropy[at]);
    acc.entropy_sum += double(r.row_entropy[at]);
    if (position >= options.sink_tokens) {
      acc.sink_mass_sum += double(r.row_sink[at]);
      acc.sink_rows += 1;
    }
    if (position >= options.local_window) {
      acc.local_mass_sum += double(r.row_local[at]);
      acc.local_rows += 1;
    }
    pooled.rows_in_block[std::size_t(position / block)] += 1;
    if (!exact.empty() && position < exact.query_end) {
      const int64_t start = position * (position + 1) / 2;
      grow(acc.exact, start + position + 1);
      const float* row = r.window_probs.data() + std::size_t(slot) * std::size_t(r.window.rows() * r.window.cols()) +
                         std::size_t((position - r.window.query_begin) * r.window.cols());
      std::memcpy(acc.exact.data() + start, row, std::size_t(position + 1) * sizeof(float));
      acc.exact_rows += 1;
    }
  }

  // Per key and per distance: keys [0, last], distances up to the longest row.
  const std::size_t key_base = std::size_t(slot) * std::size_t(r.key_count);
  grow(acc.column_sums, last + 1);
  for (int64_t k = first_key(r.first_position, r.sliding_window); k <= last; ++k)
    acc.column_sums[std::size_t(k)] += double(r.column_sums[key_base + std::size_t(k)]);
  const int64_t distances = last - first_key(last, r.sliding_window) + 1;
  grow(acc.diagonal_sums, distances);
  for (int64_t d = 0; d < distances; ++d) acc.diagonal_sums[std::size_t(d)] += double(r.diagonal_sums[key_base + std::size_t(d)]);

  // Pooled map: block rows of this call, key blocks each row can see.
  const std::size_t pooled_base = std::size_t(slot) * std::size_t(r.pooled_rows * r.pooled_cols);
  for (int64_t i = 0; i < r.pooled_rows; ++i) {
    const int64_t row_block = r.pooled_row0 + i;
    std::vector<double>& sums = pooled.sums[std::size_t(row_block)];
    for (int64_t j = 0; j <= row_block && j < r.pooled_cols; ++j)
      sums[std::size_t(j)] += double(r.pooled[pooled_base + std::size_t(i * r.pooled_cols + j)]);
  }
}

}  // namespace attnscope::kernels::cuda
