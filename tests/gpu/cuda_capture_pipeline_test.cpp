// The CUDA backend's capture (kernels/cuda/capture_pipeline.h) through Backend::attention,
// called as the runtime calls it: each call's K and V rows copied into the caches, a
// chunked prefill, then decode steps of one row, more calls than the pipeline has
// staging sets, some heads captured. The device keeps per-key sums in fp64 across the
// calls and merges rows on threads; once finish_capture has brought everything back,
// every field must match the CPU backend's accumulators within the bounds of
// attention_capture_test.cpp, whose reasoning holds unchanged: both sides compute the
// same fp32 probabilities, and the device adds each call's fp32 sums into doubles
// exactly as the host merge did, on the device instead. Then the runtime's use of it:
// generate_greedy leaves complete statistics, a bare forward leaves them held.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>

#include "analysis/capture/capture.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cuda/cuda_backend.h"
#include "tests/gpu/attention_test_support.h"
#include "tests/gpu/capture_comparison.h"
#include "tests/gpu/cuda_test_support.h"
#include "tests/support/scoped_environment.h"

namespace k = attnscope::kernels;
namespace support = attnscope::testing::gpu;
using attnscope::kernels::DType;
using Catch::Contains;

namespace {

struct Case {
  int heads, kv_heads, dim;
  int64_t window;
  DType dtype;
  std::vector<int64_t> chunks;
  int64_t decode_steps;
  std::vector<int> captured;
  k::CaptureOptions options;

  std::vector<int64_t> calls() const {
    std::vector<int64_t> all = chunks;
    all.insert(all.end(), std::size_t(decode_steps), 1);
    return all;
  }
  int64_t total() const {
    int64_t n = decode_steps;
    for (int64_t c : chunks) n += c;
    return n;
  }
};

k::CaptureOptions options(int64_t sink, int64_t local, int64_t pool, bool exact, int64_t exact_limit) {
  return support::capture_options(sink, local, pool, exact, exact_limit);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // 10 calls, 3 of 8 heads, GQA 4, exact rows across the first two chunks.
      {8, 2, 64, 0, DType::BF16, {100, 1, 157, 64}, 6, {0, 3, 7}, options(4, 64, 64, true, 200)},
      // Head dim 128 (the Hopper forward on an H100), fp16, a pool block that does not divide the chunks.
      {4, 4, 128, 0, DType::F16, {300, 212}, 3, {0, 1, 2, 3}, options(4, 64, 48, false, 0)},
      // Sliding window (per-key sums start past key 0), a small odd pool block.
      {6, 3, 32, 50, DType::BF16, {90, 90}, 4, {1, 4}, options(1, 5, 7, false, 0)},
      // Calls of 7, 16 and 3 rows on the split-KV kernel, which adds the diagonals of
      // several rows (from several tiles and splits) to the fp64 sums with atomics.
      {8, 2, 128, 0, DType::BF16, {200, 7, 16, 3}, 5, {0, 1, 5}, options(4, 64, 64, false, 0)},
  };
  return all;
}

// A case's inputs on one backend and its calls, made as the runtime makes them.
class Calls {
 public:
  Calls(k::Backend& backend, const support::Problem& p) : backend_(backend), p_(p) {
    namespace cb = attnscope::testing::cuda_backend;
    const int64_t qw = int64_t(p.heads) * p.dim, kvw = int64_t(p.kv_heads) * p.dim;
    q_ = cb::upload_f32(backend, p.total, qw, p.q);
    k_ = cb::upload_f32(backend, p.total, kvw, p.k);
    v_ = cb::upload_f32(backend, p.total, kvw, p.v);
    k_cache_ = backend.allocate(p.total + 3, kvw);
    v_cache_ = backend.allocate(p.total + 3, kvw);
  }

