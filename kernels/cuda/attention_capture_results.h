#pragma once
// The capture pass's results for one attention call, on the host, and how they fold
// into a head's accumulator. Pure C++: the merge is tested without a GPU.
#include <cstdint>
#include <vector>

#include "kernels/attention_capture.h"

namespace attnscope::kernels::cuda {

// Exact probabilities of query positions [query_begin, query_end) over key positions
// [key_begin, key_end): the "zoom" of a view, or the exact rows of CaptureOptions.
struct ProbabilityWindow {
  int64_t query_begin = 0, query_end = 0;
  int64_t key_begin = 0, key_end = 0;
  bool empty() const { return query_end <= query_begin || key_end <= key_begin; }
  int64_t rows() const { return empty() ? 0 : query_end - query_begin; }
  int64_t cols() const { return empty() ? 0 : key_end - key_begin; }
};

// Per captured head ("slot", in the order of `heads`), for the call's n query rows at
// positions first_position + r. Sums are fp32 (atomics on the device).
struct CaptureResults {
  std::vector<int> heads;
  int64_t n = 0;
  int64_t first_position = 0;
  int64_t sliding_window = 0;
  int64_t key_count = 0;  // first_position + n
  bool statistics = true;

  std::vector<float> row_sink;     // [slot][n]: mass on keys [0, sink_tokens)
  std::vector<float> row_local;    // [slot][n]: mass on keys (pos - local_window, pos]
  std::vector<float> row_entropy;  // [slot][n]: nats
  std::vector<int32_t> row_top1;   // [slot][n]: key position
  std::vector<float> column_sums;    // [slot][key_count]
  std::vector<float> diagonal_sums;  // [slot][key_count]: by distance pos - key

  int64_t pool_block = 64;
  int64_t pooled_row0 = 0;  // first query block of this call
  int64_t pooled_rows = 0;
  int64_t pooled_cols = 0;  // key blocks [0, pooled_cols)
  std::vector<float> pooled;  // [slot][pooled_rows][pooled_cols]

  ProbabilityWindow window;
  std::vector<float> window_probs;  // [slot][window.rows()][window.cols()]
};

// The window that holds the exact rows CaptureOptions asks for in a call of n rows
// from first_position: rows below exact_limit, keys [0, last such row].
ProbabilityWindow exact_rows_window(const CaptureOptions& options, int64_t first_position, int64_t n);

// Folds slot `slot` of `results` into `acc` exactly as accumulate_attention_row would
// fold those rows one by one (in position order). Exact rows come from
// results.window, which must be exact_rows_window(options, ...).
// = merge_capture_rows(results, row_data(results), ...) + merge_key_sums(results, ...).
void merge_capture_results(const CaptureResults& results, int slot, const CaptureOptions& options,
                           HeadAccumulator& acc);

// Where a call's per-row records, pooled rows and exact window lie, each in the layout
// of CaptureResults' vector of the same name: in those vectors (row_data), or in a
// staging buffer the device's results were copied into (capture_staging.h).
struct CaptureRowData {
  const float* row_sink = nullptr;
  const float* row_local = nullptr;
  const float* row_entropy = nullptr;
  const int32_t* row_top1 = nullptr;
  const float* pooled = nullptr;
  const float* window_probs = nullptr;
};
CaptureRowData row_data(const CaptureResults& results);

// The part of merge_capture_results that is not per key: per-row records (counts,
// sink and local mass, entropy, top-1, positions), pooled rows and exact rows, for a
// call of `shape` (its vectors are not read) whose data lie at `data`. For a backend
// that keeps the per-key sums elsewhere (the CUDA backend: on the device, in fp64).
void merge_capture_rows(const CaptureResults& shape, const CaptureRowData& data, int slot,
                        const CaptureOptions& options, HeadAccumulator& acc);

// Key positions whose column sums, and distances whose diagonal sums, a call of n rows
// from first_position touches: columns [column_begin, column_end), distances
// [0, distance_end) (under a sliding window the first rows see no earlier keys).
// Per-key sums kept in fp64 on the device, [slot][stride] columns and diagonals (the
// capture pipeline's DeviceKeySums), which the split-KV decode capture adds to itself.
struct Fp64KeySums {
  double* columns = nullptr;
  double* diagonals = nullptr;
  int64_t stride = 0;
};

struct KeySumRange {
  int64_t column_begin = 0, column_end = 0, distance_end = 0;
};
KeySumRange key_sum_range(int64_t first_position, int64_t n, int64_t sliding_window);

// The other part: adds slot `slot`'s fp32 column and diagonal sums over key_sum_range.
void merge_key_sums(const CaptureResults& results, int slot, HeadAccumulator& acc);

// Adds per-key sums kept elsewhere (the device's fp64 sums of many calls) into acc:
// columns [0, column_length) and distances [0, distance_length), growing acc's
// vectors to those lengths.
void add_key_sums(const double* columns, int64_t column_length, const double* diagonals, int64_t distance_length,
                  HeadAccumulator& acc);

}  // namespace attnscope::kernels::cuda
