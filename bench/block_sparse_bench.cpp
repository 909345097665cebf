// Times the block-sparse attention forward (kernels/cuda/block_sparse_attention.h) at
// several densities beside our dense forward, and the mask lab's per-head re-evaluation on
// the GPU (kernels/cuda/mask_evaluation.h): B = 1, causal, one-shot prefill. Prints tables,
// or CSV with --csv (bench/flex_attention_bench.py runs this beside PyTorch FlexAttention
// and SDPA on the same block patterns).
//
//   block_sparse_bench [--lengths 8192,32768] [--densities 1,0.5,0.2,0.1,0.05] [--heads 32]
//                      [--kv-heads 8] [--dim 128] [--dtype bf16|f16] [--reps 20] [--csv]
//                      [--patterns DIR] [--eval-length 8192] [--no-eval] [--host-only]
//
// Pattern: per head and 64-row query block, the diagonal key block and key block 0 always,
// then other visible key blocks drawn at random (seeded) up to density x the visible
// blocks; every kept block full (causality masks the diagonal). --patterns DIR writes each
// pattern as pattern_<n>_<density per mille>.u8 ([heads][query blocks][key blocks], 1 =
// kept) for the Python script. FLOP/s count the kept entries: 4 D per (row, key).
//
// Mask-lab part (--eval-length): one layer of `heads` heads at that length, the dense side
// computed once (MaskEvaluator), then evaluate() timed per density with partial sets
// (per row a sink, a window and random columns at the density): the issue's "re-evaluate
// one layer's recall and error after a budget change" (target <= 50 ms at 32 heads, 8K).
//
// --host-only: no device is touched; times evaluate()'s host steps on the mask-lab sets
// (packing the sets into the upload layout, and the per-head results from the kernel's
// sums and rows, given made-up values), so they can be measured where no GPU is.
#include <cuda_runtime.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/cuda_bench_support.h"
#include "kernels/cuda/block_sparse_attention.h"
#include "kernels/cuda/kept_keys_upload.h"
#include "kernels/cuda/mask_evaluation.h"
#include "kernels/cuda/mask_metrics.h"
#include "kernels/dtype.h"

namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;
using attnscope::bench::check;
using attnscope::bench::median_ms;
using attnscope::bench::RandomBuffer;

namespace {

constexpr int64_t kBlock = 64;

struct Options {
  std::vector<int64_t> lengths{8192, 32768};
  std::vector<double> densities{1.0, 0.5, 0.2, 0.1, 0.05};
  int heads = 32, kv_heads = 8, dim = 128;
  k::DType dtype = k::DType::BF16;
  int reps = 20;
  bool csv = false;
  std::string patterns;
  int64_t eval_length = 8192;
  bool host_only = false;
};

template <typename T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) out.push_back(T(std::stod(item)));
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--lengths") o.lengths = parse_list<int64_t>(value());
    else if (arg == "--densities") o.densities = parse_list<double>(value());
    else if (arg == "--heads") o.heads = std::stoi(value());
    else if (arg == "--kv-heads") o.kv_heads = std::stoi(value());
    else if (arg == "--dim") o.dim = std::stoi(value());
    else if (arg == "--dtype") {
      const std::string d = value();
      if (d != "bf16" && d != "f16") throw std::runtime_error("--dtype is bf16 or f16");
      o.dtype = d == "bf16" ? k::DType::BF16 : k::DType::F16;
    } else if (arg == "--reps") o.reps = std::max(1, std::stoi(value()));
    else if (arg == "--csv") o.csv = true;
    else if (arg == "--patterns") o.patterns = value();
    else if (arg == "--eval-length") o.eval_length = std::stoll(value());
    else if (arg == "--no-eval") o.eval_length = 0;
    else if (arg == "--host-only") o.host_only = true;
    else throw std::runtime_error("unknown argument " + arg);
  }
  for (const double d : o.densities)
    if (!(d > 0 && d <= 1)) throw std::runtime_error("densities must be in (0, 1]");
  return o;
}

