// GPU memory exhaustion at every step of a run is attnscope::OutOfMemory stating the
// request, and the backend stays usable: another process's memory (here a hog of
// cudaMalloc'd blocks) leaves less and less free, so the failure lands in turn in the
// backend's creation (stream, pool, cuBLASLt workspace), the weight upload and its pinned
// staging, the KV caches, the activations, and the capture pipeline's buffers. Once the
// hog is freed, the same backend runs the model and gives the result of a fresh one.
#include <cuda_runtime.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/generation.h"
#include "analysis/runtime/transformer.h"
#include "kernels/error.h"
#include "tests/gpu/cuda_test_support.h"

namespace fs = std::filesystem;
namespace k = attnscope::kernels;
using namespace attnscope;
using Catch::Contains;

namespace {

const fs::path kSample = fs::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "sample-llama";
constexpr std::size_t kMiB = std::size_t(1) << 20;

// Device memory taken until only `leave` bytes are free, in blocks (one block of all of
// it may not fit the allocator's granularity); freed on destruction.
class DeviceHog {
 public:
  explicit DeviceHog(std::size_t leave) {
    std::size_t block = std::size_t(1) << 30;
    while (block >= kMiB) {
      std::size_t free = 0, total = 0;
      REQUIRE(cudaMemGetInfo(&free, &total) == cudaSuccess);
      if (free <= leave + block / 2 && block > kMiB) {
        block /= 2;
        continue;
      }
      if (free <= leave) break;
      void* p = nullptr;
      const std::size_t take = std::min(block, free - leave);
      if (cudaMalloc(&p, take) != cudaSuccess) {
        cudaGetLastError();
        block /= 2;
        continue;
      }
      blocks_.push_back(p);
      if (take < block) break;
    }
  }
  ~DeviceHog() {
    for (void* p : blocks_) cudaFree(p);
  }
  DeviceHog(const DeviceHog&) = delete;
  DeviceHog& operator=(const DeviceHog&) = delete;

 private:
  std::vector<void*> blocks_;
};

std::vector<int32_t> random_prompt(int64_t n) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> id(3, 4095);
  std::vector<int32_t> ids(static_cast<std::size_t>(n));
  for (int32_t& x : ids) x = id(rng);
  return ids;
}

// A run with every head captured (exact rows too): weights, KV caches of 2048 tokens,
// 512-token chunks, the capture pipeline; greedy continuation of 4 tokens.
std::vector<int32_t> run_model(const model::Checkpoint& checkpoint, k::Backend& backend) {
  runtime::Transformer model(checkpoint, backend, 2048);
  capture::CaptureRequest request;
  request.options.exact_probabilities = true;
  request.options.exact_limit = 256;
  capture::Capture capture(request, checkpoint.spec());
  runtime::GenerationOptions options;
  options.max_new_tokens = 4;
  options.stop_at_eos = false;
  return runtime::generate_greedy(model, random_prompt(1500), &capture, options).continuation;
}

}  // namespace

TEST_CASE("running out of GPU memory at any step is OutOfMemory with the request, and the backend goes on",
          "[gpu][memory][oom]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const model::Checkpoint checkpoint = model::Checkpoint::open(kSample);
  const std::vector<int32_t> expected = run_model(checkpoint, *k::make_cuda_backend());

  int out_of_memory = 0, completed = 0;
  for (const std::size_t leave_mib : {0, 1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 256, 1024}) {
    INFO("free device memory left: " << leave_mib << " MiB");
    std::unique_ptr<k::Backend> backend;
    {
      DeviceHog hog(leave_mib * kMiB);
      try {
        backend = k::make_cuda_backend();
        // Outside CHECK, which would catch the OutOfMemory as a failure of its own.
        const std::vector<int32_t> tokens = run_model(checkpoint, *backend);
        CHECK(tokens == expected);
        ++completed;
      } catch (const OutOfMemory& e) {
        ++out_of_memory;
        CHECK_THAT(e.what(), Contains("bytes"));  // the request's size
      } catch (const std::exception& e) {
        FAIL("not an OutOfMemory: " << e.what());
      }
    }
    // The hog is gone: a backend that was made runs the model as a fresh one does.
    if (backend) CHECK(run_model(checkpoint, *backend) == expected);
  }
  CHECK(out_of_memory >= 3);  // the failure landed at several steps
  CHECK(completed >= 1);      // and 1 GiB is plenty for the sample model
}

TEST_CASE("a weight upload that runs out of GPU memory frees what it took", "[gpu][memory][oom]") {
  ATTNSCOPE_SKIP_WITHOUT_GPU();
  const model::Checkpoint checkpoint = model::Checkpoint::open(kSample);
  auto backend = k::make_cuda_backend();
  const std::size_t before = k::cuda_memory_info(*backend).backend_used;
  {
    DeviceHog hog(6 * kMiB);  // the sample model's weights take 14 MiB in bf16
    CHECK_THROWS_AS(runtime::Transformer(checkpoint, *backend, 2048), OutOfMemory);
  }
  // Frees are queued on the backend's stream: a download waits for them.
  backend->download(backend->allocate(1, 1));
  CHECK(k::cuda_memory_info(*backend).backend_used < before + kMiB);  // the weights (14 MiB) are not held
  CHECK_NOTHROW(runtime::Transformer(checkpoint, *backend, 2048));
}
