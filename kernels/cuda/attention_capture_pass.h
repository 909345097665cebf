#pragma once
// The capture (instrumentation) pass on the GPU: after the forward has written each
// row's log-sum-exp, recompute q.k tile by tile, get exact probabilities
// p = exp(s - lse), and reduce them in one sweep to what kernels::HeadAccumulator
// holds (sink and local mass, entropy, top-1, column and diagonal sums, pooled map,
// exact rows) plus an optional window of exact probabilities for zooming. Nothing of
// size N x N is allocated; device memory is O(heads x (n + keys)) plus the pooled
// rows and the window. Kernel design: attention_capture_kernel.cuh.
//
// Pure C++ header. Typical use (what CudaBackend::attention does with a capture):
//   float* lse = workspace.lse_buffer(num_heads, n);
//   params.lse = lse; params.lse_stride = n;
//   flash_attention_forward(params, stream);
//   capture_attention(params, *capture, workspace, stream);   // synchronises the stream
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/attention_capture.h"
#include "kernels/cuda/attention_capture_results.h"
#include "kernels/cuda/flash_attention.h"

struct CUstream_st;

namespace attnscope::kernels::cuda {

struct CapturePassRequest {
  std::vector<int> heads;  // query heads to capture, each in [0, num_heads)
  int64_t sink_tokens = 4;
  int64_t local_window = 64;
  int64_t pool_block = 64;  // any positive size; below 32 it is correct but slow
  bool statistics = true;   // false: only the window (a zoom), no sums
  ProbabilityWindow window;  // exact probabilities to keep; empty for none
  // The forward wrote each row's entropy and top-1 (the params' row_entropy and row_top1,
  // which must be set; flash_attention_forward's result): the Hopper capture kernel takes
  // them from there instead of computing them again.
  bool rows_from_forward = false;
  // Set, and the call is a decode step that takes the split-KV kernel (split_decode.h):
  // that kernel adds the call's column and diagonal sums to these fp64 sums itself, one
  // plain add per head and key, and the fp32 per-key buffers are neither zeroed nor
  // written (DeviceCaptureResults::column_sums is null). Saves a memset of and a pass over
  // 2 x heads x keys floats per layer and step. Else ignored.
  Fp64KeySums add_key_sums_to;
};

// Where the last run's results lie on the device (CaptureWorkspace::device_results),
// for a caller that copies them itself (the CUDA backend's capture pipeline).
struct DeviceCaptureResults {
  CaptureResults shape;                  // the run's shape; its vectors are empty
  const float* rows = nullptr;           // [4][slot][n]: entropy, top-1 (int32), sink mass, local mass
  // null where the split-KV kernel added them to CapturePassRequest::add_key_sums_to
  const float* column_sums = nullptr;    // [slot][key_stride], keys [0, key_count) written
  const float* diagonal_sums = nullptr;  // [slot][key_stride], distances [0, key_count) written
  int64_t key_stride = 0;
  const float* pooled = nullptr;        // [slot][pooled_rows][pooled_cols]
  const float* window_probs = nullptr;  // [slot][window rows][window cols]
};

// Device buffers of the pass, grown on demand and reused across calls. One per stream:
// a call's results stay valid until the next run on the same workspace.
class CaptureWorkspace {
 public:
  CaptureWorkspace();
  ~CaptureWorkspace();
  CaptureWorkspace(const CaptureWorkspace&) = delete;
  CaptureWorkspace& operator=(const CaptureWorkspace&) = delete;

  // A device buffer for the forward's lse, [num_heads][n] (lse_stride n).
  float* lse_buffer(int num_heads, int64_t n);
  // Device buffers for the forward's row entropy and top-1, each laid out as lse_buffer's.
  struct ForwardRows {
    float* entropy;
    int32_t* top1;
  };
  ForwardRows forward_rows_buffer(int num_heads, int64_t n);

  // Device bytes a run of `request` on a call of n rows from first_position needs
  // (results only; the lse buffer is num_heads * n * 4 more).
  static int64_t bytes_needed(const CapturePassRequest& request, int64_t first_position, int64_t n);

  // Sizes the result buffers for runs of up to `slots` heads, `rows` query rows, `keys`
  // keys (first_position + rows), pool block `pool_block` and windows of up to
  // `window_cells` probabilities a head, so that such runs allocate nothing: growing a
  // buffer frees the old one, and cudaFree synchronises the device.
  void reserve(int slots, int64_t rows, int64_t keys, int64_t pool_block, int64_t window_cells);

  // The last run's results, on the device; valid until the next run on this workspace.
  DeviceCaptureResults device_results() const;

  struct Buffers;  // defined in attention_capture_pass.cu

 private:
  friend void run_capture_pass(const FlashAttentionParams&, const CapturePassRequest&, CaptureWorkspace&,
                               CUstream_st*);
  friend CaptureResults download_capture_results(CaptureWorkspace&, CUstream_st*);
  std::unique_ptr<Buffers> buffers_;
};

// Whether a capture of this call should take the rows' entropy and top-1 from the
// forward: only when asked (ATTNSCOPE_CAPTURE_ROWS=forward) and the Hopper capture kernel
// runs it (not the split-KV decode one); computing them in the forward costs it more than
// it saves the capture (measured on the H100 at 16K-128K). Then the caller asks the
// forward for them (FlashAttentionParams::row_entropy) and sets rows_from_forward when the
// forward says it wrote them. ATTNSCOPE_CAPTURE_ROWS (read per call) = auto (the default:
// in the capture), forward or capture; another value throws attnscope::Error.
bool capture_takes_rows_from_forward(const FlashAttentionParams& attention);

// Launches the pass for `attention` (its q, k, shape and lse, which the forward must
// have written on the same stream; v and out are not read). Asynchronous. Throws
// attnscope::Error for an invalid request or shape and for CUDA failures.
void run_capture_pass(const FlashAttentionParams& attention, const CapturePassRequest& request,
                      CaptureWorkspace& workspace, CUstream_st* stream);

// Waits for the stream and copies the last run's results to the host.
CaptureResults download_capture_results(CaptureWorkspace& workspace, CUstream_st* stream);

// The pass for every head with an accumulator in `capture`, merged into those
// accumulators: the GPU counterpart of what the CPU backend does inside attention().
// Does nothing when no head is captured. rows_from_forward: as CapturePassRequest's.
void capture_attention(const FlashAttentionParams& attention, AttentionCapture& capture,
                       CaptureWorkspace& workspace, CUstream_st* stream, bool rows_from_forward = false);

}  // namespace attnscope::kernels::cuda
