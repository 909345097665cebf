// The capture pass's host side: validates a request, sizes and zeroes the device
// result buffers, launches the kernel for its head dim and dtype (at most 256 heads
// per launch), downloads the results and merges them into accumulators.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kernels/cuda/attention_capture_args.h"
#include "kernels/cuda/attention_capture_kernels.h"
#include "kernels/cuda/attention_operands.h"
#include "kernels/cuda/attention_capture_pass.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/flash_attention_launch.h"
#include "kernels/cuda/split_decode.h"
#include "kernels/cuda/split_decode_launch.h"
#include "kernels/error.h"

namespace attnscope::kernels::cuda {
namespace {

constexpr const char* kWhere = "attention capture pass";

void check(cudaError_t status, const char* what) { detail::check_cuda(status, kWhere, what); }

void require(bool ok, const std::string& problem) {
  if (!ok) throw Error(kWhere, problem);
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Sizes of one run's results.
struct Layout {
  int64_t slots = 0, n = 0, key_count = 0, key_stride = 0;
  int64_t pooled_row0 = 0, pooled_rows = 0, pooled_cols = 0;
  int64_t window_size = 0;

  Layout(const CapturePassRequest& request, int64_t first_position, int64_t rows)
      : slots(int64_t(request.heads.size())), n(rows), key_count(first_position + rows) {
    key_stride = round_up(std::max<int64_t>(key_count, 1), 64);
    if (request.statistics && rows > 0) {
      const int64_t b = request.pool_block, last = first_position + rows - 1;
      pooled_row0 = first_position / b;
      pooled_rows = last / b - pooled_row0 + 1;
      pooled_cols = last / b + 1;
    }
    window_size = request.window.rows() * request.window.cols();
  }
  int64_t row_floats() const { return slots * n; }
  int64_t key_floats() const { return slots * key_stride; }
  int64_t pooled_floats() const { return slots * pooled_rows * pooled_cols; }
  int64_t window_floats() const { return slots * window_size; }
  int64_t bytes() const { return 4 * (4 * row_floats() + 2 * key_floats() + pooled_floats() + window_floats()); }
};

}  // namespace

struct CaptureWorkspace::Buffers {
  detail::DeviceBuffer lse{kWhere, "the forward's lse"}, forward_rows{kWhere, "the forward's row statistics"},
      rows{kWhere, "capture results"}, keys{kWhere, "capture results"},
      pooled{kWhere, "capture results"}, window{kWhere, "capture results"};
  detail::DeviceBuffer split_parts{kWhere, "the split-KV capture's per-row parts"};  // decode steps (split_decode.h)
  CaptureResults last;  // the last run's shape (vectors left empty until download)
  bool fp64_keys = false;  // the last run added its per-key sums to the caller's fp64 sums
  Layout layout{CapturePassRequest{}, 0, 0};
};

CaptureWorkspace::CaptureWorkspace() : buffers_(std::make_unique<Buffers>()) {}
CaptureWorkspace::~CaptureWorkspace() = default;

float* CaptureWorkspace::lse_buffer(int num_heads, int64_t n) {
  return buffers_->lse.reserve<float>(std::size_t(std::max(num_heads, 1)) * std::size_t(std::max<int64_t>(n, 1)));
}

CaptureWorkspace::ForwardRows CaptureWorkspace::forward_rows_buffer(int num_heads, int64_t n) {
  const std::size_t plane = std::size_t(std::max(num_heads, 1)) * std::size_t(std::max<int64_t>(n, 1));
  float* rows = buffers_->forward_rows.reserve<float>(2 * plane);
  return {rows, reinterpret_cast<int32_t*>(rows + plane)};
}

bool capture_takes_rows_from_forward(const FlashAttentionParams& attention) {
  const char* value = std::getenv("ATTNSCOPE_CAPTURE_ROWS");
  const std::string_view rows = value != nullptr ? value : "auto";
  if (rows != "auto" && rows != "forward" && rows != "capture")
    throw Error("ATTNSCOPE_CAPTURE_ROWS", "'" + std::string(rows) + "' is not auto, forward or capture");
  // auto means the capture: measured on the H100 since the capture's fixed work a tile was
  // cut (docs/benchmarks.md, "Where the rows are computed, again"), the forward pays more
  // for them than the capture saves at every length, 128K prefill included.
  if (rows != "forward") return false;
  return !split_decode_capture_chosen(attention) &&
         choose_capture_kernel(attention, capture_kernel_from_environment()) == FlashKernel::Hopper;
}

void CaptureWorkspace::reserve(int slots, int64_t rows, int64_t keys, int64_t pool_block, int64_t window_cells) {
  require(slots >= 0 && rows >= 0 && keys >= rows && pool_block > 0 && window_cells >= 0,
          "cannot reserve for " + std::to_string(slots) + " heads, " + std::to_string(rows) + " rows, " +
              std::to_string(keys) + " keys, pool block " + std::to_string(pool_block));
  const auto s = std::size_t(slots);
  // Query blocks a run of `rows` rows can touch, wherever it starts; key blocks up to `keys`.
  const int64_t pooled_rows = rows > 0 ? (rows + pool_block - 2) / pool_block + 1 : 0;
  const int64_t pooled_cols = (keys + pool_block - 1) / pool_block;
  buffers_->rows.reserve<float>(s * std::size_t(4 * rows));
  buffers_->keys.reserve<float>(s * std::size_t(2 * round_up(std::max<int64_t>(keys, 1), 64)));
  buffers_->pooled.reserve<float>(s * std::size_t(pooled_rows * pooled_cols));
  buffers_->window.reserve<float>(s * std::size_t(window_cells));
  buffers_->split_parts.reserve<float>(std::size_t(detail::split_decode_capture_reserve_floats(slots, rows)));
}

DeviceCaptureResults CaptureWorkspace::device_results() const {
  const Buffers& b = *buffers_;
  DeviceCaptureResults d;
  d.shape = b.last;
  const auto* keys = static_cast<const float*>(b.keys.data());
  d.rows = static_cast<const float*>(b.rows.data());
  d.column_sums = keys != nullptr && !b.fp64_keys ? keys : nullptr;
  d.diagonal_sums = d.column_sums != nullptr ? keys + b.layout.key_floats() : nullptr;
  d.key_stride = b.layout.key_stride;
  d.pooled = static_cast<const float*>(b.pooled.data());
  d.window_probs = static_cast<const float*>(b.window.data());
  return d;
}

int64_t CaptureWorkspace::bytes_needed(const CapturePassRequest& request, int64_t first_position, int64_t n) {
  return Layout(request, first_position, n).bytes();
}

void run_capture_pass(const FlashAttentionParams& a, const CapturePassRequest& request, CaptureWorkspace& workspace,
                      CUstream_st* stream) {
  require(a.dtype == DType::BF16 || a.dtype == DType::F16, "dtype must be BF16 or F16");
  require(flash_attention_supports_head_dim(a.head_dim),
          "head_dim " + std::to_string(a.head_dim) + " must be one of 16, 32, 64, 80, 96, 128");
  require(a.num_heads > 0 && a.num_kv_heads > 0 && a.num_heads % a.num_kv_heads == 0,
          "kv heads must divide heads");
  require(a.n >= 0 && a.first_position >= 0 && a.sliding_window >= 0 && a.scale > 0.0f,
          "negative n, position or window, or a scale that is not positive");
  require(a.first_position + a.n < int64_t(INT32_MAX) - 128, "positions do not fit 32 bits");
  require(a.lse != nullptr && a.lse_stride >= a.n, "the pass needs the forward's lse (params.lse, lse_stride >= n)");
  require(request.pool_block > 0, "pool block " + std::to_string(request.pool_block) + " is not positive");
  require(request.sink_tokens >= 0 && request.local_window >= 0, "negative sink tokens or local window");
  require(!request.rows_from_forward || (a.row_entropy != nullptr && a.row_top1 != nullptr),
          "rows from the forward, but the params have no row_entropy and row_top1");
  for (int h : request.heads)
    require(h >= 0 && h < a.num_heads, "head " + std::to_string(h) + " is not in [0, " + std::to_string(a.num_heads) + ")");
  const ProbabilityWindow& w = request.window;
  require(w.empty() || (w.query_begin >= 0 && w.key_begin >= 0 && w.query_end <= INT32_MAX && w.key_end <= INT32_MAX),
          "probability window out of range");
  const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  require(a.n == 0 || (aligned(a.q) && aligned(a.k) && a.q_stride % 8 == 0 && a.k_stride % 8 == 0),
          "q and k must be 16-byte aligned with row strides a multiple of 8 elements");

  const Fp64KeySums& fp64 = request.add_key_sums_to;
  require(fp64.columns == nullptr || (fp64.diagonals != nullptr && fp64.stride >= a.first_position + a.n),
          "fp64 key sums of " + std::to_string(fp64.stride) + " keys for a call reaching key " +
              std::to_string(a.first_position + a.n));

  CaptureWorkspace::Buffers& buffers = *workspace.buffers_;
  const Layout layout(request, a.first_position, a.n);
  buffers.layout = layout;
  buffers.fp64_keys = false;
  CaptureResults& shape = buffers.last;
  shape = CaptureResults{};
  shape.heads = request.heads;
  shape.n = a.n;
  shape.first_position = a.first_position;
  shape.sliding_window = a.sliding_window;
  shape.key_count = layout.key_count;
  shape.statistics = request.statistics;
  shape.pool_block = request.pool_block;
  shape.pooled_row0 = layout.pooled_row0;
  shape.pooled_rows = layout.pooled_rows;
  shape.pooled_cols = layout.pooled_cols;
  shape.window = request.window;
  if (a.n == 0 || request.heads.empty()) return;

  // Decode steps: one CTA per (KV head, key split) instead of one per head (split_decode.h).
  const bool split = split_decode_capture_chosen(a);
  buffers.fp64_keys = split && fp64.columns != nullptr && request.statistics;
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  float* rows = buffers.rows.reserve<float>(std::size_t(4 * layout.row_floats()));
  float* keys = buffers.keys.reserve<float>(std::size_t(2 * layout.key_floats()));
  float* pooled = buffers.pooled.reserve<float>(std::size_t(layout.pooled_floats()));
  float* window = buffers.window.reserve<float>(std::size_t(layout.window_floats()));
  if (!buffers.fp64_keys) check(cudaMemsetAsync(keys, 0, std::size_t(2 * layout.key_floats()) * 4, s), "cudaMemsetAsync");
  if (layout.pooled_floats() > 0) check(cudaMemsetAsync(pooled, 0, std::size_t(layout.pooled_floats()) * 4, s), "cudaMemsetAsync");
  if (layout.window_floats() > 0) check(cudaMemsetAsync(window, 0, std::size_t(layout.window_floats()) * 4, s), "cudaMemsetAsync");

  detail::CaptureArgs args;
  detail::fill_attention_operands(args, a);
  if (request.rows_from_forward) {
    args.forward_entropy = a.row_entropy;
    args.forward_top1 = a.row_top1;
    args.forward_stride = a.lse_stride;
  }
  args.statistics = request.statistics;
  // Thresholds past every position behave alike; clamping keeps the kernel's int sums in range.
  args.sink_tokens = int(std::min<int64_t>(request.sink_tokens, layout.key_count + 1));
  args.local_window = int(std::min<int64_t>(request.local_window, layout.key_count + 1));
  args.pool_block = int(std::min<int64_t>(request.pool_block, layout.key_count + 1));
  args.row_stride = layout.n;
  args.key_stride = layout.key_stride;
  args.key_count = int(layout.key_count);
  args.pooled_row0 = int(layout.pooled_row0);
  args.pooled_rows = int(layout.pooled_rows);
  args.pooled_cols = int(layout.pooled_cols);
  args.pooled_stride = layout.pooled_rows * layout.pooled_cols;
  if (!w.empty()) {
    args.window_q0 = int(w.query_begin);
    args.window_q1 = int(w.query_end);
    args.window_k0 = int(w.key_begin);
    args.window_k1 = int(w.key_end);
    args.window_stride = layout.window_size;
  }

  const int64_t slots = layout.slots;
  for (int64_t begin = 0; begin < slots; begin += detail::kMaxCapturedHeads) {
    const int count = int(std::min<int64_t>(detail::kMaxCapturedHeads, slots - begin));
    std::copy_n(request.heads.begin() + begin, count, args.heads);
    args.row_entropy = rows + begin * layout.n;
    args.row_top1 = reinterpret_cast<int32_t*>(rows + layout.row_floats() + begin * layout.n);
    args.row_sink = rows + 2 * layout.row_floats() + begin * layout.n;
    args.row_local = rows + 3 * layout.row_floats() + begin * layout.n;
    args.column_sums = keys + begin * layout.key_stride;
    args.diagonal_sums = keys + layout.key_floats() + begin * layout.key_stride;
    if (buffers.fp64_keys) {
      args.fp64_columns = fp64.columns + begin * fp64.stride;
      args.fp64_diagonals = fp64.diagonals + begin * fp64.stride;
      args.fp64_stride = fp64.stride;
    }
    args.pooled = pooled + begin * args.pooled_stride;
    args.window_probs = w.empty() ? nullptr : window + begin * layout.window_size;
    if (split)
      detail::launch_split_decode_capture_pass(a, args, count, buffers.split_parts, s);
    else
      detail::launch_capture_kernel(a, args, count, stream);  // portable or Hopper (attention_capture_kernels.h)
    check(cudaGetLastError(), "capture kernel launch");
  }
}

CaptureResults download_capture_results(CaptureWorkspace& workspace, CUstream_st* stream) {
  CaptureWorkspace::Buffers& buffers = *workspace.buffers_;
  const Layout& layout = buffers.layout;
  CaptureResults r = buffers.last;
  require(!buffers.fp64_keys, "the last call added its per-key sums to the caller's fp64 sums: read those instead");
  auto* s = reinterpret_cast<cudaStream_t>(stream);
  check(cudaStreamSynchronize(s), "capture pass");
  if (r.n == 0 || r.heads.empty()) return r;
  const auto copy = [&](auto& host, const void* device, int64_t count) {
    host.resize(std::size_t(count));
    if (count > 0) check(cudaMemcpy(host.data(), device, std::size_t(count) * 4, cudaMemcpyDeviceToHost), "download");
  };
  const auto* rows = static_cast<const float*>(buffers.rows.data());
  const int64_t rf = layout.row_floats();
  copy(r.row_entropy, rows, rf);
  copy(r.row_top1, rows + rf, rf);
  if (r.statistics) {
    copy(r.row_sink, rows + 2 * rf, rf);
    copy(r.row_local, rows + 3 * rf, rf);
    // Keys are stored with a padded stride; results hold key_count per slot.
    std::vector<float> keys;
    copy(keys, buffers.keys.data(), 2 * layout.key_floats());
    r.column_sums.resize(std::size_t(layout.slots * layout.key_count));
    r.diagonal_sums.resize(std::size_t(layout.slots * layout.key_count));
    for (int64_t slot = 0; slot < layout.slots; ++slot) {
      std::copy_n(keys.begin() + slot * layout.key_stride, layout.key_count,
                  r.column_sums.begin() + slot * layout.key_count);
      std::copy_n(keys.begin() + layout.key_floats() + slot * layout.key_stride, layout.key_count,
                  r.diagonal_sums.begin() + slot * layout.key_count);
    }
    copy(r.pooled, buffers.pooled.data(), layout.pooled_floats());
  }
  copy(r.window_probs, buffers.window.data(), layout.window_floats());
  return r;
}

void capture_attention(const FlashAttentionParams& attention, AttentionCapture& capture, CaptureWorkspace& workspace,
                       CUstream_st* stream, bool rows_from_forward) {
  require(capture.heads.size() == std::size_t(attention.num_heads),
          "capture has " + std::to_string(capture.heads.size()) + " head slots for " +
              std::to_string(attention.num_heads) + " query heads");
  CapturePassRequest request;
  int64_t block = 0;
  for (int h = 0; h < attention.num_heads; ++h) {
    const HeadAccumulator* acc = capture.heads[std::size_t(h)];
    if (acc == nullptr) continue;
    request.heads.push_back(h);
    // accumulate_attention_row keeps the block of the first row it saw.
    const int64_t b = acc->pooled.sums.empty() ? capture.options.pool_block : acc->pooled.block;
    require(block == 0 || block == b, "captured heads pool by different block sizes (" + std::to_string(block) +
                                          " and " + std::to_string(b) + ")");
    block = b;
  }
  if (request.heads.empty() || attention.n == 0) return;
  request.sink_tokens = capture.options.sink_tokens;
  request.local_window = capture.options.local_window;
  request.pool_block = block;
  request.window = exact_rows_window(capture.options, attention.first_position, attention.n);
  request.rows_from_forward = rows_from_forward;
  run_capture_pass(attention, request, workspace, stream);
  const CaptureResults results = download_capture_results(workspace, stream);
  for (std::size_t slot = 0; slot < request.heads.size(); ++slot)
    merge_capture_results(results, int(slot), capture.options,
                          *capture.heads[std::size_t(request.heads[slot])]);
}

}  // namespace attnscope::kernels::cuda
