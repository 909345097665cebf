// Times the CUDA attention forward and the capture pass (all heads captured), each on
// each kernel (the portable one and, on compute capability 9.0, the Hopper one), at
// several sequence lengths: B = 1, causal, one-shot prefill. Prints a table, or CSV with
// --csv (bench/attention_vs_sdpa.py runs this beside PyTorch's SDPA).
//
//   attention_bench [--lengths 4096,16384,32768,65536] [--heads 32] [--kv-heads 8]
//                   [--dim 128] [--dtype bf16|f16] [--reps 20] [--merge] [--csv]
//
// Inputs are random (never zeros); sets smaller than 256 MiB are rotated three ways so
// that repeated runs do not time the L2 cache. Each run is timed with CUDA events; the
// median is reported. Where both kernels run, their outputs are compared on 64 sampled
// rows (relative L2 difference) and their lse on every row (largest difference): a
// check at lengths the tests do not reach; so are the two capture kernels' results (cap
// diff: the largest relative L2 difference of column, diagonal and pooled sums and of
// row entropies; top-1 keys that differ). --merge also times downloading the capture
// results and merging them into accumulators on the host (what a captured prefill pays
// per call).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/cuda_bench_support.h"
#include "kernels/attention_capture.h"
#include "kernels/cuda/attention_capture_kernels.h"
#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/dtype.h"

namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;

namespace {

using attnscope::bench::check;
using attnscope::bench::median_ms;
using attnscope::bench::RandomBuffer;

struct Options {
  std::vector<int64_t> lengths{4096, 16384, 32768, 65536};
  int heads = 32, kv_heads = 8, dim = 128;
  k::DType dtype = k::DType::BF16;
  int reps = 20;
  bool merge = false, csv = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
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
      o.dtype = d == "bf16" ? k::DType::BF16 : k::DType::F16;
    } else if (arg == "--reps") {
      o.reps = std::max(1, std::stoi(value()));
    } else if (arg == "--merge") {
      o.merge = true;
    } else if (arg == "--csv") {
      o.csv = true;
    } else {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
  return o;
}

// Output rows (at most 64, spread over n, the last row included) and all of lse after
// one forward, for comparing two kernels on the same inputs.
struct ForwardSample {
  std::vector<uint16_t> rows;
  std::vector<float> lse;
};

ForwardSample sample_forward(const cuda::FlashAttentionParams& p, cuda::FlashKernel kernel) {
  const int64_t width = int64_t(p.num_heads) * p.head_dim;
  check(cudaMemset(p.out, 0xff, size_t(p.n * p.out_stride) * 2), "poison out");  // NaN in bf16 and fp16
  cuda::flash_attention_forward(p, nullptr, kernel);
  check(cudaDeviceSynchronize(), "forward");
  const int64_t count = std::min<int64_t>(64, p.n);
  ForwardSample sample;
  sample.rows.resize(size_t(count * width));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t row = count == 1 ? p.n - 1 : i * (p.n - 1) / (count - 1);
    const uint16_t* from = static_cast<const uint16_t*>(p.out) + row * p.out_stride;
    check(cudaMemcpy(sample.rows.data() + i * width, from, size_t(width) * 2, cudaMemcpyDeviceToHost),
          "download out row");
  }
  sample.lse.resize(size_t(p.num_heads * p.n));
  check(cudaMemcpy(sample.lse.data(), p.lse, sample.lse.size() * 4, cudaMemcpyDeviceToHost), "download lse");
  return sample;
}

// Relative L2 difference of b's rows from a's and the largest lse difference (NaN when
// either holds a NaN: an unwritten or broken element).
std::pair<double, double> compare(const ForwardSample& a, const ForwardSample& b, k::DType dtype) {
  auto value = [&](uint16_t v) { return double(dtype == k::DType::BF16 ? k::bf16_to_f32(v) : k::f16_to_f32(v)); };
  double diff2 = 0, ref2 = 0, lse = 0;
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const double x = value(a.rows[i]), y = value(b.rows[i]);
    diff2 += (x - y) * (x - y);
    ref2 += x * x;
  }
  bool nan = false;
  for (size_t i = 0; i < a.lse.size(); ++i) {
    const double d = std::fabs(double(a.lse[i]) - double(b.lse[i]));
    nan = nan || std::isnan(d);
    lse = std::max(lse, d);
  }
  return {std::sqrt(diff2 / ref2), nan ? std::numeric_limits<double>::quiet_NaN() : lse};
}

// The capture kernel the pass uses while the object lives (ATTNSCOPE_CAPTURE_KERNEL).
class ScopedCaptureKernel {
 public:
  explicit ScopedCaptureKernel(cuda::FlashKernel kernel) {
    const char* old = std::getenv(kVariable);
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    setenv(kVariable, kernel == cuda::FlashKernel::Hopper ? "hopper" : "portable", 1);
  }
  ScopedCaptureKernel(const ScopedCaptureKernel&) = delete;
  ScopedCaptureKernel& operator=(const ScopedCaptureKernel&) = delete;
  ~ScopedCaptureKernel() { had_old_ ? setenv(kVariable, old_.c_str(), 1) : unsetenv(kVariable); }

