// Times the CUDA attention forward and the capture pass (all heads captured), each on
// each kernel (the portable one and, on compute capability 9.0, the Hopper one), at
// several sequence lengths: B = 1, causal, one-shot prefill. Prints a table, or CSV with
// --csv (bench/attention_vs_sdpa.py runs this beside PyTorch's SDPA).
//
//   attention_bench [--lengths 4096,16384,32768,65536] [--heads 32] [--kv-heads 8]
//                   [--dim 128] [--dtype bf16|f16] [--reps 20] [--merge] [--chunk ROWS] [--csv]
//
// Inputs are random (never zeros); sets smaller than 256 MiB are rotated three ways so
// that repeated runs do not time the L2 cache. Each run is timed with CUDA events; the
// median is reported. Where both kernels run, their outputs are compared on 64 sampled
// rows (relative L2 difference) and their lse on every row (largest difference): a
// check at lengths the tests do not reach; so are the two capture kernels' results (cap
// diff: the largest relative L2 difference of column, diagonal and pooled sums and of
// row entropies; top-1 keys that differ). --merge also times downloading the capture
// results and merging them into accumulators on the host (what a captured prefill pays
// per call). --chunk ROWS also times the forward and the capture as a chunked prefill
// calls them (ROWS query rows a call, each against every earlier key) and prints a line
// per length with both totals beside the one-call times.
// Where the Hopper kernels run, also the capture as the backend runs it with
// ATTNSCOPE_CAPTURE_ROWS=forward (capture_takes_rows_from_forward): the forward computing the
// rows' entropy and top-1 (fwd+rows) and the capture pass taking them (cap rest); its cost over the plain forward is (fwd+rows - fwd + cap rest) / fwd
// (cost/fwd), and its results are compared with the Hopper capture's alone (rows diff,
// rows top1 !=).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
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
#include "tests/support/scoped_environment.h"

namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;

namespace {

using attnscope::bench::AttentionInputSets;
using attnscope::bench::check;
using attnscope::bench::median_ms;

struct Options : attnscope::bench::AttentionBenchOptions {
  bool merge = false;
  int64_t chunk = 0;  // 0: no chunked timing
};

Options parse(int argc, char** argv) {
  Options o;
  o.lengths = {4096, 16384, 32768, 65536};
  o.reps = 20;
  attnscope::bench::parse_attention_options(
      argc, argv, o, [&](const std::string& arg, const std::function<std::string()>& value) {
        if (arg == "--merge") {
          o.merge = true;
        } else if (arg == "--chunk") {
          o.chunk = std::stoll(value());
          if (o.chunk <= 0) throw std::runtime_error("--chunk takes a positive number of rows");
        } else {
          return false;
        }
        return true;
      });
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
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const double x = value(a.rows[i]), y = value(b.rows[i]);
    diff2 += (x - y) * (x - y);
    ref2 += x * x;
  }
  return {std::sqrt(diff2 / ref2), attnscope::bench::largest_difference(a.lse, b.lse)};
}

// The capture kernel the pass uses while the object lives (ATTNSCOPE_CAPTURE_KERNEL).
struct ScopedCaptureKernel : attnscope::testing::ScopedEnvironment {
  explicit ScopedCaptureKernel(cuda::FlashKernel kernel)
      : ScopedEnvironment("ATTNSCOPE_CAPTURE_KERNEL", kernel == cuda::FlashKernel::Hopper ? "hopper" : "portable") {}
};

