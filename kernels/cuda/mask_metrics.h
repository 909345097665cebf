#pragma once
// The masked-recall kernel: per-head recall and output error of sparse attention against
// dense attention, on the device (the mask lab's per-head evaluation,
// analysis/masks/head_evaluation.h, made from the attention kernels' own outputs).
//
// Per evaluated row r of a head, with lse_kept the block-sparse kernel's log-sum-exp over
// the kept keys and lse_full the dense one:
//   recall(r) = sum over kept keys of exp(s - lse_full(r)) = exp(lse_kept(r) - lse_full(r))
//   (capped at 1 as the CPU caps it), and from the fp32 outputs O_s (sparse) and O_f
//   (dense) the sums d2 = ||O_s - O_f||^2, f2 = ||O_f||^2 and the cosine.
// Per head (double sums, one atomic per block and quantity): the sum and the minimum of
// the recalls, the sums of d2 and f2 and of the row cosines; the host divides
// (mask_evaluation.h). Per row (optional): the recall and ||O_s - O_f|| / ||O_f||, from
// which the host takes the worst rows.
//
// Pure C++ header.
#include <cstdint>

struct CUstream_st;

namespace attnscope::kernels::cuda {

// Doubles per set in MaskMetricsParams::sums.
enum MaskSum { kRecallSum = 0, kMinRecall = 1, kDiff2 = 2, kFull2 = 3, kCosineSum = 4, kMaskSums = 5 };

struct MaskMetricsParams {
  const float* dense_out = nullptr;   // [n, heads * head_dim], row stride out_stride
  const float* sparse_out = nullptr;  // the same layout
  int64_t out_stride = 0;
  const float* dense_lse = nullptr;   // [head][lse_stride] (natural log)
  const float* sparse_lse = nullptr;
  int64_t lse_stride = 0;
  int64_t n = 0;
  int head_dim = 0;
  int sets = 0;
  const int32_t* heads = nullptr;       // device [sets]: each set's query head
  const int64_t* first_rows = nullptr;  // device [sets]: rows [first_row, n) are evaluated
  double* sums = nullptr;               // device [sets][kMaskSums], set here (no zeroing needed)
  float* row_recall = nullptr;          // device [sets][n] or null (rows before first_row untouched)
  float* row_error = nullptr;           // device [sets][n] or null
};

// Queues the kernels on `stream`. Throws attnscope::Error for missing arrays, a head dim
// above 128 or n below 0, and for a launch failure.
void mask_metrics(const MaskMetricsParams& params, CUstream_st* stream);

}  // namespace attnscope::kernels::cuda