 private:
  static constexpr const char* kVariable = "ATTNSCOPE_CAPTURE_KERNEL";
  bool had_old_ = false;
  std::string old_;
};

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff2 += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    ref2 += double(a[i]) * double(a[i]);
  }
  return a.size() != b.size() ? std::numeric_limits<double>::quiet_NaN() : ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
}

// How far the Hopper capture's results are from the portable one's: the largest relative
// L2 difference over column, diagonal and pooled sums and row entropies (NaN where a
// value is NaN), and the number of rows whose top-1 key differs.
std::pair<double, int64_t> compare(const cuda::CaptureResults& a, const cuda::CaptureResults& b) {
  double worst = 0;
  for (const auto& [x, y] : {std::pair{&a.column_sums, &b.column_sums}, std::pair{&a.diagonal_sums, &b.diagonal_sums},
                             std::pair{&a.pooled, &b.pooled}, std::pair{&a.row_entropy, &b.row_entropy}}) {
    const double d = relative_l2(*x, *y);
    worst = std::isnan(d) || std::isnan(worst) ? std::numeric_limits<double>::quiet_NaN() : std::max(worst, d);
  }
  int64_t top1 = 0;
  for (size_t i = 0; i < a.row_top1.size() && i < b.row_top1.size(); ++i) top1 += a.row_top1[i] != b.row_top1[i];
  return {worst, top1};
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");

  std::vector<uint16_t> pool(std::size_t(1) << 24);
  std::mt19937 rng(12345);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (uint16_t& x : pool) x = o.dtype == k::DType::BF16 ? k::f32_to_bf16(dist(rng)) : k::f32_to_f16(dist(rng));

  if (o.csv) {
    std::printf("n,heads,kv_heads,dim,portable_ms,portable_tflops,hopper_ms,hopper_tflops,hopper_out_diff,"
                "hopper_lse_diff,fwd_kernel,fwd_ms,fwd_tflops,capture_ms,capture_over_fwd,merge_ms,capture_kernel,"
                "capture_portable_ms,capture_hopper_ms,capture_diff,capture_top1_differ\n");
  } else {
    std::printf("%s, %d SMs; B=1 heads %d/%d dim %d %s causal, median of %d\n", prop.name, prop.multiProcessorCount,
                o.heads, o.kv_heads, o.dim, o.dtype == k::DType::BF16 ? "bf16" : "f16", o.reps);
    std::printf("%8s %11s %9s %10s %9s %9s %9s %9s %9s %9s %9s %7s %9s\n", "n", "portable ms", "TFLOP/s",
                "hopper ms", "TFLOP/s", "out diff", "lse diff", "cap port", "cap hopp", "cap/fwd", "cap diff",
                "top1 !=", "merge ms");
  }
  for (int64_t n : o.lengths) {
    const int64_t qw = int64_t(o.heads) * o.dim, kvw = int64_t(o.kv_heads) * o.dim;
    const int64_t set_bytes = n * (2 * qw + 2 * kvw) * 2;
    const int sets = set_bytes < (int64_t(256) << 20) ? 3 : 1;
    std::vector<std::unique_ptr<RandomBuffer>> q, kc, vc, out;
    for (int s = 0; s < sets; ++s) {
      q.push_back(std::make_unique<RandomBuffer>(std::size_t(n * qw), pool));
      kc.push_back(std::make_unique<RandomBuffer>(std::size_t(n * kvw), pool));
      vc.push_back(std::make_unique<RandomBuffer>(std::size_t(n * kvw), pool));
      out.push_back(std::make_unique<RandomBuffer>(std::size_t(n * qw), pool));
    }
    cuda::CaptureWorkspace workspace;
    float* lse = workspace.lse_buffer(o.heads, n);
    const k::AttentionShape shape{o.heads, o.kv_heads, o.dim, 0, 0, float(1.0 / std::sqrt(double(o.dim)))};
    auto params = [&](int i) {
      cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, n, o.dtype);
      const int s = i % sets;
      p.q = q[std::size_t(s)]->data;
      p.q_stride = qw;
      p.k = kc[std::size_t(s)]->data;
      p.k_stride = kvw;
      p.v = vc[std::size_t(s)]->data;
      p.v_stride = kvw;
      p.out = out[std::size_t(s)]->data;
      p.out_stride = qw;
      p.lse = lse;
      p.lse_stride = n;
      return p;
    };
    const double flops = 4.0 * o.dim * o.heads * double(n) * double(n + 1) / 2.0;
    auto tflops_of = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };
    const double portable = median_ms(
        o.reps, [&](int i) { cuda::flash_attention_forward(params(i), nullptr, cuda::FlashKernel::Portable); });
    const bool has_hopper = cuda::flash_attention_hopper_unavailable(params(0)).empty();
    double hopper = std::numeric_limits<double>::quiet_NaN(), out_diff = hopper, lse_diff = hopper;
    if (has_hopper) {
      hopper = median_ms(o.reps,
                         [&](int i) { cuda::flash_attention_forward(params(i), nullptr, cuda::FlashKernel::Hopper); });
      const ForwardSample a = sample_forward(params(0), cuda::FlashKernel::Portable);
      const ForwardSample b = sample_forward(params(0), cuda::FlashKernel::Hopper);
      std::tie(out_diff, lse_diff) = compare(a, b, o.dtype);
    }
    // What the backend runs (ATTNSCOPE_FLASH_KERNEL or the automatic choice).
    const cuda::FlashKernel chosen = cuda::choose_flash_kernel(params(0), cuda::flash_kernel_from_environment());
    const double fwd = chosen == cuda::FlashKernel::Hopper ? hopper : portable;

    cuda::CapturePassRequest request;
    for (int h = 0; h < o.heads; ++h) request.heads.push_back(h);
    // The capture reads the lse of the last forward of the same set; any finite lse
    // times the same work, so one forward per set is enough.
    for (int s = 0; s < sets; ++s) cuda::flash_attention_forward(params(s), nullptr, chosen);
    auto time_capture = [&](cuda::FlashKernel kernel) {
      const ScopedCaptureKernel scoped(kernel);
      return median_ms(o.reps, [&](int i) { cuda::run_capture_pass(params(i), request, workspace, nullptr); });
    };
    auto results_of = [&](cuda::FlashKernel kernel) {
      const ScopedCaptureKernel scoped(kernel);
      cuda::flash_attention_forward(params(0), nullptr, chosen);
      cuda::run_capture_pass(params(0), request, workspace, nullptr);
      return cuda::download_capture_results(workspace, nullptr);
    };
    // What the backend runs (ATTNSCOPE_CAPTURE_KERNEL / ATTNSCOPE_FLASH_KERNEL or the choice).
    const cuda::FlashKernel capture_kernel =
        cuda::choose_capture_kernel(params(0), cuda::capture_kernel_from_environment());
    const double capture_portable = time_capture(cuda::FlashKernel::Portable);
    double capture_hopper = std::numeric_limits<double>::quiet_NaN(), capture_diff = capture_hopper;
    int64_t top1_differ = -1;
    if (cuda::capture_hopper_unavailable(params(0)).empty()) {
      capture_hopper = time_capture(cuda::FlashKernel::Hopper);
      std::tie(capture_diff, top1_differ) =
          compare(results_of(cuda::FlashKernel::Portable), results_of(cuda::FlashKernel::Hopper));
    }
    const double capture = capture_kernel == cuda::FlashKernel::Hopper ? capture_hopper : capture_portable;

    double merge = 0;
    if (o.merge) {
      cuda::flash_attention_forward(params(0), nullptr, chosen);
      cuda::run_capture_pass(params(0), request, workspace, nullptr);
      const auto t0 = std::chrono::steady_clock::now();
      const cuda::CaptureResults results = cuda::download_capture_results(workspace, nullptr);
      std::vector<k::HeadAccumulator> acc(std::size_t(o.heads));
      k::CaptureOptions options;
      for (int h = 0; h < o.heads; ++h) cuda::merge_capture_results(results, h, options, acc[std::size_t(h)]);
      merge = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    if (o.csv)
      std::printf("%lld,%d,%d,%d,%.4f,%.1f,%.4f,%.1f,%.2e,%.2e,%s,%.4f,%.1f,%.4f,%.3f,%.1f,%s,%.4f,%.4f,%.2e,%lld\n",
                  (long long)n, o.heads, o.kv_heads, o.dim, portable, tflops_of(portable), hopper, tflops_of(hopper),
                  out_diff, lse_diff, chosen == cuda::FlashKernel::Hopper ? "hopper" : "portable", fwd, tflops_of(fwd),
                  capture, capture / fwd, merge, capture_kernel == cuda::FlashKernel::Hopper ? "hopper" : "portable",
                  capture_portable, capture_hopper, capture_diff, (long long)top1_differ);
    else
      std::printf("%8lld %11.3f %9.1f %10.3f %9.1f %9.2e %9.2e %9.3f %9.3f %9.3f %9.2e %7lld %9.1f\n", (long long)n,
                  portable, tflops_of(portable), hopper, tflops_of(hopper), out_diff, lse_diff, capture_portable,
                  capture_hopper, capture / fwd, capture_diff, (long long)top1_differ, merge);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "attention_bench: %s\n", e.what());
  return 1;
}