// How far the Hopper capture's results are from the portable one's: the largest relative
// L2 difference over column, diagonal and pooled sums and row entropies (NaN where a
// value is NaN), and the number of rows whose top-1 key differs.
std::pair<double, int64_t> compare(const cuda::CaptureResults& a, const cuda::CaptureResults& b) {
  const double worst = attnscope::bench::largest_relative_l2({{&a.column_sums, &b.column_sums},
                                                             {&a.diagonal_sums, &b.diagonal_sums},
                                                             {&a.pooled, &b.pooled},
                                                             {&a.row_entropy, &b.row_entropy}});
  return {worst, attnscope::bench::top1_differ(a.row_top1, b.row_top1)};
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const cudaDeviceProp prop = attnscope::bench::device_properties();
  const std::vector<uint16_t> pool = attnscope::bench::random_pool(o.dtype);

  if (o.csv) {
    std::printf("n,heads,kv_heads,dim,portable_ms,portable_tflops,hopper_ms,hopper_tflops,hopper_out_diff,"
                "hopper_lse_diff,fwd_kernel,fwd_ms,fwd_tflops,capture_ms,capture_over_fwd,merge_ms,capture_kernel,"
                "capture_portable_ms,capture_hopper_ms,capture_diff,capture_top1_differ,forward_rows_ms,"
                "capture_rest_ms,rows_cost_over_fwd,rows_diff,rows_top1_differ\n");
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
    const AttentionInputSets inputs(sets, std::size_t(n * qw), std::size_t(n * kvw), pool);
    cuda::CaptureWorkspace workspace;
    float* lse = workspace.lse_buffer(o.heads, n);
    const k::AttentionShape shape{o.heads, o.kv_heads, o.dim, 0, 0, float(1.0 / std::sqrt(double(o.dim)))};
    auto params = [&](int i) {
      cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, n, o.dtype);
      inputs.bind(p, i, qw, kvw);
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

    // The capture with the rows from the forward (what CapturePipeline runs on sm_90 from 64K keys).
    double forward_rows = std::numeric_limits<double>::quiet_NaN(), capture_rest = forward_rows,
           rows_diff = forward_rows;
    int64_t rows_top1_differ = -1;
    if (has_hopper && cuda::capture_hopper_unavailable(params(0)).empty()) {
      const cuda::CaptureWorkspace::ForwardRows rows = workspace.forward_rows_buffer(o.heads, n);
      auto with_rows = [&](int i) {
        cuda::FlashAttentionParams p = params(i);
        p.row_entropy = rows.entropy;
        p.row_top1 = rows.top1;
        return p;
      };
      forward_rows = median_ms(
          o.reps, [&](int i) { cuda::flash_attention_forward(with_rows(i), nullptr, cuda::FlashKernel::Hopper); });
      cuda::CapturePassRequest split = request;
      split.rows_from_forward = true;
      const ScopedCaptureKernel scoped(cuda::FlashKernel::Hopper);
      // As above, the capture reads whatever the last forward of a set left; here all sets
      // share the one rows buffer, which only the copy at the end of a CTA reads.
      capture_rest = median_ms(o.reps, [&](int i) { cuda::run_capture_pass(with_rows(i), split, workspace, nullptr); });
      const cuda::CaptureResults alone = results_of(cuda::FlashKernel::Hopper);
      cuda::flash_attention_forward(with_rows(0), nullptr, cuda::FlashKernel::Hopper);
      cuda::run_capture_pass(with_rows(0), split, workspace, nullptr);
      std::tie(rows_diff, rows_top1_differ) = compare(alone, cuda::download_capture_results(workspace, nullptr));
    }
    const double rows_cost = (forward_rows - hopper + capture_rest) / hopper;

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
    if (o.chunk > 0 && o.chunk < n && !o.csv) {
      // The calls of a chunked prefill: rows [c0, c0 + chunk) against keys [0, c0 + chunk).
      auto chunk_params = [&](int i, int64_t c0) {
        cuda::FlashAttentionParams p = params(i);
        p.q = static_cast<const uint16_t*>(p.q) + c0 * p.q_stride;
        p.out = static_cast<uint16_t*>(p.out) + c0 * p.out_stride;
        p.lse = lse + c0;  // lse_stride stays n
        p.n = std::min(o.chunk, n - c0);
        p.first_position = c0;
        return p;
      };
      const double fwd_chunked = median_ms(o.reps, [&](int i) {
        for (int64_t c0 = 0; c0 < n; c0 += o.chunk) cuda::flash_attention_forward(chunk_params(i, c0), nullptr, chosen);
      });
      for (int s = 0; s < sets; ++s)
        for (int64_t c0 = 0; c0 < n; c0 += o.chunk) cuda::flash_attention_forward(chunk_params(s, c0), nullptr, chosen);
      const ScopedCaptureKernel scoped(capture_kernel);
      const double cap_chunked = median_ms(o.reps, [&](int i) {
        for (int64_t c0 = 0; c0 < n; c0 += o.chunk) cuda::run_capture_pass(chunk_params(i, c0), request, workspace, nullptr);
      });
      std::printf("%8lld in chunks of %lld rows: forward %.3f ms (one call %.3f), capture %.3f ms (one call %.3f), "
                  "cap/fwd %.3f (one call %.3f)\n",
                  (long long)n, (long long)o.chunk, fwd_chunked, fwd, cap_chunked, capture, cap_chunked / fwd_chunked,
                  capture / fwd);
    }
    if (o.csv)
      std::printf("%lld,%d,%d,%d,%.4f,%.1f,%.4f,%.1f,%.2e,%.2e,%s,%.4f,%.1f,%.4f,%.3f,%.1f,%s,%.4f,%.4f,%.2e,%lld,"
                  "%.4f,%.4f,%.3f,%.2e,%lld\n",
                  (long long)n, o.heads, o.kv_heads, o.dim, portable, tflops_of(portable), hopper, tflops_of(hopper),
                  out_diff, lse_diff, chosen == cuda::FlashKernel::Hopper ? "hopper" : "portable", fwd, tflops_of(fwd),
                  capture, capture / fwd, merge, capture_kernel == cuda::FlashKernel::Hopper ? "hopper" : "portable",
                  capture_portable, capture_hopper, capture_diff, (long long)top1_differ, forward_rows, capture_rest,
                  rows_cost, rows_diff, (long long)rows_top1_differ);
    else
      std::printf("%8lld %11.3f %9.1f %10.3f %9.1f %9.2e %9.2e %9.3f %9.3f %9.3f %9.2e %7lld %9.1f\n", (long long)n,
                  portable, tflops_of(portable), hopper, tflops_of(hopper), out_diff, lse_diff, capture_portable,
                  capture_hopper, capture / fwd, capture_diff, (long long)top1_differ, merge);
    if (!o.csv && !std::isnan(forward_rows))
      std::printf("%8lld rows in the forward: fwd+rows %.3f ms (fwd %.3f), cap rest %.3f ms, cost/fwd %.3f, "
                  "rows diff %.2e, rows top1 != %lld\n",
                  (long long)n, forward_rows, hopper, capture_rest, rows_cost, rows_diff, (long long)rows_top1_differ);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "attention_bench: %s\n", e.what());
  return 1;
}
