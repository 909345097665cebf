// Causal attention (GQA, optional sliding window) with optional capture.
//
// Algorithm: the work is cut into (query head, block of up to kBlockRows query rows)
// pairs. For one pair, with rows at positions p0..p1 and keys visible to the block
// [k0, p1] (k0 = 0, or p0 - window + 1 under a sliding window):
//   S = scale * Q_blk K[k0..p1]^T      one SGEMM, [rows, p1 - k0 + 1], in scratch
//   each row: softmax over its own visible keys [first_visible(p), p] in float,
//             max subtracted, sum accumulated in double; the other entries of the
//             row (future keys, keys before the window) are set to 0
//   O_blk = P V[k0..p1]                 one SGEMM straight into `out`
// This is the arithmetic of PyTorch's eager attention (matmul, mask, softmax,
// matmul) restricted to the keys a block can see, so it matches it to ~1e-6, and
// both products run at BLAS speed. The masked triangle inside the last kBlockRows
// keys is the only wasted work.
//
// Threads: pairs run in parallel (OpenMP, dynamic, largest first); BLAS calls inside
// the region are single-threaded (OpenMP OpenBLAS). A captured head is one work
// item that walks its blocks in position order and feeds each row to its
// accumulator right after the softmax, because an accumulator takes rows in order
// and from one thread at a time.
//
// Assumes: q [n, H * D] and out [n, H * D] (row strides may be wider: views of a
// fused projection); caches [capacity, Hkv * D] with rows [0, first_position + n)
// filled; query row r at position first_position + r.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/cpu_vector_math.h"

namespace attnscope::kernels::cpu {
namespace {

constexpr int64_t kBlockRows = 128;
constexpr int64_t kMinBlockRows = 16;
constexpr int64_t kMaxScoreFloats = int64_t(1) << 22;  // 16 MiB of scores per thread at most
constexpr int kLanes = 16;

struct Problem {
  const float* q;
  int64_t q_stride;
  const float* k;
  int64_t k_stride;
  const float* v;
  int64_t v_stride;
  float* out;
  int64_t out_stride;
  int64_t rows;
  int64_t first_position;
  int64_t window;
  int64_t head_dim;
  int64_t group;  // query heads per KV head
  float scale;
};

struct WorkItem {
  int head;
  int64_t row_begin;
  int64_t row_count;
};

// First key a query at `position` sees.
inline int64_t first_visible(int64_t position, int64_t window) {
  return window > 0 ? std::max<int64_t>(0, position - window + 1) : 0;
}

// In place: row[lo..hi) = softmax(row[lo..hi)), the rest of row[0..width) = 0.
ATTNSCOPE_CPU_CLONES void softmax_row(float* row, int64_t width, int64_t lo, int64_t hi) {
  float* s = row + lo;
  const int64_t n = hi - lo;
  float max_lanes[kLanes];
  std::fill_n(max_lanes, kLanes, s[0]);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) max_lanes[j] = std::max(max_lanes[j], s[i + j]);
  float max = s[0];
  for (; i < n; ++i) max = std::max(max, s[i]);
  for (float m : max_lanes) max = std::max(max, m);

  for (i = 0; i < n; ++i) s[i] = exp_approx(s[i] - max);
  double sum_lanes[kLanes] = {};
  for (i = 0; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) sum_lanes[j] += double(s[i + j]);
  double sum = 0;
  for (; i < n; ++i) sum += double(s[i]);
  for (double l : sum_lanes) sum += l;

  const float inv = float(1.0 / sum);
  for (i = 0; i < n; ++i) s[i] *= inv;
  std::fill(row, row + lo, 0.0f);
  std::fill(row + hi, row + width, 0.0f);
}

// Rows [row_begin, row_begin + count) of one head: scores, softmax, optional capture,
// output. `scores` is this thread's scratch.
void attend_block(const Problem& p, int head, int64_t row_begin, int64_t count, std::vector<float>& scores,
                  HeadAccumulator* acc, const CaptureOptions* options) {
  const int64_t D = p.head_dim;
  const int64_t kv_head = head / p.group;
  const int64_t p0 = p.first_position + row_begin;
  const int64_t p1 = p0 + count - 1;
  const int64_t k0 = first_visible(p0, p.window);
  const int64_t keys = p1 - k0 + 1;
  // Row pitch padded to 16 floats, plus 16 more when it is a multiple of 1 KiB,
  // where rows would alias in the L1 sets.
  int64_t ld = (keys + 15) / 16 * 16;
  if (ld % 256 == 0) ld += 16;
  if (int64_t(scores.size()) < count * ld) scores.resize(std::size_t(count * ld));
  float* S = scores.data();

  const float* q = p.q + row_begin * p.q_stride + head * D;
  const float* k = p.k + k0 * p.k_stride + kv_head * D;
  const float* v = p.v + k0 * p.v_stride + kv_head * D;
  float* out = p.out + row_begin * p.out_stride + head * D;

  if (count == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(keys), blasint(D), p.scale, k, blasint(p.k_stride), q, 1,
                0.0f, S, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(count), blasint(keys), blasint(D), p.scale, q,
                blasint(p.q_stride), k, blasint(p.k_stride), 0.0f, S, blasint(ld));
  }
  for (int64_t r = 0; r < count; ++r) {
    const int64_t position = p0 + r;
    const int64_t lo = first_visible(position, p.window) - k0;
    const int64_t hi = position - k0 + 1;
    float* row = S + r * ld;
    softmax_row(row, keys, lo, hi);
    if (acc != nullptr) accumulate_attention_row(*acc, *options, position, row + lo, k0 + lo);
  }
  if (count == 1) {
    cblas_sgemv(CblasRowMajor, CblasTrans, blasint(keys), blasint(D), 1.0f, v, blasint(p.v_stride), S, 1, 0.0f,
                out, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(count), blasint(D), blasint(keys), 1.0f, S,
                blasint(ld), v, blasint(p.v_stride), 0.0f, out, blasint(p.out_stride));
  }
}

