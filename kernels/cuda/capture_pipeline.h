#pragma once
// How the CUDA backend captures attention without making the GPU wait for the host.
//
// Per captured attention call (one layer of a prefill chunk or of a decode step), on
// the backend's stream: the flash forward with each row's lse, the capture pass (the
// call's fp32 results: per-row records, per-key sums, pooled rows, exact window), and
// the fold of the call's per-key sums into fp64 sums per captured head that stay on the
// device for the whole run (DeviceKeySums). Then, on a second (copy) stream, the call's
// per-row records, pooled rows and exact window go to pinned host memory, and a merge
// thread adds them into the accumulators (merge_capture_rows), its helpers taking one
// head each, while the GPU runs the next layers. The per-key sums cross PCIe once, when
// finish_capture asks for them: AttentionCapture::held is a HeldDeviceStatistics that
// owns them and knows the capture's last queued merge.
//
// kCaptureStagingSets staging sets (a CaptureWorkspace for the call's device results, a
// pinned buffer, the call's events) rotate among the calls. A call takes the oldest set
// and waits for it only while that set's merge has not run: the merges may fall that
// many layers behind the GPU before attention() stalls. Memory: per set, one call's
// results on the device and in pinned host memory (sized up front for the KV cache's
// capacity, so that no buffer grows during a run); per captured head, 16 bytes a key
// of the cache on the device (analysis/model/memory_estimate.cpp counts both).
//
// Timings of every part are kept (CudaCaptureTimings, cuda_backend.h).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/attention_capture.h"
#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/capture_device_sums.h"
#include "kernels/cuda/capture_merge_queue.h"
#include "kernels/cuda/capture_staging.h"
#include "kernels/cuda/cuda_context.h"
#include "kernels/cuda/flash_attention.h"

namespace attnscope::kernels::cuda {

constexpr int kCaptureStagingSets = 3;

class HeldDeviceStatistics;

class CapturePipeline : public std::enable_shared_from_this<CapturePipeline> {
 public:
  // One per backend; held statistics keep it (and its threads) alive while they exist.
  static std::shared_ptr<CapturePipeline> create(std::shared_ptr<CudaContext> context);
  ~CapturePipeline();
  CapturePipeline(const CapturePipeline&) = delete;
  CapturePipeline& operator=(const CapturePipeline&) = delete;

  // One attention call with capture: fills params' lse (a staging set's buffer) and,
  // where the capture kernel takes them (capture_takes_rows_from_forward), the row
  // entropy and top-1, calls `forward` with the params on the backend's stream (it returns
  // whether it wrote the rows: flash_attention_forward's result), then queues the capture of every
  // head with an accumulator in `capture` as above. `key_capacity`: the KV cache's rows
  // (the per-key sums and staging buffers are sized for it). Throws attnscope::Error for
  // an invalid capture, a CUDA failure, or an error an earlier merge of this capture met.
  void run(FlashAttentionParams params, AttentionCapture& capture, int64_t key_capacity,
           const std::function<bool(const FlashAttentionParams&)>& forward);

  CudaCaptureTimings timings() const;
  void reset_timings();

 private:
  friend class HeldDeviceStatistics;
  struct StagingSet;
  using Clock = std::chrono::steady_clock;

  explicit CapturePipeline(std::shared_ptr<CudaContext> context);
  HeldDeviceStatistics& held_for(AttentionCapture& capture, int64_t key_capacity);
  StagingSet& acquire_set();
  // `arrived`: when the set's results were on the host (its merge could start).
  void release_set(StagingSet& set, Clock::time_point arrived);
  // The merge job of one call (runs on the queue's dispatcher thread).
  void merge(HeldDeviceStatistics& held, StagingSet& set, const CaptureResults& shape, const CaptureOptions& options);
  // HeldDeviceStatistics::finish's work: the capture's last merges, then its per-key sums.
  void finish(HeldDeviceStatistics& held);
  void add_time(double CudaCaptureTimings::*field, double seconds);

  std::shared_ptr<CudaContext> context_;
  cudaStream_t copy_stream_ = nullptr;

  std::mutex sets_mutex_;
  std::condition_variable set_released_;
  std::vector<std::unique_ptr<StagingSet>> sets_;
  std::size_t next_set_ = 0;

  std::mutex finish_mutex_;    // one finish at a time uses the pinned buffer below
  PinnedBuffer finish_staging_;

  mutable std::mutex timings_mutex_;
  CudaCaptureTimings timings_;

  MergeQueue queue_;  // last: its threads stop (running what is queued) before the rest goes
};

// AttentionCapture::held of a capture run on a CUDA backend: the capture's heads and
// accumulators, its fp64 per-key sums on the device, its queued merges and their error.
class HeldDeviceStatistics final : public HeldStatistics {
 public:
  HeldDeviceStatistics(std::shared_ptr<CapturePipeline> pipeline, const AttentionCapture& capture,
                       int64_t key_capacity);
  // Drops what is not merged yet (merges still queued skip their work) and waits for
  // the merge that may be writing into the accumulators.
  ~HeldDeviceStatistics() override;
  void finish() override;

  // Whether calls with `capture` can go on accumulating here: the same pipeline, the
  // same accumulators in the same head slots, the same options.
  bool continues(const CapturePipeline& pipeline, const AttentionCapture& capture) const;

 private:
  friend class CapturePipeline;
  void fail(std::exception_ptr error);
  void rethrow_failure();

  std::shared_ptr<CapturePipeline> pipeline_;
  std::vector<int> heads_;                    // captured query heads, ascending ("slots")
  std::vector<HeadAccumulator*> accumulators_;  // [slot]
  std::vector<HeadAccumulator*> slots_;       // the capture's heads vector as it was
  CaptureOptions options_;
  int64_t pool_block_ = 64;
  DeviceKeySums sums_;
  int64_t column_length_ = 0, distance_length_ = 0;  // what the calls so far touched
  uint64_t last_ticket_ = 0;
  std::atomic<bool> dropped_{false};
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};

}  // namespace attnscope::kernels::cuda
