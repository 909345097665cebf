// Times one decode step's attention on the GPU: the forward and the capture pass (every
// head captured) on the one-CTA-per-head kernels ("rows": what ATTNSCOPE_DECODE_KERNEL=rows
// keeps, the forward on the kernel the automatic choice picks, Hopper on an H100) and on
// the split-KV path (split_decode.h), at several cache lengths. B = 1, n query rows at the
// end of the cache. Prints a table, or CSV with --csv (bench/decode_vs_sdpa.py runs it
// beside PyTorch's SDPA).
//
//   decode_attention_bench [--lengths 4096,16384,32768,65536,131072] [--heads 32]
//                          [--kv-heads 8] [--dim 128] [--rows 1] [--dtype bf16|f16]
//                          [--reps 50] [--csv]
//
// Inputs are random; caches smaller than 256 MiB are rotated over enough sets to pass
// 256 MiB, so that the timings read HBM, not the 50 MB L2. Each run is timed with CUDA
// events, the median reported. GB/s: the K and V bytes a step must read (K only for the
// capture) over its time. The two paths' results are compared on the same inputs: out
// (relative L2) and lse (largest difference), and the capture's sums and row values
// (largest relative L2, top-1 keys that differ). On the split path also what the
// backend's captured step costs with its fp64 per-key sums: the pass then a fold kernel
// ("cap+fold", before 2026-11-24) against the pass adding them itself ("cap fp64"), and
// the largest relative difference of the two sums ("fp64 diff": 0 for one row).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/cuda_bench_support.h"
#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/capture_device_sums.h"
#include "kernels/cuda/flash_attention.h"
#include "kernels/cuda/split_decode.h"
#include "kernels/cuda/split_decode_plan.h"
#include "kernels/dtype.h"
#include "tests/support/scoped_environment.h"

namespace k = attnscope::kernels;
namespace cuda = attnscope::kernels::cuda;

namespace {

using attnscope::bench::AttentionInputSets;
using attnscope::bench::check;
using attnscope::bench::median_ms;
using attnscope::testing::ScopedEnvironment;

struct Options : attnscope::bench::AttentionBenchOptions {
  int64_t rows = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  o.lengths = {4096, 16384, 32768, 65536, 131072};
  o.reps = 50;
  attnscope::bench::parse_attention_options(
      argc, argv, o, [&](const std::string& arg, const std::function<std::string()>& value) {
        if (arg != "--rows") return false;
        o.rows = std::stoll(value());
        return true;
      });
  if (o.rows < 1 || o.rows > 16) throw std::runtime_error("--rows is 1 to 16 (the split path's calls)");
  return o;
}

// ATTNSCOPE_DECODE_KERNEL for the object's lifetime (the kernels read it per call).
struct ScopedDecodeKernel : ScopedEnvironment {
  explicit ScopedDecodeKernel(const char* value) : ScopedEnvironment("ATTNSCOPE_DECODE_KERNEL", value) {}
};

struct Forward {
  std::vector<float> out, lse;
};

// fp64 per-key sums of `slots` heads over `keys` keys on the device, as the backend keeps
// them across a run (DeviceKeySums), for timing what a captured decode step adds to them.
struct Fp64Sums {
  double* data = nullptr;
  int64_t doubles = 0;
  cuda::Fp64KeySums target;
  Fp64Sums(int slots, int64_t keys) : doubles(2 * int64_t(slots) * keys) {
    check(cudaMalloc(&data, size_t(doubles) * 8), "cudaMalloc");
    target = {data, data + int64_t(slots) * keys, keys};
    clear();
  }
  ~Fp64Sums() { cudaFree(data); }
  Fp64Sums(const Fp64Sums&) = delete;
  Fp64Sums& operator=(const Fp64Sums&) = delete;
  void clear() { check(cudaMemset(data, 0, size_t(doubles) * 8), "cudaMemset"); }
  std::vector<double> download() const {
    std::vector<double> v(static_cast<size_t>(doubles));
    check(cudaMemcpy(v.data(), data, v.size() * 8, cudaMemcpyDeviceToHost), "download fp64 sums");
    return v;
  }
};

// Largest |a - b| / max(|a|, |b|) over the entries.
double largest_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(std::abs(a[i]), std::abs(b[i]));
    if (scale > 0) worst = std::max(worst, std::abs(a[i] - b[i]) / scale);
  }
  return worst;
}