// [heads][query blocks][key blocks] of 0/1: the block pattern described above.
std::vector<uint8_t> block_pattern(int heads, int64_t n, double density, uint32_t seed) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<uint8_t> pattern(std::size_t(heads * blocks * blocks), 0);
  std::mt19937 rng(seed);
  std::vector<int64_t> others;
  for (int h = 0; h < heads; ++h)
    for (int64_t qb = 0; qb < blocks; ++qb) {
      uint8_t* row = pattern.data() + (h * blocks + qb) * blocks;
      const int64_t visible = qb + 1;
      const int64_t want = std::clamp<int64_t>(std::llround(density * double(visible)), std::min<int64_t>(2, visible), visible);
      row[0] = row[qb] = 1;
      others.clear();
      for (int64_t kb = 1; kb < qb; ++kb) others.push_back(kb);
      std::shuffle(others.begin(), others.end(), rng);
      for (int64_t i = 0; i < want - std::min<int64_t>(2, visible); ++i) row[others[std::size_t(i)]] = 1;
    }
  return pattern;
}

std::vector<k::KeptKeys> sets_of(const std::vector<uint8_t>& pattern, int heads, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<k::KeptKeys> sets;
  for (int h = 0; h < heads; ++h) {
    k::KeptKeysBuilder b(0, n, 0);
    for (int64_t qb = 0; qb < blocks; ++qb)
      for (int64_t kb = 0; kb <= qb; ++kb)
        if (pattern[std::size_t((h * blocks + qb) * blocks + kb)]) b.keep_block(qb, kb);
    sets.push_back(b.finish());
  }
  return sets;
}

// Per row: sinks [0, 4), a window and random runs of 8 keys, sized to the density: partial
// blocks everywhere (the mask lab's row-wise families look like this).
k::KeptKeys partial_set(int64_t n, double density, uint32_t seed) {
  k::KeptKeysBuilder b(0, n, 0);
  std::mt19937 rng(seed);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t budget = std::max<int64_t>(1, std::llround(density * double(r + 1)));
    const int64_t window = std::max<int64_t>(1, budget / 2);
    b.keep(r, 0, 4);
    b.keep(r, r - window + 1, r + 1);
    std::uniform_int_distribution<int64_t> key(0, r);
    for (int64_t i = 0; i < (budget - window - 4) / 8; ++i) {
      const int64_t c = key(rng);
      b.keep(r, c, c + 8);
    }
  }
  return b.finish();
}

// partial_set for each head (heads in parallel: the bench's own setup, not timed).
std::vector<k::KeptKeys> partial_sets(int heads, int64_t n, double density) {
  std::vector<k::KeptKeys> sets(static_cast<std::size_t>(heads));
#pragma omp parallel for schedule(dynamic, 1)
  for (int h = 0; h < heads; ++h) sets[std::size_t(h)] = partial_set(n, density, uint32_t(h) * 7919u + 1u);
  return sets;
}