  void run(int64_t first, int64_t n, k::AttentionCapture* capture) {
    backend_.copy_rows(k_.row_slice(first, n), k_cache_, first);
    backend_.copy_rows(v_.row_slice(first, n), v_cache_, first);
    const k::AttentionShape shape{p_.heads, p_.kv_heads, p_.dim, first, p_.window, float(p_.scale())};
    k::Tensor out = backend_.allocate(n, int64_t(p_.heads) * p_.dim);
    backend_.attention(q_.row_slice(first, n), k_cache_, v_cache_, shape, out, capture, nullptr);
  }

  // Calls [begin, end) of the case, from the position the earlier calls reached.
  void run(const Case& c, std::size_t begin, std::size_t end, k::AttentionCapture* capture) {
    const std::vector<int64_t> calls = c.calls();
    int64_t first = 0;
    for (std::size_t i = 0; i < begin; ++i) first += calls[i];
    for (std::size_t i = begin; i < end; ++i) {
      run(first, calls[i], capture);
      first += calls[i];
    }
  }

 private:
  k::Backend& backend_;
  const support::Problem& p_;
  k::Tensor q_, k_, v_, k_cache_, v_cache_;
};

// Accumulators for the case's captured heads and the per-layer capture pointing at them.
struct Accumulators {
  std::vector<k::HeadAccumulator> heads;
  k::AttentionCapture capture;

  explicit Accumulators(const Case& c) : heads(c.captured.size()) {
    capture.options = c.options;
    capture.heads.assign(std::size_t(c.heads), nullptr);
    for (std::size_t i = 0; i < c.captured.size(); ++i) {
      heads[i].head = c.captured[i];
      capture.heads[std::size_t(c.captured[i])] = &heads[i];
    }
  }
};

support::Problem problem(const Case& c, uint32_t seed) {
  return support::make_problem(c.heads, c.kv_heads, c.dim, c.total(), c.window, c.dtype, seed);
}

// The CPU backend's accumulators for the whole case.
std::vector<k::HeadAccumulator> cpu_capture(const Case& c, const support::Problem& p) {
  auto cpu = k::make_cpu_backend(2);
  Calls calls(*cpu, p);
  Accumulators acc(c);
  calls.run(c, 0, c.calls().size(), &acc.capture);
  k::finish_capture(acc.capture);  // nothing held: no-op
  return acc.heads;
}

using support::compare;

std::string describe(const Case& c) {
  std::ostringstream what;
  what << "heads " << c.heads << "/" << c.kv_heads << " dim " << c.dim << " window " << c.window << " pool "
       << c.options.pool_block << " calls " << c.calls().size();
  return what.str();
}

std::unique_ptr<k::Backend> gpu_backend(DType dtype) {
  k::CudaBackendOptions o;
  o.dtype = dtype;
  return k::make_cuda_backend(o);
}

}  // namespace

TEST_CASE("the CUDA backend's capture of a chunked prefill and decode steps matches the CPU's once finished",
          "[gpu][capture][pipeline]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  uint32_t seed = 8100;
  // Every case with the rows' entropy and top-1 from the forward and from the capture
  // (auto takes the capture; forward needs the Hopper kernels, else it
  // falls back to the capture).
  for (const char* rows : {"forward", "capture"}) {
    const attnscope::testing::ScopedEnvironment scoped("ATTNSCOPE_CAPTURE_ROWS", rows);
    for (const Case& c : cases()) {
      INFO(describe(c) << ", rows computed in the " << rows);
      const support::Problem p = problem(c, seed += 31);
      const std::vector<k::HeadAccumulator> cpu = cpu_capture(c, p);
      auto gpu = gpu_backend(c.dtype);
      Calls calls(*gpu, p);
      Accumulators acc(c);
      calls.run(c, 0, c.calls().size(), &acc.capture);
      REQUIRE(acc.capture.held != nullptr);  // per-key sums on the device, merges queued
      k::finish_capture(acc.capture);
      REQUIRE(acc.capture.held == nullptr);
      for (std::size_t i = 0; i < cpu.size(); ++i) compare(p, acc.heads[i], cpu[i]);
    }
  }
}

