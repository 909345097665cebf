#pragma once
// Helpers of the CUDA benchmark programs (attention_bench, block_sparse_bench): CUDA error
// checks, device buffers of random 16-bit values, and event-timed medians.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnscope::bench {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
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

}  // namespace attnscope::bench
