// One head's exact attention: scores by SGEMM in row blocks, sums in double.
#include "analysis/masks/head_attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/masks/sorted_rows.h"
#include "kernels/cpu/cpu_vector_math.h"
#include "kernels/error.h"

namespace attnscope::masks {
namespace {

constexpr const char* kWhere = "head attention";
constexpr int64_t kRowBlock = 64;

// Row pitch for a score block: padded to 16 floats, off multiples of 1 KiB.
int64_t pitch(int64_t width) {
  int64_t ld = (width + 15) / 16 * 16;
  if (ld % 256 == 0) ld += 16;
  return ld;
}

// Row block [r0, r0 + count): scores of its visible key span, then in place the exact
// probabilities p = exp(s - lse) (entries a row does not see are 0). Returns the span's
// first key; `lse` is read when `known_lse`, else written.
int64_t probability_block(const HeadAttention& head, int64_t r0, int64_t count, std::vector<float>& S,
                          int64_t& ld, double* lse, bool known_lse) {
  const int64_t key0 = head.first_visible(r0);
  const int64_t width = head.position(r0 + count - 1) - key0 + 1;
  ld = pitch(width);
  if (int64_t(S.size()) < count * ld) S.resize(std::size_t(count * ld));
  head.scores(r0, count, key0, width, S.data(), ld);
  for (int64_t r = 0; r < count; ++r) {
    float* row = S.data() + r * ld;
    const int64_t lo = head.first_visible(r0 + r) - key0, hi = head.position(r0 + r) - key0 + 1;
    if (!known_lse) {
      float max = row[lo];
      for (int64_t j = lo; j < hi; ++j) max = std::max(max, row[j]);
      double sum = 0;
      for (int64_t j = lo; j < hi; ++j) sum += double(kernels::cpu::exp_approx(row[j] - max));
      lse[r] = double(max) + std::log(sum);
    }
    const float l = float(lse[r]);
    for (int64_t j = lo; j < hi; ++j) row[j] = kernels::cpu::exp_approx(row[j] - l);
    std::fill(row, row + lo, 0.0f);
    std::fill(row + hi, row + width, 0.0f);
  }
  return key0;
}

}  // namespace

HeadAttention::HeadAttention(const HeadInputs& inputs) : in_(inputs) {
  const bool shape_only = in_.q == nullptr && in_.k == nullptr && in_.v == nullptr;
  if (!shape_only && (in_.q == nullptr || in_.k == nullptr || in_.v == nullptr))
    throw Error(kWhere, "the head's q, k or v view is missing");
  if (in_.rows < 0 || in_.first_position < 0 || in_.head_dim < 1 || in_.model_window < 0 ||
      (!shape_only && (in_.q_stride < in_.head_dim || in_.k_stride < in_.head_dim || in_.v_stride < in_.head_dim)))
    throw Error(kWhere, "rows " + std::to_string(in_.rows) + " from position " + std::to_string(in_.first_position) +
                            ", head_dim " + std::to_string(in_.head_dim) + ": sizes or strides out of range");
}

HeadAttention::~HeadAttention() = default;

int64_t HeadAttention::first_visible(int64_t row) const {
  const int64_t p = position(row);
  return in_.model_window > 0 ? std::max<int64_t>(0, p - in_.model_window + 1) : 0;
}

int64_t HeadAttention::visible_entries() const {
  int64_t total = 0;
  for (int64_t r = 0; r < in_.rows; ++r) total += visible(r);
  return total;
}

void HeadAttention::require_views() const {
  if (in_.q == nullptr)
    throw Error(kWhere, "the head has no q, k or v views (a shape-only head, as a selector that reads only the "
                        "call's shape gets it): its attention cannot be computed");
}

void HeadAttention::scores(int64_t row, int64_t count, int64_t key0, int64_t keys, float* S, int64_t ld) const {
  require_views();
  if (count <= 0 || keys <= 0) return;
  const int64_t D = in_.head_dim;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(count), blasint(keys), blasint(D), in_.scale,
              in_.q + row * in_.q_stride, blasint(in_.q_stride), in_.k + key0 * in_.k_stride, blasint(in_.k_stride),
              0.0f, S, blasint(ld));
}