TEST_CASE("finishing a CUDA capture mid-run and going on gives the statistics of the whole run",
          "[gpu][capture][pipeline]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const Case& c = cases()[0];
  const support::Problem p = problem(c, 8200);
  const std::vector<k::HeadAccumulator> cpu = cpu_capture(c, p);
  auto gpu = gpu_backend(c.dtype);
  Calls calls(*gpu, p);
  Accumulators acc(c);
  calls.run(c, 0, c.chunks.size(), &acc.capture);  // the prefill
  k::finish_capture(acc.capture);
  CHECK(acc.heads[0].rows == c.total() - c.decode_steps);
  calls.run(c, c.chunks.size(), c.calls().size(), &acc.capture);  // the decode steps
  k::finish_capture(acc.capture);
  for (std::size_t i = 0; i < cpu.size(); ++i) compare(p, acc.heads[i], cpu[i]);
}

TEST_CASE("statistics a CUDA backend holds can be finished after the backend is gone", "[gpu][capture][pipeline]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const Case& c = cases()[2];
  const support::Problem p = problem(c, 8300);
  const std::vector<k::HeadAccumulator> cpu = cpu_capture(c, p);
  Accumulators acc(c);
  {
    auto gpu = gpu_backend(c.dtype);
    Calls calls(*gpu, p);
    calls.run(c, 0, c.calls().size(), &acc.capture);
  }
  REQUIRE(acc.capture.held != nullptr);
  k::finish_capture(acc.capture);
  for (std::size_t i = 0; i < cpu.size(); ++i) compare(p, acc.heads[i], cpu[i]);
}

TEST_CASE("a CUDA capture dropped unfinished leaves the backend able to capture again", "[gpu][capture][pipeline]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const Case& c = cases()[0];
  const support::Problem p = problem(c, 8400);
  const std::vector<k::HeadAccumulator> cpu = cpu_capture(c, p);
  auto gpu = gpu_backend(c.dtype);
  Calls calls(*gpu, p);
  {
    Accumulators dropped(c);
    calls.run(c, 0, c.calls().size(), &dropped.capture);
  }  // its held statistics go first (declared last), waiting for the merge in progress
  Accumulators acc(c);
  calls.run(c, 0, c.calls().size(), &acc.capture);
  k::finish_capture(acc.capture);
  for (std::size_t i = 0; i < cpu.size(); ++i) compare(p, acc.heads[i], cpu[i]);
}

TEST_CASE("the CUDA backend reports where the time of captured calls went", "[gpu][capture][pipeline]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const Case& c = cases()[0];
  const support::Problem p = problem(c, 8500);
  auto gpu = gpu_backend(c.dtype);
  Calls calls(*gpu, p);
  calls.run(0, 64, nullptr);  // uncaptured calls count nothing
  k::reset_cuda_capture_timings(*gpu);
  Accumulators acc(c);
  calls.run(c, 0, c.calls().size(), &acc.capture);
  k::finish_capture(acc.capture);
  const k::CudaCaptureTimings t = k::cuda_capture_timings(*gpu);
  CHECK(t.calls == int64_t(c.calls().size()));
  CHECK(t.forward_seconds > 0);
  CHECK(t.kernel_seconds > 0);
  CHECK(t.transfer_seconds > 0);
  // Rows and pooled rows of every call, then the per-key sums once: 3 heads x 2 x 328 doubles.
  CHECK(t.transfer_bytes > 3 * 2 * 328 * 8);
  CHECK(t.merge_seconds > 0);
  CHECK(t.finish_seconds > 0);
  CHECK(t.stall_seconds >= 0);
  CHECK(t.merge_stall_seconds >= 0);
  CHECK(t.merge_stall_seconds <= t.stall_seconds);
  k::reset_cuda_capture_timings(*gpu);
  CHECK(k::cuda_capture_timings(*gpu).calls == 0);
  auto cpu = k::make_cpu_backend(1);
  CHECK_THROWS_WITH(k::cuda_capture_timings(*cpu), Contains("not a CUDA backend"));
}