void check_shapes(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const AttentionShape& shape,
                  const Tensor& out, const AttentionCapture* capture) {
  require_f32("attention", "q", q);
  require_f32("attention", "k_cache", k_cache);
  require_f32("attention", "v_cache", v_cache);
  require_f32("attention", "out", out);
  const std::string heads = "heads " + std::to_string(shape.num_heads) + ", kv heads " +
                            std::to_string(shape.num_kv_heads) + ", head_dim " + std::to_string(shape.head_dim);
  if (shape.num_heads <= 0 || shape.num_kv_heads <= 0 || shape.head_dim <= 0 ||
      shape.num_heads % shape.num_kv_heads != 0)
    fail("attention", heads + ": counts must be positive and kv heads must divide heads");
  const int64_t q_width = int64_t(shape.num_heads) * shape.head_dim;
  const int64_t kv_width = int64_t(shape.num_kv_heads) * shape.head_dim;
  if (q.cols() != q_width) fail("attention", "q " + describe(q) + " is not [n, " + std::to_string(q_width) + "] for " + heads);
  if (out.rows() != q.rows() || out.cols() != q_width)
    fail("attention", "out " + describe(out) + " is not [" + std::to_string(q.rows()) + ", " +
                          std::to_string(q_width) + "] for q " + describe(q));
  if (k_cache.cols() != kv_width)
    fail("attention", "k_cache " + describe(k_cache) + " is not [capacity, " + std::to_string(kv_width) + "] for " + heads);
  require_same_shape("attention", "k_cache", k_cache, "v_cache", v_cache);
  if (shape.first_position < 0 || shape.first_position + q.rows() > k_cache.rows())
    fail("attention", "positions [" + std::to_string(shape.first_position) + ", " +
                          std::to_string(shape.first_position + q.rows()) + ") do not fit caches " +
                          describe(k_cache));
  if (shape.sliding_window < 0)
    fail("attention", "sliding window " + std::to_string(shape.sliding_window) + " is negative");
  if (overlaps(out, q) || overlaps(out, k_cache) || overlaps(out, v_cache))
    fail("attention", "out " + describe(out) + " overlaps an input");
  if (capture != nullptr && capture->heads.size() != std::size_t(shape.num_heads))
    fail("attention", "capture has " + std::to_string(capture->heads.size()) + " head slots for " +
                          std::to_string(shape.num_heads) + " query heads");
}

}  // namespace

void attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const AttentionShape& shape,
               Tensor& out, AttentionCapture* capture, int threads) {
  check_shapes(q, k_cache, v_cache, shape, out, capture);
  const int64_t n = q.rows();
  if (n == 0) return;
  const Problem p{q.data<float>(),     q.row_stride(),     k_cache.data<float>(), k_cache.row_stride(),
                  v_cache.data<float>(), v_cache.row_stride(), out.data<float>(),  out.row_stride(),
                  n,                   shape.first_position, shape.sliding_window, shape.head_dim,
                  shape.num_heads / shape.num_kv_heads, shape.scale};

  // Block rows: as many as fit the per-thread score budget for the widest block.
  const int64_t widest = shape.sliding_window > 0 ? shape.sliding_window + kBlockRows : shape.first_position + n;
  const int64_t block = std::clamp(kMaxScoreFloats / std::max<int64_t>(1, widest), kMinBlockRows, kBlockRows);

  // Captured heads first (each one long sequential item), then the other heads'
  // blocks from the last (widest) to the first, so dynamic scheduling ends balanced.
  std::vector<WorkItem> items;
  const int64_t blocks = (n + block - 1) / block;
  for (int h = 0; h < shape.num_heads; ++h)
    if (capture != nullptr && capture->heads[std::size_t(h)] != nullptr) items.push_back({h, 0, n});
  for (int64_t b = blocks - 1; b >= 0; --b)
    for (int h = 0; h < shape.num_heads; ++h)
      if (capture == nullptr || capture->heads[std::size_t(h)] == nullptr)
        items.push_back({h, b * block, std::min(block, n - b * block)});

  std::atomic<bool> failed{false};
  std::exception_ptr error;
  use_blas_threads(threads);  // only matters when a single item runs outside the team
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (items.size() > 1)
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    thread_local std::vector<float> scores;
    const WorkItem& item = items[i];
    HeadAccumulator* acc = capture != nullptr ? capture->heads[std::size_t(item.head)] : nullptr;
    try {
      for (int64_t r = item.row_begin; r < item.row_begin + item.row_count; r += block)
        attend_block(p, item.head, r, std::min(block, item.row_begin + item.row_count - r), scores, acc,
                     capture != nullptr ? &capture->options : nullptr);
    } catch (...) {
#pragma omp critical(attnscope_attention_error)
      if (!error) error = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace attnscope::kernels::cpu