void HeadAttention::compute_dense() const {
  if (dense_done_) return;
  require_views();
  const int64_t n = in_.rows, D = in_.head_dim, keys = in_.keys();
  lse_.assign(std::size_t(n), 0.0);
  output_.assign(std::size_t(n * D), 0.0f);
  column_sums_.assign(std::size_t(keys), 0.0);
  diagonal_sums_.assign(std::size_t(keys), 0.0);
  std::vector<float> S;
  for (int64_t r0 = 0; r0 < n; r0 += kRowBlock) {
    const int64_t count = std::min(kRowBlock, n - r0);
    int64_t ld = 0;
    const int64_t key0 = probability_block(*this, r0, count, S, ld, lse_.data() + r0, false);
    const int64_t width = position(r0 + count - 1) - key0 + 1;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(count), blasint(D), blasint(width), 1.0f, S.data(),
                blasint(ld), in_.v + key0 * in_.v_stride, blasint(in_.v_stride), 0.0f, output_.data() + r0 * D,
                blasint(D));
    for (int64_t r = 0; r < count; ++r) {
      const float* row = S.data() + r * ld;
      const int64_t p = position(r0 + r);
      const int64_t lo = first_visible(r0 + r);
      for (int64_t key = lo; key <= p; ++key) {
        const double x = row[key - key0];
        column_sums_[std::size_t(key)] += x;
        diagonal_sums_[std::size_t(p - key)] += x;
      }
    }
  }
  dense_done_ = true;
}

const std::vector<double>& HeadAttention::lse() const { return compute_dense(), lse_; }
const std::vector<float>& HeadAttention::output() const { return compute_dense(), output_; }
const std::vector<double>& HeadAttention::column_sums() const { return compute_dense(), column_sums_; }
const std::vector<double>& HeadAttention::diagonal_sums() const { return compute_dense(), diagonal_sums_; }

const std::vector<double>& HeadAttention::block_mass(int64_t block) const {
  if (block < 1) throw Error(kWhere, "block size " + std::to_string(block) + "; it must be 1 or more");
  if (auto it = block_mass_.find(block); it != block_mass_.end()) return it->second;
  const int64_t query_blocks = (in_.rows + block - 1) / block;
  const int64_t key_blocks = (in_.keys() + block - 1) / block;
  std::vector<double> mass(std::size_t(query_blocks * key_blocks), 0.0);
  for_each_row([&](int64_t row, int64_t first_key, const float* p, int64_t count) {
    double* out = mass.data() + (row / block) * key_blocks;
    for (int64_t j = 0; j < count; ++j) out[(first_key + j) / block] += double(p[j]);
  });
  return block_mass_.emplace(block, std::move(mass)).first->second;
}

void HeadAttention::for_each_row(const std::function<void(int64_t, int64_t, const float*, int64_t)>& f) const {
  const std::vector<double>& l = lse();
  std::vector<float> S;
  std::vector<double> block_lse;
  for (int64_t r0 = 0; r0 < in_.rows; r0 += kRowBlock) {
    const int64_t count = std::min(kRowBlock, in_.rows - r0);
    block_lse.assign(l.begin() + r0, l.begin() + r0 + count);
    int64_t ld = 0;
    const int64_t key0 = probability_block(*this, r0, count, S, ld, block_lse.data(), true);
    for (int64_t r = 0; r < count; ++r) {
      const int64_t lo = first_visible(r0 + r);
      f(r0 + r, lo, S.data() + r * ld + (lo - key0), visible(r0 + r));
    }
  }
}

int64_t HeadAttention::row_probabilities(int64_t row, std::vector<float>& p) const {
  const double l = lse()[std::size_t(row)];
  const int64_t key0 = first_visible(row), count = visible(row);
  p.resize(std::size_t(count));
  scores(row, 1, key0, count, p.data(), count);
  for (float& x : p) x = kernels::cpu::exp_approx(float(double(x) - l));
  return key0;
}

const SortedRows* HeadAttention::sorted_rows(int64_t max_entries) const {
  if (sorted_) return sorted_.get();
  if (sorted_tried_ || visible_entries() > max_entries) return nullptr;
  sorted_tried_ = true;
  sorted_ = std::make_unique<SortedRows>(*this);
  return sorted_.get();
}

void HeadAttention::release_sorted_rows() const {
  sorted_.reset();
  sorted_tried_ = false;
}

}  // namespace attnscope::masks