TEST_CASE("generate_greedy on the CUDA backend leaves complete statistics of every prompt and decode row",
          "[gpu][capture][pipeline][model]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  using namespace attnscope;
  const auto checkpoint = model::Checkpoint::open(std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama");
  const model::ModelSpec& spec = checkpoint.spec();
  auto gpu = k::make_cuda_backend();
  runtime::Transformer transformer(checkpoint, *gpu, 512);
  std::mt19937 rng(11);
  std::vector<int32_t> prompt(300);
  for (int32_t& id : prompt) id = int32_t(rng() % uint32_t(spec.vocab_size));
  capture::Capture capture(capture::CaptureRequest{}, spec);  // every head of every layer
  runtime::GenerationOptions options;
  options.prefill_chunk = 64;  // 5 chunks and 4 decode steps a layer: far more calls than staging sets
  options.max_new_tokens = 5;
  options.stop_at_eos = false;
  runtime::generate_greedy(transformer, prompt, &capture, options);
  REQUIRE(capture.complete());
  const int64_t rows = 300 + 4;  // the last generated token is not run
  const k::CaptureOptions& o = capture.request().options;
  REQUIRE(capture.heads().size() == std::size_t(spec.num_layers * spec.num_heads));
  for (const k::HeadAccumulator& head : capture.heads()) {
    INFO("layer " << head.layer << " head " << head.head);
    REQUIRE(head.rows == rows);
    for (int64_t r = 0; r < rows; ++r) REQUIRE(head.positions[std::size_t(r)] == r);
    CHECK(head.sink_rows == rows - o.sink_tokens);
    CHECK(head.local_rows == rows - o.local_window);
    // Every row is a distribution: each way of summing all probabilities gives the row
    // count (fp32 probabilities and atomics: 1e-4 relative covers them).
    double columns = 0, diagonals = 0, pooled = 0;
    for (double x : head.column_sums) columns += x;
    for (double x : head.diagonal_sums) diagonals += x;
    for (const auto& row : head.pooled.sums)
      for (double x : row) pooled += x;
    CHECK(columns == Approx(double(rows)).epsilon(1e-4));
    CHECK(diagonals == Approx(double(rows)).epsilon(1e-4));
    CHECK(pooled == Approx(double(rows)).epsilon(1e-4));
    int64_t counted = 0;
    for (int64_t n : head.pooled.rows_in_block) counted += n;
    CHECK(counted == rows);
    CHECK(int64_t(head.column_sums.size()) == rows);
    for (int64_t r = 0; r < rows; ++r) {
      REQUIRE(head.top1[std::size_t(r)] >= 0);
      REQUIRE(head.top1[std::size_t(r)] <= r);
      REQUIRE(head.row_entropy[std::size_t(r)] >= -1e-5f);
      REQUIRE(head.row_entropy[std::size_t(r)] <= std::log(float(r + 1)) + 1e-3f);
    }
  }
}

TEST_CASE("a capture left by a bare forward on the CUDA backend is read only after finish",
          "[gpu][capture][pipeline][model]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  using namespace attnscope;
  const auto checkpoint = model::Checkpoint::open(std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama");
  auto gpu = k::make_cuda_backend();
  runtime::Transformer transformer(checkpoint, *gpu, 128);
  capture::CaptureRequest request;
  request.layers = {7};
  request.heads = {2};
  capture::Capture capture(request, checkpoint.spec());
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  transformer.forward(ids, &capture, runtime::Logits::LastRow);
  CHECK_FALSE(capture.complete());
  CHECK_THROWS_WITH(capture.heads(), Contains("not complete"));
  capture.finish();
  REQUIRE(capture.complete());
  REQUIRE(capture.heads().size() == 1);
  CHECK(capture.heads()[0].rows == 8);
  CHECK(int64_t(capture.heads()[0].column_sums.size()) == 8);
}
