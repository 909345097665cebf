// CapturePipeline and HeldDeviceStatistics (capture_pipeline.h): the CUDA backend's
// captured attention calls, their staging and their merges.
#include "kernels/cuda/capture_pipeline.h"

#include <algorithm>
#include <string>
#include <thread>

#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "attention capture";

void check(cudaError_t status, const char* call) { check_cuda(status, kWhere, call); }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Seconds between two completed events; 0 where the driver cannot say.
double seconds_between(cudaEvent_t from, cudaEvent_t to) {
  float ms = 0;
  if (cudaEventElapsedTime(&ms, from, to) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return double(ms) / 1000;
}

bool same_options(const CaptureOptions& a, const CaptureOptions& b) {
  return a.sink_tokens == b.sink_tokens && a.local_window == b.local_window && a.pool_block == b.pool_block &&
         a.exact_probabilities == b.exact_probabilities && a.exact_limit == b.exact_limit;
}

int captured_heads(const AttentionCapture& capture) {
  return int(std::count_if(capture.heads.begin(), capture.heads.end(), [](auto* h) { return h != nullptr; }));
}

}  // namespace

// One call's results on their way: the device results (workspace), the pinned copy of
// the parts the host merges, and the call's events (timing; `copied` is what the merge
// waits for, without spinning).
struct CapturePipeline::StagingSet {
  StagingSet() {
    try {
      for (cudaEvent_t* e : {&forward_start, &capture_start, &computed, &copy_start})
        check(cudaEventCreate(e), "cudaEventCreate");
      check(cudaEventCreateWithFlags(&copied, cudaEventBlockingSync), "cudaEventCreate");
    } catch (...) {
      destroy_events();
      throw;
    }
  }
  ~StagingSet() { destroy_events(); }
  StagingSet(const StagingSet&) = delete;
  StagingSet& operator=(const StagingSet&) = delete;

  void destroy_events() {
    for (cudaEvent_t e : {forward_start, capture_start, computed, copy_start, copied})
      if (e != nullptr) cudaEventDestroy(e);
  }

  CaptureWorkspace workspace;
  PinnedBuffer host;
  cudaEvent_t forward_start = nullptr, capture_start = nullptr, computed = nullptr, copy_start = nullptr,
              copied = nullptr;
  double copied_bytes = 0;
  bool busy = false;  // from acquire_set until its merge job has run (sets_mutex_)
  std::chrono::steady_clock::time_point arrived;  // when its last merge saw the copies done (sets_mutex_)
};

std::shared_ptr<CapturePipeline> CapturePipeline::create(std::shared_ptr<CudaContext> context) {
  return std::shared_ptr<CapturePipeline>(new CapturePipeline(std::move(context)));
}