Forward forward_of(const cuda::FlashAttentionParams& p, int64_t width) {
  check(cudaMemset(p.out, 0xff, size_t(p.n * p.out_stride) * 2), "poison out");  // NaN in bf16 and fp16
  cuda::flash_attention_forward(p, nullptr);
  check(cudaDeviceSynchronize(), "forward");
  std::vector<uint16_t> raw(size_t(p.n * width));
  check(cudaMemcpy(raw.data(), p.out, raw.size() * 2, cudaMemcpyDeviceToHost), "download out");
  Forward f;
  for (uint16_t v : raw) f.out.push_back(p.dtype == k::DType::BF16 ? k::bf16_to_f32(v) : k::f16_to_f32(v));
  f.lse.resize(size_t(p.num_heads * p.n));
  check(cudaMemcpy(f.lse.data(), p.lse, f.lse.size() * 4, cudaMemcpyDeviceToHost), "download lse");
  return f;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const cudaDeviceProp prop = attnscope::bench::device_properties();
  const std::vector<uint16_t> pool = attnscope::bench::random_pool(o.dtype);

  if (o.csv) {
    std::printf("keys,rows,heads,kv_heads,dim,fwd_rows_ms,fwd_split_ms,capture_rows_ms,capture_split_ms,"
                "step_rows_ms,step_split_ms,fwd_split_gbs,capture_split_gbs,splits,out_diff,lse_diff,"
                "capture_diff,capture_top1_differ,capture_fold_ms,capture_fp64_ms,fp64_diff\n");
  } else {
    std::printf("%s, %d SMs; decode step: %lld row(s), heads %d/%d dim %d %s, median of %d\n", prop.name,
                prop.multiProcessorCount, (long long)o.rows, o.heads, o.kv_heads, o.dim,
                o.dtype == k::DType::BF16 ? "bf16" : "f16", o.reps);
    std::printf("%8s %9s %9s %7s %9s %9s %7s %9s %9s %8s %8s %9s %9s %9s %6s %9s %9s %9s\n", "keys", "fwd rows",
                "fwd split", "x", "cap rows", "cap split", "x", "step rows", "step spl", "fwd GB/s", "cap GB/s",
                "out diff", "lse diff", "cap diff", "top1!=", "cap+fold", "cap fp64", "fp64 diff");
  }
  for (const int64_t keys : o.lengths) {
    const int64_t n = std::min(o.rows, keys);
    const int64_t qw = int64_t(o.heads) * o.dim, kvw = int64_t(o.kv_heads) * o.dim;
    const int64_t set_bytes = keys * kvw * 2 * 2;
    const int sets = int(std::clamp<int64_t>((int64_t(256) << 20) / std::max<int64_t>(set_bytes, 1) + 1, 1, 16));
    const AttentionInputSets inputs(sets, std::size_t(n * qw), std::size_t(keys * kvw), pool);
    cuda::CaptureWorkspace workspace;
    cuda::SplitDecodeWorkspace decode_workspace;
    float* lse = workspace.lse_buffer(o.heads, n);
    const k::AttentionShape shape{o.heads, o.kv_heads, o.dim, keys - n, 0, float(1.0 / std::sqrt(double(o.dim)))};
    auto params = [&](int i) {
      cuda::FlashAttentionParams p = cuda::flash_attention_params(shape, n, o.dtype);
      inputs.bind(p, i, qw, kvw);
      p.lse = lse;
      p.lse_stride = n;
      p.decode_workspace = &decode_workspace;
      return p;
    };
    cuda::CapturePassRequest request;
    for (int h = 0; h < o.heads; ++h) request.heads.push_back(h);

    auto time_path = [&](const char* decode, double& fwd, double& capture, double& step) {
      const ScopedDecodeKernel scoped(decode);
      fwd = median_ms(o.reps, [&](int i) { cuda::flash_attention_forward(params(i), nullptr); });
      for (int s = 0; s < sets; ++s) cuda::flash_attention_forward(params(s), nullptr);  // an lse per set
      capture = median_ms(o.reps, [&](int i) { cuda::run_capture_pass(params(i), request, workspace, nullptr); });
      step = median_ms(o.reps, [&](int i) {
        cuda::flash_attention_forward(params(i), nullptr);
        cuda::run_capture_pass(params(i), request, workspace, nullptr);
      });
    };
    double fwd_rows = 0, cap_rows = 0, step_rows = 0, fwd_split = 0, cap_split = 0, step_split = 0;
    time_path("rows", fwd_rows, cap_rows, step_rows);
    time_path("split", fwd_split, cap_split, step_split);

    // What the backend's captured decode step also does: add the call's per-key sums to
    // its fp64 sums. Before, the pass wrote fp32 sums (zeroed first) and a fold kernel
    // added them ("cap+fold"); now the split kernel adds them itself ("cap fp64"). Both
    // from zero once more, to compare their sums.
    double cap_fold = 0, cap_fp64 = 0, fp64_diff = 0;
    {
      const ScopedDecodeKernel scoped("split");
      Fp64Sums sums(o.heads, keys);
      const cuda::KeySumRange range = cuda::key_sum_range(keys - n, n, 0);
      const auto pass_then_fold = [&](int i) {
        cuda::run_capture_pass(params(i), request, workspace, nullptr);
        const cuda::DeviceCaptureResults d = workspace.device_results();
        cuda::add_key_sums_on_device(d.column_sums, d.diagonal_sums, d.key_stride, sums.target, o.heads, range,
                                     nullptr);
      };
      cuda::CapturePassRequest direct = request;
      direct.add_key_sums_to = sums.target;
      const auto pass_fp64 = [&](int i) { cuda::run_capture_pass(params(i), direct, workspace, nullptr); };
      cap_fold = median_ms(o.reps, pass_then_fold);
      cap_fp64 = median_ms(o.reps, pass_fp64);
      sums.clear();
      pass_then_fold(0);
      const std::vector<double> folded = sums.download();
      sums.clear();
      pass_fp64(0);
      fp64_diff = largest_relative_difference(folded, sums.download());
    }

    // The same inputs through both paths.
    Forward a, b;
    cuda::CaptureResults ca, cb;
    {
      const ScopedDecodeKernel scoped("rows");
      a = forward_of(params(0), qw);
      cuda::run_capture_pass(params(0), request, workspace, nullptr);
      ca = cuda::download_capture_results(workspace, nullptr);
    }
    {
      const ScopedDecodeKernel scoped("split");
      b = forward_of(params(0), qw);
      cuda::run_capture_pass(params(0), request, workspace, nullptr);
      cb = cuda::download_capture_results(workspace, nullptr);
    }
    const double out_diff = attnscope::bench::relative_l2(a.out, b.out);
    const double lse_diff = attnscope::bench::largest_difference(a.lse, b.lse);
    const double capture_diff = attnscope::bench::largest_relative_l2(
        {{&ca.column_sums, &cb.column_sums}, {&ca.diagonal_sums, &cb.diagonal_sums}, {&ca.pooled, &cb.pooled},
         {&ca.row_entropy, &cb.row_entropy}, {&ca.row_sink, &cb.row_sink}, {&ca.row_local, &cb.row_local}});
    const int64_t top1 = attnscope::bench::top1_differ(ca.row_top1, cb.row_top1);

    const double kv_bytes = double(keys) * double(kvw) * 2 * 2;  // K and V
    const double fwd_gbs = kv_bytes / (fwd_split * 1e-3) / 1e9, cap_gbs = kv_bytes / 2 / (cap_split * 1e-3) / 1e9;
    namespace plan = cuda::split_decode;
    const plan::CtaRows rows = plan::cta_rows(n, o.heads / o.kv_heads);
    const plan::ForwardUnits units = plan::forward_units(0, o.heads, o.heads / o.kv_heads, rows.heads);
    const int64_t splits =
        plan::choose_splits(plan::call_key_tiles(keys - n, n, 0).count, units.count, prop.multiProcessorCount).count;
    if (o.csv)
      std::printf("%lld,%lld,%d,%d,%d,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.1f,%.1f,%lld,%.2e,%.2e,%.2e,%lld,%.5f,%.5f,%.2e\n",
                  (long long)keys, (long long)n, o.heads, o.kv_heads, o.dim, fwd_rows, fwd_split, cap_rows, cap_split,
                  step_rows, step_split, fwd_gbs, cap_gbs, (long long)splits, out_diff, lse_diff, capture_diff,
                  (long long)top1, cap_fold, cap_fp64, fp64_diff);
    else
      std::printf("%8lld %9.4f %9.4f %7.1f %9.4f %9.4f %7.1f %9.4f %9.4f %8.0f %8.0f %9.2e %9.2e %9.2e %6lld %9.4f %9.4f %9.2e\n",
                  (long long)keys, fwd_rows, fwd_split, fwd_rows / fwd_split, cap_rows, cap_split, cap_rows / cap_split,
                  step_rows, step_split, fwd_gbs, cap_gbs, out_diff, lse_diff, capture_diff, (long long)top1, cap_fold,
                  cap_fp64, fp64_diff);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "decode_attention_bench: %s\n", e.what());
  return 1;
}
