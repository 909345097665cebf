#pragma once
// The statistics of accumulate_attention_row computed the plain way, in double, straight
// from the definitions in docs/metrics.md: one loop over every (row, key) pair. The
// capture tests compare the accumulators against it.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_capture.h"

namespace attnscope::testing {

// One query row: probabilities of keys [first_key, position] (keys before first_key,
// outside a sliding window, have probability 0).
struct ReferenceRow {
  int64_t position = 0;
  int64_t first_key = 0;
  std::vector<double> probs;
  double p(int64_t key) const { return key < first_key || key > position ? 0.0 : probs[size_t(key - first_key)]; }
};

struct ReferenceStatistics {
  int64_t rows = 0;
  double sink_mass_sum = 0;
  int64_t sink_rows = 0;
  double local_mass_sum = 0;
  int64_t local_rows = 0;
  double entropy_sum = 0;
  std::vector<double> column_sums;
  std::vector<double> diagonal_sums;
  std::vector<double> row_entropy;
  std::vector<int64_t> top1;
  std::vector<int64_t> positions;
  std::vector<std::vector<double>> pooled;  // [query block][key block <= query block]
  std::vector<int64_t> rows_in_block;
  std::vector<double> exact;                // packed lower triangle, as HeadAccumulator::exact
  int64_t exact_rows = 0;
};

ReferenceStatistics reference_statistics(const std::vector<ReferenceRow>& rows, const kernels::CaptureOptions& options);

// softmax(logits) of n random logits ~ N(0, spread^2): spread 1 gives flat rows, 30 rows
// where one key takes nearly everything and many probabilities underflow to 0.
std::vector<double> random_probabilities(std::mt19937& rng, int64_t n, double spread);

// How far an accumulator may be from the reference: |got - want| <= relative * want +
// absolute (all these statistics are sums of non-negative terms).
struct Tolerance {
  double sums_relative = 0;     // sink, local, column, diagonal and pooled sums; entropy_sum
  double sums_absolute = 0;     // floor for sums near 0
  double entropy_relative = 0;  // each row_entropy
  double entropy_absolute = 0;  // each row_entropy; entropy_sum gets rows times this
  double exact_absolute = 0;    // each exact probability
  double top1_tie_relative = 0; // top1 may be any key within this of the row's maximum; 0: the reference's
};

// "" when `got` matches `want` within `t`; else a description of the first mismatch
// of each statistic, one per line.
std::string mismatches(const kernels::HeadAccumulator& got, const ReferenceStatistics& want,
                       const std::vector<ReferenceRow>& rows, const Tolerance& t);

// Feeds the rows (rounded to float, as a backend hands them) to `acc`.
void accumulate_rows(kernels::HeadAccumulator& acc, const kernels::CaptureOptions& options,
                     const std::vector<ReferenceRow>& rows);

// The float values accumulate_rows passes, back in double: what the reference should see
// when both must agree to rounding of the sums only.
std::vector<ReferenceRow> as_float_rows(const std::vector<ReferenceRow>& rows);

}  // namespace attnscope::testing
