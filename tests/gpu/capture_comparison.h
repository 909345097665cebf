#pragma once
// The GPU capture tests' comparison of a CUDA capture with the CPU backend's, head by
// head, with the tolerances and their reasoning in one place.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/attention_capture.h"
#include "tests/gpu/attention_test_support.h"

namespace attnscope::testing::gpu {

inline kernels::CaptureOptions capture_options(int64_t sink, int64_t local, int64_t pool, bool exact, int64_t exact_limit) {
  kernels::CaptureOptions o;
  o.sink_tokens = sink;
  o.local_window = local;
  o.pool_block = pool;
  o.exact_probabilities = exact;
  o.exact_limit = exact_limit;
  return o;
}

// Probabilities from the two backends differ by fp32 score rounding (bf16 products are
// exact in fp32; sums of D of them in another order) times |s| < ~30, and by their
// exp approximations: ~2e-5 relative at worst. Device sums add fp32 atomics. A sum of
// such probabilities is within 5e-5 of its value (plus a floor for sums near 0).
inline constexpr double kRelative = 5e-5;
inline constexpr double kFloor = 1e-6;

inline bool close(double got, double want, double scale = 1.0) {
  return std::fabs(got - want) <= kRelative * std::fabs(want) + kFloor * scale;
}

template <typename V>
inline void require_close_vectors(const char* what, const V& got, const V& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!close(double(got[i]), double(want[i]))) {
      INFO(what << "[" << i << "] GPU " << got[i] << " CPU " << want[i]);
      REQUIRE(close(double(got[i]), double(want[i])));
    }
}

inline void compare(const Problem& p, const kernels::HeadAccumulator& gpu, const kernels::HeadAccumulator& cpu) {
  INFO("head " << cpu.head);
  REQUIRE(gpu.rows == cpu.rows);
  REQUIRE(gpu.positions == cpu.positions);
  REQUIRE(gpu.sink_rows == cpu.sink_rows);
  REQUIRE(gpu.local_rows == cpu.local_rows);
  REQUIRE(gpu.exact_rows == cpu.exact_rows);
  const double rows = double(cpu.rows);
  CHECK(close(gpu.sink_mass_sum, cpu.sink_mass_sum, rows));
  CHECK(close(gpu.local_mass_sum, cpu.local_mass_sum, rows));
  CHECK(std::fabs(gpu.entropy_sum - cpu.entropy_sum) <= 1e-4 * (rows + std::fabs(cpu.entropy_sum)));
  // Entropy of a row: error ~ sum |dp| (|ln p| + 1), relative ~2e-5 of p.
  REQUIRE(gpu.row_entropy.size() == cpu.row_entropy.size());
  for (std::size_t i = 0; i < cpu.row_entropy.size(); ++i)
    if (!(std::fabs(gpu.row_entropy[i] - cpu.row_entropy[i]) <= 1e-4 * (1.0 + cpu.row_entropy[i]))) {
      INFO("row " << i << " entropy GPU " << gpu.row_entropy[i] << " CPU " << cpu.row_entropy[i]);
      REQUIRE(std::fabs(gpu.row_entropy[i] - cpu.row_entropy[i]) <= 1e-4 * (1.0 + cpu.row_entropy[i]));
    }
  // Top-1: equal, or a near tie the two roundings order differently.
  REQUIRE(gpu.top1.size() == cpu.top1.size());
  for (std::size_t i = 0; i < cpu.top1.size(); ++i)
    if (gpu.top1[i] != cpu.top1[i]) {
      const int64_t pos = cpu.positions[i];
      const double a = reference_score(p, cpu.head, pos, gpu.top1[i]), b = reference_score(p, cpu.head, pos, cpu.top1[i]);
      INFO("position " << pos << " top-1 GPU " << gpu.top1[i] << " (score " << a << ") CPU " << cpu.top1[i] << " ("
                       << b << ")");
      REQUIRE(std::fabs(a - b) <= 1e-5 * (1.0 + std::fabs(b)));
    }
  require_close_vectors("column_sums", gpu.column_sums, cpu.column_sums);
  require_close_vectors("diagonal_sums", gpu.diagonal_sums, cpu.diagonal_sums);
  REQUIRE(gpu.pooled.block == cpu.pooled.block);
  REQUIRE(gpu.pooled.rows_in_block == cpu.pooled.rows_in_block);
  REQUIRE(gpu.pooled.sums.size() == cpu.pooled.sums.size());
  for (std::size_t i = 0; i < cpu.pooled.sums.size(); ++i) {
    INFO("pooled row block " << i);
    require_close_vectors("pooled", gpu.pooled.sums[i], cpu.pooled.sums[i]);
  }
  require_close_vectors("exact", gpu.exact, cpu.exact);
}

}  // namespace attnscope::testing::gpu
