#pragma once
// The per-key statistics of a layer's captured heads (column sums by key position,
// diagonal sums by distance), kept on the device in fp64 across every call of a run.
// The capture pass sums each call in fp32 (atomics); add() folds those sums into the
// doubles with one small kernel, the addition merge_key_sums did on the host
// (double(float) added in call order: the same result); decode steps on the split-KV
// kernel add theirs directly (target()). Nothing per key crosses PCIe
// until download(), once a run, where the per-call copies moved all keys seen so far
// at every call (O(N^2 / chunk) a head).
//
// Storage: one stream-ordered allocation from the backend's pool (counted in its
// memory), [columns | diagonals][slot][capacity] doubles.
#include <cstdint>
#include <memory>

#include "kernels/cuda/attention_capture_results.h"
#include "kernels/cuda/cuda_context.h"

namespace attnscope::kernels::cuda {

class DeviceKeySums {
 public:
  // Zeroed sums of `slots` heads for keys [0, capacity), on the context's stream.
  DeviceKeySums(std::shared_ptr<CudaContext> context, int slots, int64_t capacity);
  ~DeviceKeySums();
  DeviceKeySums(const DeviceKeySums&) = delete;
  DeviceKeySums& operator=(const DeviceKeySums&) = delete;

  // Bytes of the sums of `slots` heads over `capacity` keys.
  static int64_t bytes(int slots, int64_t capacity) { return 2 * 8 * int64_t(slots) * capacity; }

  int slots() const { return slots_; }
  int64_t capacity() const { return capacity_; }
  // Makes room for `keys` keys, keeping the sums (a new allocation and a copy).
  void reserve(int64_t keys);
  // columns[slot][k] += partial_columns[slot * stride + k] over range's columns, and the
  // same for the diagonals over its distances (the capture pass's per-call sums).
  void add(const float* partial_columns, const float* partial_diagonals, int64_t stride, const KeySumRange& range);
  // Where the sums lie, for a kernel that adds to them itself (the split-KV decode capture:
  // CapturePassRequest::add_key_sums_to); valid until the next reserve().
  Fp64KeySums target() const { return {columns(), diagonals(), capacity_}; }
  // Copies columns [slot][0, column_length) to `columns` ([slot][column_length]) and
  // diagonals likewise, host memory (pinned: asynchronous); the caller synchronises the stream.
  void download(double* columns, int64_t column_length, double* diagonals, int64_t distance_length) const;
  // Back to zero (after a download, when the sums have gone into the accumulators).
  void clear();

 private:
  double* columns() const { return data_; }
  double* diagonals() const { return data_ + int64_t(slots_) * capacity_; }

  std::shared_ptr<CudaContext> context_;
  int slots_ = 0;
  int64_t capacity_ = 0;
  double* data_ = nullptr;
};

// The kernel behind DeviceKeySums::add, on `stream`: to.columns[slot][k] +=
// partial_columns[slot * partial_stride + k] over range's columns for `slots` slots, and
// the diagonals likewise over its distances.
void add_key_sums_on_device(const float* partial_columns, const float* partial_diagonals, int64_t partial_stride,
                            const Fp64KeySums& to, int slots, const KeySumRange& range, cudaStream_t stream);

}  // namespace attnscope::kernels::cuda