CapturePipeline::CapturePipeline(std::shared_ptr<CudaContext> context)
    : context_(std::move(context)), queue_(MergeQueue::default_helpers(std::thread::hardware_concurrency())) {
  context_->activate();
  check(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  try {
    for (int i = 0; i < kCaptureStagingSets; ++i) sets_.push_back(std::make_unique<StagingSet>());
  } catch (...) {
    cudaStreamDestroy(copy_stream_);
    throw;
  }
}

CapturePipeline::~CapturePipeline() {
  // Every HeldDeviceStatistics is gone (each owns this), and with it every merge job;
  // a copy may still run where a call failed between its copies and its job.
  cudaSetDevice(context_->device());
  cudaStreamSynchronize(copy_stream_);
  cudaStreamDestroy(copy_stream_);
}

HeldDeviceStatistics& CapturePipeline::held_for(AttentionCapture& capture, int64_t key_capacity) {
  auto* held = dynamic_cast<HeldDeviceStatistics*>(capture.held.get());
  if (held != nullptr && held->continues(*this, capture)) return *held;
  // Statistics held for other accumulators, options or another backend go in first.
  finish_capture(capture);
  auto fresh = std::make_shared<HeldDeviceStatistics>(shared_from_this(), capture, key_capacity);
  held = fresh.get();
  capture.held = std::move(fresh);
  return *held;
}

CapturePipeline::StagingSet& CapturePipeline::acquire_set() {
  std::unique_lock lock(sets_mutex_);
  StagingSet& set = *sets_[next_set_];
  if (set.busy) {
    const auto start = Clock::now();
    set_released_.wait(lock, [&] { return !set.busy; });
    const auto end = Clock::now();
    add_time(&CudaCaptureTimings::stall_seconds, std::chrono::duration<double>(end - start).count());
    add_time(&CudaCaptureTimings::merge_stall_seconds,
             std::chrono::duration<double>(end - std::max(start, set.arrived)).count());
  }
  set.busy = true;
  next_set_ = (next_set_ + 1) % sets_.size();
  return set;
}

void CapturePipeline::release_set(StagingSet& set, Clock::time_point arrived) {
  {
    std::lock_guard lock(sets_mutex_);
    set.busy = false;
    set.arrived = arrived;
  }
  set_released_.notify_all();
}

void CapturePipeline::run(FlashAttentionParams p, AttentionCapture& capture, int64_t key_capacity,
                          const std::function<bool(const FlashAttentionParams&)>& forward) {
  context_->activate();
  HeldDeviceStatistics& held = held_for(capture, key_capacity);
  held.rethrow_failure();
  const int slots = int(held.heads_.size());
  const int64_t capacity = std::max(key_capacity, p.first_position + p.n);
  CapturePassRequest request;
  request.heads = held.heads_;
  request.sink_tokens = held.options_.sink_tokens;
  request.local_window = held.options_.local_window;
  request.pool_block = held.pool_block_;
  request.window = exact_rows_window(held.options_, p.first_position, p.n);
  const int64_t window_cells = request.window.rows() * request.window.cols();
  held.sums_.reserve(capacity);
  request.add_key_sums_to = held.sums_.target();

  cudaStream_t stream = context_->stream();
  StagingSet& set = acquire_set();
  struct Release {
    CapturePipeline& owner;
    StagingSet& staging;
    bool armed = true;
    ~Release() {
      if (armed) owner.release_set(staging, Clock::now());
    }
  } release{*this, set};
  // The set's device results were copied out before its last merge ran; this puts that
  // order into the stream too.
  check(cudaStreamWaitEvent(stream, set.copied, 0), "cudaStreamWaitEvent");
  // Sized for the cache's capacity at the first call: nothing grows (or synchronises) later.
  set.workspace.reserve(slots, p.n, capacity, request.pool_block, window_cells);
  set.host.reserve(std::size_t(StagingLayout::capacity_floats(slots, p.n, capacity, request.pool_block, window_cells)) *
                       sizeof(float),
                   "the capture's staging buffers");

  p.lse = set.workspace.lse_buffer(p.num_heads, p.n);
  p.lse_stride = p.n;
  if (capture_takes_rows_from_forward(p)) {
    const CaptureWorkspace::ForwardRows rows = set.workspace.forward_rows_buffer(p.num_heads, p.n);
    p.row_entropy = rows.entropy;
    p.row_top1 = rows.top1;
  }
  check(cudaEventRecord(set.forward_start, stream), "cudaEventRecord");
  request.rows_from_forward = forward(p);
  check(cudaEventRecord(set.capture_start, stream), "cudaEventRecord");
  run_capture_pass(p, request, set.workspace, stream);
  const DeviceCaptureResults d = set.workspace.device_results();
  const KeySumRange range = key_sum_range(p.first_position, p.n, p.sliding_window);
  if (d.column_sums != nullptr)  // else the split-KV decode kernel added them itself
    held.sums_.add(d.column_sums, d.diagonal_sums, d.key_stride, range);
  held.column_length_ = std::max(held.column_length_, range.column_end);
  held.distance_length_ = std::max(held.distance_length_, range.distance_end);
  check(cudaEventRecord(set.computed, stream), "cudaEventRecord");

  const StagingLayout layout(d.shape);
  float* staged = set.host.as<float>();
  const auto copy = [&](float* to, const float* from, int64_t floats) {
    if (floats > 0)
      check(cudaMemcpyAsync(to, from, std::size_t(floats) * sizeof(float), cudaMemcpyDeviceToHost, copy_stream_),
            "cudaMemcpyAsync");
  };
  check(cudaStreamWaitEvent(copy_stream_, set.computed, 0), "cudaStreamWaitEvent");
  check(cudaEventRecord(set.copy_start, copy_stream_), "cudaEventRecord");
  copy(staged, d.rows, layout.rows_floats);
  copy(staged + layout.pooled_offset(), d.pooled, layout.pooled_floats);
  copy(staged + layout.window_offset(), d.window_probs, layout.window_floats);
  check(cudaEventRecord(set.copied, copy_stream_), "cudaEventRecord");
  set.copied_bytes = double(layout.floats()) * sizeof(float);

  HeldDeviceStatistics* target = &held;
  StagingSet* staging = &set;
  held.last_ticket_ = queue_.push([this, target, staging, shape = d.shape, options = held.options_] {
    merge(*target, *staging, shape, options);
  });
  release.armed = false;  // the merge job releases the set
}

void CapturePipeline::merge(HeldDeviceStatistics& held, StagingSet& set, const CaptureResults& shape,
                            const CaptureOptions& options) {
  struct Release {
    CapturePipeline& owner;
    StagingSet& staging;
    Clock::time_point arrived = Clock::now();
    ~Release() { owner.release_set(staging, arrived); }
  } release{*this, set};
  cudaSetDevice(context_->device());
  const cudaError_t status = cudaEventSynchronize(set.copied);
  release.arrived = Clock::now();
  if (status != cudaSuccess) {
    cudaGetLastError();
    held.fail(std::make_exception_ptr(Error(kWhere, std::string("the device work of a captured call failed: ") +
                                                        cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                                                        ")")));
    return;
  }
  {
    std::lock_guard lock(timings_mutex_);
    timings_.calls += 1;
    timings_.forward_seconds += seconds_between(set.forward_start, set.capture_start);
    timings_.kernel_seconds += seconds_between(set.capture_start, set.computed);
    timings_.transfer_seconds += seconds_between(set.copy_start, set.copied);
    timings_.transfer_bytes += set.copied_bytes;
  }
  if (held.dropped_) return;
  const auto start = Clock::now();
  const CaptureRowData data = StagingLayout(shape).data(set.host.as<const float>());
  try {
    held.rethrow_failure();  // an earlier call's rows are missing: the accumulators are not to grow further
    queue_.parallel_for(int64_t(held.accumulators_.size()), [&](int64_t slot) {
      merge_capture_rows(shape, data, int(slot), options, *held.accumulators_[std::size_t(slot)]);
    });
  } catch (...) {
    held.fail(std::current_exception());
  }
  add_time(&CudaCaptureTimings::merge_seconds, seconds_since(start));
}

void CapturePipeline::finish(HeldDeviceStatistics& held) {
  const auto start = Clock::now();
  queue_.wait(held.last_ticket_);
  held.rethrow_failure();
  const int64_t columns_length = held.column_length_, distances_length = held.distance_length_;
  if (columns_length > 0 || distances_length > 0) {
    std::lock_guard lock(finish_mutex_);
    context_->activate();
    const auto slots = int64_t(held.accumulators_.size());
    const int64_t doubles = slots * (columns_length + distances_length);
    finish_staging_.reserve(std::size_t(doubles) * sizeof(double), "the download of the per-key sums");
    double* columns = finish_staging_.as<double>();
    double* diagonals = columns + slots * columns_length;
    const auto copy_start = Clock::now();
    held.sums_.download(columns, columns_length, diagonals, distances_length);
    context_->synchronize(kWhere);
    add_time(&CudaCaptureTimings::transfer_seconds, seconds_since(copy_start));
    add_time(&CudaCaptureTimings::transfer_bytes, double(doubles) * sizeof(double));
    queue_.parallel_for(slots, [&](int64_t slot) {
      add_key_sums(columns + slot * columns_length, columns_length, diagonals + slot * distances_length,
                   distances_length, *held.accumulators_[std::size_t(slot)]);
    });
    held.sums_.clear();
    held.column_length_ = held.distance_length_ = 0;
  }
  add_time(&CudaCaptureTimings::finish_seconds, seconds_since(start));
}

void CapturePipeline::add_time(double CudaCaptureTimings::*field, double seconds) {
  std::lock_guard lock(timings_mutex_);
  timings_.*field += seconds;
}

CudaCaptureTimings CapturePipeline::timings() const {
  std::lock_guard lock(timings_mutex_);
  return timings_;
}

void CapturePipeline::reset_timings() {
  std::lock_guard lock(timings_mutex_);
  timings_ = {};
}

HeldDeviceStatistics::HeldDeviceStatistics(std::shared_ptr<CapturePipeline> pipeline, const AttentionCapture& capture,
                                           int64_t key_capacity)
    : pipeline_(std::move(pipeline)),
      slots_(capture.heads),
      options_(capture.options),
      sums_(pipeline_->context_, captured_heads(capture), key_capacity) {
  int64_t block = 0;
  for (std::size_t h = 0; h < capture.heads.size(); ++h) {
    HeadAccumulator* acc = capture.heads[h];
    if (acc == nullptr) continue;
    heads_.push_back(int(h));
    accumulators_.push_back(acc);
    // accumulate_attention_row keeps the block of the first row it saw. No merge can be
    // writing into these accumulators: nothing else holds them.
    const int64_t b = acc->pooled.sums.empty() ? capture.options.pool_block : acc->pooled.block;
    if (block != 0 && block != b)
      throw Error(kWhere, "captured heads pool by different block sizes (" + std::to_string(block) + " and " +
                              std::to_string(b) + ")");
    block = b;
  }
  pool_block_ = block;
}

HeldDeviceStatistics::~HeldDeviceStatistics() {
  dropped_ = true;
  try {
    pipeline_->queue_.wait(last_ticket_);
  } catch (...) {  // another capture's escaped error: nothing to do with it here
  }
}

void HeldDeviceStatistics::finish() { pipeline_->finish(*this); }

bool HeldDeviceStatistics::continues(const CapturePipeline& pipeline, const AttentionCapture& capture) const {
  return pipeline_.get() == &pipeline && capture.heads == slots_ && same_options(capture.options, options_);
}

void HeldDeviceStatistics::fail(std::exception_ptr error) {
  std::lock_guard lock(failure_mutex_);
  if (!failure_) failure_ = std::move(error);
}

void HeldDeviceStatistics::rethrow_failure() {
  std::exception_ptr error;
  {
    std::lock_guard lock(failure_mutex_);
    error = failure_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace attnscope::kernels::cuda
