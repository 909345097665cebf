// merge_capture_results against accumulate_attention_row: results built on the host
// from the same probability rows (as the device would sum them) must fold into an
// accumulator the same way the CPU folds the rows one by one, over chunked calls,
// sliding windows, pool blocks and exact rows. Runs without a GPU.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/attention_capture.h"
#include "kernels/cuda/attention_capture_results.h"

namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;

namespace {

int64_t first_key(int64_t pos, int64_t window) { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }

// Softmax rows of random scores over each row's visible keys.
std::vector<std::vector<float>> random_rows(int64_t total, int64_t window, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 2.0);
  std::vector<std::vector<float>> rows(static_cast<std::size_t>(total));
  for (int64_t pos = 0; pos < total; ++pos) {
    std::vector<double> s(std::size_t(pos - first_key(pos, window) + 1));
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(dist(rng)));
    for (double x : s) rows[std::size_t(pos)].push_back(float(x / sum));
  }
  return rows;
}

// What the device computes for one head and the call's rows [first, first + n).
cuda::CaptureResults device_like_results(const std::vector<std::vector<float>>& rows, int64_t first, int64_t n,
                                         int64_t window, const k::CaptureOptions& o) {
  cuda::CaptureResults r;
  r.heads = {0};
  r.n = n;
  r.first_position = first;
  r.sliding_window = window;
  r.key_count = first + n;
  r.pool_block = o.pool_block;
  const int64_t last = first + n - 1, b = o.pool_block;
  r.pooled_row0 = first / b;
  r.pooled_rows = last / b - r.pooled_row0 + 1;
  r.pooled_cols = last / b + 1;
  r.window = cuda::exact_rows_window(o, first, n);
  r.column_sums.assign(std::size_t(r.key_count), 0.0f);
  r.diagonal_sums.assign(std::size_t(r.key_count), 0.0f);
  r.pooled.assign(std::size_t(r.pooled_rows * r.pooled_cols), 0.0f);
  r.window_probs.assign(std::size_t(r.window.rows() * r.window.cols()), 0.0f);
  for (int64_t pos = first; pos <= last; ++pos) {
    const std::vector<float>& p = rows[std::size_t(pos)];
    const int64_t k0 = first_key(pos, window);
    double sink = 0, local = 0, entropy = 0;
    int64_t top = k0;
    for (int64_t key = k0; key <= pos; ++key) {
      const float x = p[std::size_t(key - k0)];
      if (key < o.sink_tokens) sink += x;
      if (key > pos - o.local_window) local += x;
      if (x > 0) entropy -= double(x) * std::log(double(x));
      if (x > p[std::size_t(top - k0)]) top = key;
      r.column_sums[std::size_t(key)] += x;
      r.diagonal_sums[std::size_t(pos - key)] += x;
      r.pooled[std::size_t((pos / b - r.pooled_row0) * r.pooled_cols + key / b)] += x;
      if (pos < r.window.query_end && key < r.window.key_end)
        r.window_probs[std::size_t((pos - r.window.query_begin) * r.window.cols() + key)] = x;
    }
    r.row_sink.push_back(float(sink));
    r.row_local.push_back(float(local));
    r.row_entropy.push_back(float(entropy));
    r.row_top1.push_back(int32_t(top));
  }
  return r;
}

void require_near(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
}

}  // namespace

TEST_CASE("merging device results equals accumulating the rows one by one", "[capture][merge]") {
  struct Case {
    int64_t total, window;
    std::vector<int64_t> chunks;
    k::CaptureOptions options;
  };
  k::CaptureOptions exact;
  exact.exact_probabilities = true;
  exact.exact_limit = 150;
  k::CaptureOptions odd;
  odd.sink_tokens = 1;
  odd.local_window = 5;
  odd.pool_block = 48;
  k::CaptureOptions small;
  small.pool_block = 7;
  small.exact_probabilities = true;
  small.exact_limit = 1000;
  const std::vector<Case> cases = {
      {300, 0, {300}, exact},
      {300, 0, {1, 100, 99, 1, 99}, exact},
      {260, 37, {64, 64, 132}, odd},
      {200, 0, {50, 150}, small},
      {200, 3, {199, 1}, small},
  };
  uint32_t seed = 10;
  for (const Case& c : cases) {
    INFO("total " << c.total << " window " << c.window << " pool " << c.options.pool_block);
    const auto rows = random_rows(c.total, c.window, ++seed);
    k::HeadAccumulator cpu, merged;
    int64_t first = 0;
    for (int64_t n : c.chunks) {
      for (int64_t pos = first; pos < first + n; ++pos)
        k::accumulate_attention_row(cpu, c.options, pos, rows[std::size_t(pos)].data(), first_key(pos, c.window));
      cuda::merge_capture_results(device_like_results(rows, first, n, c.window, c.options), 0, c.options, merged);
      first += n;
    }
    REQUIRE(merged.rows == cpu.rows);
    REQUIRE(merged.positions == cpu.positions);
    REQUIRE(merged.top1 == cpu.top1);
    REQUIRE(merged.sink_rows == cpu.sink_rows);
    REQUIRE(merged.local_rows == cpu.local_rows);
    REQUIRE(merged.exact_rows == cpu.exact_rows);
    CHECK(merged.sink_mass_sum == Approx(cpu.sink_mass_sum).epsilon(1e-5));
    CHECK(merged.local_mass_sum == Approx(cpu.local_mass_sum).epsilon(1e-5));
    CHECK(merged.entropy_sum == Approx(cpu.entropy_sum).epsilon(1e-5));
    REQUIRE(merged.row_entropy.size() == cpu.row_entropy.size());
    for (std::size_t i = 0; i < cpu.row_entropy.size(); ++i)
      REQUIRE(merged.row_entropy[i] == Approx(cpu.row_entropy[i]).epsilon(1e-5).margin(1e-6));
    require_near(merged.column_sums, cpu.column_sums);
    require_near(merged.diagonal_sums, cpu.diagonal_sums);
    REQUIRE(merged.pooled.block == cpu.pooled.block);
    REQUIRE(merged.pooled.rows_in_block == cpu.pooled.rows_in_block);
    REQUIRE(merged.pooled.sums.size() == cpu.pooled.sums.size());
    for (std::size_t i = 0; i < cpu.pooled.sums.size(); ++i) require_near(merged.pooled.sums[i], cpu.pooled.sums[i]);
    REQUIRE(merged.exact == cpu.exact);
  }
}

TEST_CASE("merging refuses results pooled by another block size", "[capture][merge]") {
  k::CaptureOptions o;
  const auto rows = random_rows(10, 0, 3);
  k::HeadAccumulator acc;
  acc.pooled.block = 32;
  acc.pooled.sums.assign(1, std::vector<double>(1, 0.0));
  acc.pooled.rows_in_block.assign(1, 0);
  CHECK_THROWS(cuda::merge_capture_results(device_like_results(rows, 0, 10, 0, o), 0, o, acc));
}
