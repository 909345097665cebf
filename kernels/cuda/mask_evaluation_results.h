#pragma once
// The mask lab's per-head results on the GPU (mask_evaluation.h) from what the masked-recall
// kernel (mask_metrics.h) leaves, once downloaded: per-head sums and per-row recalls and
// errors. Host only, so a CPU test checks it: density from the sets' own counts (kept
// entries are counted when a set is built), means from the sums, and each head's worst rows
// in one pass over its rows (0.5 ms for 32 heads of 8K rows on one core).
//
// Pure C++ header.
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cuda/kept_keys_upload.h"

namespace attnscope::kernels::cuda {

struct DeviceRowError {
  int64_t row = 0;  // of the call
  double recall = 0;
  double output_rel_l2 = 0;
};

struct DeviceHeadEvaluation {
  int head = 0;
  int64_t first_row = 0;  // rows [first_row, rows) evaluated
  int64_t rows = 0;
  int64_t kept_entries = 0;
  int64_t visible_entries = 0;
  double density = 0;
  double recall = 0;  // mean over rows
  double min_recall = 0;
  double output_rel_l2 = 0;  // ||O_s - O_f||_F / ||O_f||_F over the rows
  double output_cosine = 0;  // mean over rows
  std::vector<DeviceRowError> worst_rows;  // largest row relative L2 first (ties: lower row)
};

// Set i's results for rows [first_rows[i], n) of a call of n rows: `sums` [sets][kMaskSums]
// as mask_metrics leaves them; `row_recall` and `row_error` [sets][n] (read only when
// worst_rows > 0; rows before a set's first row are not read).
std::vector<DeviceHeadEvaluation> head_evaluations(std::span<const HeadKeptKeys> sets,
                                                   std::span<const int64_t> first_rows, int64_t n,
                                                   const double* sums, const float* row_recall,
                                                   const float* row_error, int worst_rows);

}  // namespace attnscope::kernels::cuda
