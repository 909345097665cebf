// Per-head recall and output error: for each query block, the scores of its kept key
// blocks only (SGEMM per block), p = exp(s - lse_full) on kept entries only (a token-level
// mask keeps few entries of each block), kept mass and the unnormalised sparse output P V
// accumulated, then divided by the kept mass.
#include "analysis/masks/head_evaluation.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_vector_math.h"
#include "kernels/error.h"

namespace attnscope::masks {

HeadEvaluation evaluate_head(const HeadAttention& head, const kernels::KeptKeys& kept, int64_t first_row,
                             int worst_rows) {
  const HeadInputs& in = head.inputs();
  if (kept.rows() != in.rows || kept.first_position() != in.first_position || kept.model_window() != in.model_window)
    throw Error("mask evaluation", "the kept set covers " + std::to_string(kept.rows()) + " rows from position " +
                                       std::to_string(kept.first_position()) + "; the head's call has " +
                                       std::to_string(in.rows) + " rows from position " +
                                       std::to_string(in.first_position));
  if (first_row < 0 || first_row > in.rows)
    throw Error("mask evaluation", "first row " + std::to_string(first_row) + " is outside the call's " +
                                       std::to_string(in.rows) + " rows");
  const int64_t D = in.head_dim, B = kept.block();
  const std::vector<double>& lse = head.lse();
  const std::vector<float>& full = head.output();

  HeadEvaluation out;
  out.first_row = first_row;
  out.rows = in.rows - first_row;
  out.kept_entries = kept.kept_entries_from(first_row);
  out.visible_entries = kept.visible_entries_from(first_row);
  out.density = out.visible_entries == 0 ? 0.0 : double(out.kept_entries) / double(out.visible_entries);
  std::vector<float> S(std::size_t(B * B)), acc(std::size_t(B * D));
  std::vector<double> mass(static_cast<std::size_t>(B), 0.0);
  std::vector<RowError> rows;
  double diff2 = 0, full2 = 0, cosine = 0, recall = 0, min_recall = 1;
  for (int64_t qb = first_row / B; qb < kept.query_blocks(); ++qb) {
    const int64_t r0 = qb * B, count = std::min(B, in.rows - r0);
    std::fill(acc.begin(), acc.end(), 0.0f);
    std::fill(mass.begin(), mass.end(), 0.0);
    for (const kernels::KeptKeyBlock& b : kept.blocks_of(qb)) {
      const int64_t k0 = b.key_block * B, width = std::min(B, in.keys() - k0);
      head.scores(r0, count, k0, width, S.data(), B);
      const uint64_t* words = b.mask < 0 ? nullptr : kept.mask_words(b.mask);
      for (int64_t r = 0; r < count; ++r) {
        float* row = S.data() + r * B;
        const int64_t lo = std::max(k0, head.first_visible(r0 + r)), hi = std::min(k0 + width, head.position(r0 + r) + 1);
        const float l = float(lse[std::size_t(r0 + r)]);
        // Probabilities of the kept entries only (the others are 0 and add nothing to m).
        const int64_t a = std::clamp<int64_t>(lo - k0, 0, width), e = std::clamp<int64_t>(hi - k0, a, width);
        double m = 0;
        std::fill(row, row + a, 0.0f);
        for (int64_t j = a; j < e; ++j) {
          const int64_t bit = r * B + j;
          if (words != nullptr && ((words[bit >> 6] >> (bit & 63)) & 1u) == 0) {
            row[j] = 0.0f;
            continue;
          }
          row[j] = kernels::cpu::exp_approx(row[j] - l);
          m += double(row[j]);
        }
        std::fill(row + e, row + width, 0.0f);
        mass[std::size_t(r)] += m;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(count), blasint(D), blasint(width), 1.0f,
                  S.data(), blasint(B), in.v + k0 * in.v_stride, blasint(in.v_stride), 1.0f, acc.data(), blasint(D));
    }
    for (int64_t r = std::max<int64_t>(0, first_row - r0); r < count; ++r) {
      const double m = mass[std::size_t(r)];
      const float* o = full.data() + (r0 + r) * D;
      double d2 = 0, f2 = 0, s2 = 0, dot = 0;
      for (int64_t d = 0; d < D; ++d) {
        const double sparse = m > 0 ? double(acc[std::size_t(r * D + d)]) / m : 0.0;
        d2 += (sparse - o[d]) * (sparse - o[d]);
        f2 += double(o[d]) * o[d];
        s2 += sparse * sparse;
        dot += sparse * o[d];
      }
      diff2 += d2;
      full2 += f2;
      cosine += (f2 > 0 && s2 > 0) ? dot / std::sqrt(f2 * s2) : (f2 == s2 ? 1.0 : 0.0);
      const double row_recall = std::min(1.0, m);
      recall += row_recall;
      min_recall = std::min(min_recall, row_recall);
      rows.push_back({r0 + r, row_recall, f2 > 0 ? std::sqrt(d2 / f2) : std::sqrt(d2)});
    }
  }
  if (out.rows > 0) {
    out.recall = recall / double(out.rows);
    out.min_recall = min_recall;
    out.output_cosine = cosine / double(out.rows);
    out.output_rel_l2 = full2 > 0 ? std::sqrt(diff2 / full2) : std::sqrt(diff2);
  }
  const auto worst = std::min<std::size_t>(rows.size(), std::size_t(std::max(0, worst_rows)));
  std::partial_sort(rows.begin(), rows.begin() + std::ptrdiff_t(worst), rows.end(), [](const RowError& a, const RowError& b) {
    return a.output_rel_l2 > b.output_rel_l2 || (a.output_rel_l2 == b.output_rel_l2 && a.row < b.row);
  });
  rows.resize(worst);
  out.worst_rows = std::move(rows);
  return out;
}

}  // namespace attnscope::masks
