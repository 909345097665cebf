#pragma once
// Helpers of the CUDA benchmark programs (attention_bench, decode_attention_bench,
// block_sparse_bench): CUDA error checks, the device's properties, the random pool and
// device buffers of random 16-bit values, rotated input sets, event-timed medians, the
// common command-line options and the differences between two kernels' results.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/flash_attention.h"
#include "kernels/dtype.h"

namespace attnscope::bench {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// The current device's properties (name and SM count for the tables).
inline cudaDeviceProp device_properties() {
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop;
}

// 2^24 values ~ N(0, 1) in `dtype`, seeded: what every RandomBuffer is tiled from.
inline std::vector<uint16_t> random_pool(kernels::DType dtype) {
  std::vector<uint16_t> pool(std::size_t(1) << 24);
  std::mt19937 rng(12345);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (uint16_t& x : pool)
    x = dtype == kernels::DType::BF16 ? kernels::f32_to_bf16(dist(rng)) : kernels::f32_to_f16(dist(rng));
  return pool;
}

// A device buffer of `count` 16-bit values filled from a random pool (tiled with
// shifting offsets, so rows differ).
struct RandomBuffer {
  void* data = nullptr;
  explicit RandomBuffer(std::size_t count, const std::vector<uint16_t>& pool) {
    check(cudaMalloc(&data, count * 2), "cudaMalloc");
    void* staging = nullptr;
    check(cudaMalloc(&staging, pool.size() * 2), "cudaMalloc");
    check(cudaMemcpy(staging, pool.data(), pool.size() * 2, cudaMemcpyHostToDevice), "upload");
    std::size_t offset = 0, shift = 0;
    while (offset < count) {
      const std::size_t start = (shift * 7919) % (pool.size() / 2);
      const std::size_t n = std::min(count - offset, pool.size() - start);
      check(cudaMemcpy(static_cast<uint16_t*>(data) + offset, static_cast<uint16_t*>(staging) + start, n * 2,
                       cudaMemcpyDeviceToDevice),
            "fill");
      offset += n;
      ++shift;
    }
    check(cudaFree(staging), "cudaFree");
  }
  RandomBuffer(const RandomBuffer&) = delete;
  RandomBuffer& operator=(const RandomBuffer&) = delete;
  ~RandomBuffer() { cudaFree(data); }
};

// `sets` copies of q, the K and V caches and out, allocated set by set; timed run i reads
// set i % sets, so that repeats do not time the L2.
struct AttentionInputSets {
  int sets = 1;
  std::vector<std::unique_ptr<RandomBuffer>> q, kc, vc, out;
  AttentionInputSets(int set_count, std::size_t q_count, std::size_t kv_count, const std::vector<uint16_t>& pool)
      : sets(set_count) {
    for (int s = 0; s < sets; ++s) {
      q.push_back(std::make_unique<RandomBuffer>(q_count, pool));
      kc.push_back(std::make_unique<RandomBuffer>(kv_count, pool));
      vc.push_back(std::make_unique<RandomBuffer>(kv_count, pool));
      out.push_back(std::make_unique<RandomBuffer>(q_count, pool));
    }
  }
  // Points p's q, k, v and out at run i's set (rows of qw and kvw elements).
  void bind(kernels::cuda::FlashAttentionParams& p, int i, int64_t qw, int64_t kvw) const {
    const auto s = std::size_t(i % sets);
    p.q = q[s]->data, p.q_stride = qw;
    p.k = kc[s]->data, p.k_stride = kvw;
    p.v = vc[s]->data, p.v_stride = kvw;
    p.out = out[s]->data, p.out_stride = qw;
  }
};

// Median milliseconds of `reps` runs of f(i), each between two events, after 3 warm-ups.
template <typename F>
double median_ms(int reps, F&& f) {
  for (int i = 0; i < 3; ++i) f(i);
  check(cudaDeviceSynchronize(), "warm-up");
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "event");
  check(cudaEventCreate(&stop), "event");
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    check(cudaEventRecord(start), "record");
    f(i);
    check(cudaEventRecord(stop), "record");
    check(cudaEventSynchronize(stop), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "elapsed");
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// The options the attention benches share; each program adds its own through `extra`,
// which returns whether it took the argument (calling `value` for the argument's value).
struct AttentionBenchOptions {
  std::vector<int64_t> lengths;
  int heads = 32, kv_heads = 8, dim = 128;
  kernels::DType dtype = kernels::DType::BF16;
  int reps = 20;
  bool csv = false;
};

using ExtraOption = std::function<bool(const std::string& arg, const std::function<std::string()>& value)>;

// --lengths a,b,c --heads --kv-heads --dim --dtype bf16|f16 --reps --csv over `o`'s defaults.
inline void parse_attention_options(int argc, char** argv, AttentionBenchOptions& o, const ExtraOption& extra) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::function<std::string()> value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--lengths") {
      o.lengths.clear();
      std::stringstream s(value());
      for (std::string item; std::getline(s, item, ',');) o.lengths.push_back(std::stoll(item));
    } else if (arg == "--heads") {
      o.heads = std::stoi(value());
    } else if (arg == "--kv-heads") {
      o.kv_heads = std::stoi(value());
    } else if (arg == "--dim") {
      o.dim = std::stoi(value());
    } else if (arg == "--dtype") {
      const std::string d = value();
      if (d != "bf16" && d != "f16") throw std::runtime_error("--dtype is bf16 or f16");
      o.dtype = d == "bf16" ? kernels::DType::BF16 : kernels::DType::F16;
    } else if (arg == "--reps") {
      o.reps = std::max(1, std::stoi(value()));
    } else if (arg == "--csv") {
      o.csv = true;
    } else if (!extra(arg, value)) {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
}

// Relative L2 difference of b from a (NaN when their sizes differ or a value is NaN).
inline double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::quiet_NaN();
  double diff2 = 0, ref2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff2 += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    ref2 += double(a[i]) * double(a[i]);
  }
  return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
}

// The largest relative L2 difference over pairs of vectors; NaN where any is NaN.
inline double largest_relative_l2(
    std::initializer_list<std::pair<const std::vector<float>*, const std::vector<float>*>> pairs) {
  double worst = 0;
  for (const auto& [x, y] : pairs) {
    const double d = relative_l2(*x, *y);
    worst = std::isnan(d) || std::isnan(worst) ? std::numeric_limits<double>::quiet_NaN() : std::max(worst, d);
  }
  return worst;
}

// The largest absolute difference of a's values from b's (lse); NaN where any is NaN.
inline double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  bool nan = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    nan = nan || std::isnan(d);
    largest = std::max(largest, d);
  }
  return nan ? std::numeric_limits<double>::quiet_NaN() : largest;
}

// Rows whose top-1 key differs, over the rows both hold.
inline int64_t top1_differ(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  int64_t count = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) count += a[i] != b[i];
  return count;
}

}  // namespace attnscope::bench