double kept_entries(const std::vector<k::KeptKeys>& sets) {
  double total = 0;
  for (const k::KeptKeys& s : sets) total += double(s.kept_entries());
  return total;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Median milliseconds of packing `heads` into the upload layout (KeptKeysPacking and its
// write), into a host buffer touched before timing as the reused pinned one is.
double pack_ms(const std::vector<cuda::HeadKeptKeys>& heads, int64_t n, int reps) {
  const std::size_t bytes = cuda::KeptKeysPacking(heads, {0, n, 0}).bytes();
  std::vector<uint64_t> upload(bytes / 8 + 3, 0);
  char* at = reinterpret_cast<char*>(upload.data());
  at += (16 - reinterpret_cast<std::uintptr_t>(at) % 16) % 16;  // as aligned as the pinned buffer
  std::vector<double> times;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const cuda::KeptKeysPacking packing(heads, {0, n, 0});
    packing.write(at);
    times.push_back(ms_since(t0));
  }
  return median(times);
}

// --host-only: evaluate()'s host steps at each density, without a device.
void time_host_steps(const Options& o) {
  const int64_t n = o.eval_length;
  const int reps = std::max(3, o.reps / 4);
  std::printf("mask lab re-evaluation, host steps only: %d heads, %lld rows, %d threads, median of %d\n"
              "%8s %9s %11s %9s %9s %11s\n",
              o.heads, (long long)n, omp_get_max_threads(), reps, "density", "real", "kept blocks", "upload MB",
              "pack ms", "results ms");
  // Made-up kernel outputs: the results' cost does not depend on the values.
  std::vector<double> sums(std::size_t(o.heads) * cuda::kMaskSums, 1.0);
  std::vector<float> row_values(std::size_t(o.heads) * std::size_t(n));
  for (std::size_t i = 0; i < row_values.size(); ++i) row_values[i] = float(i % 977) / 977.0f;
  for (const double density : o.densities) {
    const std::vector<k::KeptKeys> sets = partial_sets(o.heads, n, density);
    std::vector<cuda::HeadKeptKeys> heads;
    int64_t blocks = 0;
    for (int h = 0; h < o.heads; ++h) {
      heads.push_back({h, &sets[std::size_t(h)]});
      blocks += sets[std::size_t(h)].kept_blocks();
    }
    std::vector<double> results;
    const std::vector<int64_t> first(heads.size(), 0);
    for (int rep = 0; rep < reps; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto evaluations = cuda::head_evaluations(heads, first, n, sums.data(), row_values.data(), row_values.data(), 5);
      results.push_back(ms_since(t0));
      if (evaluations.size() != heads.size()) throw std::runtime_error("head_evaluations lost heads");
    }
    const std::size_t bytes = cuda::KeptKeysPacking(heads, {0, n, 0}).bytes();
    const double real = kept_entries(sets) / (double(o.heads) * double(n) * double(n + 1) / 2);
    std::printf("%8.3f %9.4f %11lld %9.1f %9.2f %11.2f\n", density, real, (long long)blocks, double(bytes) / 1e6,
                pack_ms(heads, n, reps), median(results));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  if (o.host_only) {
    time_host_steps(o);
    return 0;
  }
  const cudaDeviceProp prop = attnscope::bench::device_properties();
  const std::vector<uint16_t> pool = attnscope::bench::random_pool(o.dtype);

  if (o.csv)
    std::printf("n,density,real_density,kept_blocks,sparse_ms,sparse_tflops,dense_ms,dense_kernel,dense_over_sparse\n");
  else
    std::printf("%s, %d SMs; B=1 heads %d/%d dim %d %s causal, median of %d\n%8s %8s %9s %11s %10s %9s %9s %9s %9s\n",
                prop.name, prop.multiProcessorCount, o.heads, o.kv_heads, o.dim,
                o.dtype == k::DType::BF16 ? "bf16" : "f16", o.reps, "n", "density", "real", "kept blocks", "sparse ms",
                "TFLOP/s", "dense ms", "kernel", "dense/sp");
  const int64_t qw = int64_t(o.heads) * o.dim, kvw = int64_t(o.kv_heads) * o.dim;
  const k::AttentionShape shape{o.heads, o.kv_heads, o.dim, 0, 0, float(1.0 / std::sqrt(double(o.dim)))};
  std::vector<int> all_heads(std::size_t(o.heads));
  std::iota(all_heads.begin(), all_heads.end(), 0);
  for (const int64_t n : o.lengths) {
    // Inputs smaller than 256 MiB rotate over three copies, so repeats do not time the L2.
    const int copies = n * (2 * qw + 2 * kvw) * 2 < (int64_t(256) << 20) ? 3 : 1;
    const attnscope::bench::AttentionInputSets inputs(copies, std::size_t(n * qw), std::size_t(n * kvw), pool);
    auto params = [&](int i) {
      cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, n, o.dtype);
      inputs.bind(p, i, qw, kvw);
      return p;
    };
    const cuda::FlashKernel dense_kernel = cuda::choose_flash_kernel(params(0), cuda::flash_kernel_from_environment());
    const double dense_ms =
        median_ms(o.reps, [&](int i) { cuda::flash_attention_forward(params(i), nullptr, dense_kernel); });
    for (const double density : o.densities) {
      const std::vector<uint8_t> pattern = block_pattern(o.heads, n, density, uint32_t(n) * 1000u + uint32_t(density * 1000));
      if (!o.patterns.empty()) {
        std::ofstream file(o.patterns + "/pattern_" + std::to_string(n) + "_" + std::to_string(std::lround(density * 1000)) +
                               ".u8",
                           std::ios::binary);
        file.write(reinterpret_cast<const char*>(pattern.data()), std::streamsize(pattern.size()));
        if (!file) throw std::runtime_error("cannot write the pattern into " + o.patterns);
      }
      const std::vector<k::KeptKeys> sets = sets_of(pattern, o.heads, n);
      std::vector<cuda::HeadKeptKeys> heads;
      int64_t blocks = 0;
      for (int h = 0; h < o.heads; ++h) {
        heads.push_back({h, &sets[std::size_t(h)]});
        blocks += sets[std::size_t(h)].kept_blocks();
      }
      cuda::KeptKeysUpload upload;
      const cuda::DeviceKeptKeys device_sets = upload.upload(heads, {0, n, 0}, nullptr);
      const double sparse_ms = median_ms(o.reps, [&](int i) {
        cuda::block_sparse_attention_forward({params(i), device_sets, nullptr, 0}, nullptr);
      });
      const double entries = kept_entries(sets);
      const double real = entries / (double(o.heads) * double(n) * double(n + 1) / 2);
      const double tflops = 4.0 * o.dim * entries / (sparse_ms * 1e-3) / 1e12;
      const char* kernel = dense_kernel == cuda::FlashKernel::Hopper ? "hopper" : "portable";
      if (o.csv)
        std::printf("%lld,%.3f,%.4f,%lld,%.4f,%.1f,%.4f,%s,%.3f\n", (long long)n, density, real, (long long)blocks,
                    sparse_ms, tflops, dense_ms, kernel, dense_ms / sparse_ms);
      else
        std::printf("%8lld %8.3f %9.4f %11lld %10.3f %9.1f %9.3f %9s %9.2f\n", (long long)n, density, real,
                    (long long)blocks, sparse_ms, tflops, dense_ms, kernel, dense_ms / sparse_ms);
      std::fflush(stdout);
    }
  }

  if (o.eval_length > 0) {
    const int64_t n = o.eval_length;
    RandomBuffer q(std::size_t(n * qw), pool), kc(std::size_t(n * kvw), pool), vc(std::size_t(n * kvw), pool);
    cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, n, o.dtype);
    p.q = q.data, p.q_stride = qw;
    p.k = kc.data, p.k_stride = kvw;
    p.v = vc.data, p.v_stride = kvw;
    auto t0 = std::chrono::steady_clock::now();
    cuda::MaskEvaluator evaluator(p, nullptr);
    check(cudaDeviceSynchronize(), "dense side");
    const double setup_ms = ms_since(t0);
    if (o.csv)
      std::printf("\neval_n,heads,density,real_density,evaluate_ms,setup_ms,mean_recall,pack_ms\n");
    else
      std::printf("\nmask lab re-evaluation, one layer: %d heads, %lld rows (dense side once: %.1f ms)\n"
                  "%8s %9s %13s %12s %9s\n",
                  o.heads, (long long)n, setup_ms, "density", "real", "evaluate ms", "mean recall", "pack ms");
    for (const double density : o.densities) {
      const std::vector<k::KeptKeys> sets = partial_sets(o.heads, n, density);
      std::vector<cuda::HeadKeptKeys> heads;
      for (int h = 0; h < o.heads; ++h) heads.push_back({h, &sets[std::size_t(h)]});
      std::vector<double> times;
      double recall = 0;
      for (int rep = 0; rep < std::max(3, o.reps / 4); ++rep) {
        t0 = std::chrono::steady_clock::now();
        const std::vector<cuda::DeviceHeadEvaluation> results = evaluator.evaluate(heads);
        times.push_back(ms_since(t0));
        recall = 0;
        for (const auto& r : results) recall += r.recall / double(results.size());
      }
      const double real = kept_entries(sets) / (double(o.heads) * double(n) * double(n + 1) / 2);
      // The host's share of evaluate: packing the sets (the rest is the copy, the kernels
      // and the results).
      const double pack = pack_ms(heads, n, std::max(3, o.reps / 4));
      if (o.csv)
        std::printf("%lld,%d,%.3f,%.4f,%.3f,%.1f,%.4f,%.3f\n", (long long)n, o.heads, density, real, median(times),
                    setup_ms, recall, pack);
      else
        std::printf("%8.3f %9.4f %13.2f %12.4f %9.2f\n", density, real, median(times), recall, pack);
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "block_sparse_bench: %s\n", e.what());
  return 1;
}
