#include "tests/unit/capture/capture_reference.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace attnscope::testing {

ReferenceStatistics reference_statistics(const std::vector<ReferenceRow>& rows, const kernels::CaptureOptions& o) {
  ReferenceStatistics s;
  const int64_t b = o.pool_block;
  for (const ReferenceRow& row : rows) {
    const int64_t q = row.position;
    s.rows += 1;
    s.positions.push_back(q);

    double entropy = 0;
    int64_t top1 = 0;
    for (int64_t k = 0; k <= q; ++k) {
      const double p = row.p(k);
      if (p > 0) entropy -= p * std::log(p);
      if (p > row.p(top1)) top1 = k;  // strictly greater: the first maximum stays
    }
    s.row_entropy.push_back(entropy);
    s.entropy_sum += entropy;
    s.top1.push_back(top1);

    if (q >= o.sink_tokens) {
      for (int64_t k = 0; k < o.sink_tokens; ++k) s.sink_mass_sum += row.p(k);
      s.sink_rows += 1;
    }
    if (q >= o.local_window) {
      for (int64_t k = q - o.local_window + 1; k <= q; ++k) s.local_mass_sum += row.p(k);
      s.local_rows += 1;
    }

    if (int64_t(s.column_sums.size()) < q + 1) s.column_sums.resize(size_t(q + 1), 0.0);
    for (int64_t k = 0; k <= q; ++k) s.column_sums[size_t(k)] += row.p(k);
    // One entry per distance some row can see: [0, q - first_key].
    const int64_t distances = q - row.first_key + 1;
    if (int64_t(s.diagonal_sums.size()) < distances) s.diagonal_sums.resize(size_t(distances), 0.0);
    for (int64_t d = 0; d < distances; ++d) s.diagonal_sums[size_t(d)] += row.p(q - d);

    const int64_t block_row = q / b;
    while (int64_t(s.pooled.size()) <= block_row) s.pooled.emplace_back(s.pooled.size() + 1, 0.0);
    s.rows_in_block.resize(s.pooled.size(), 0);
    for (int64_t k = 0; k <= q; ++k) s.pooled[size_t(block_row)][size_t(k / b)] += row.p(k);
    s.rows_in_block[size_t(block_row)] += 1;

    if (o.exact_probabilities && q < o.exact_limit) {
      const int64_t start = q * (q + 1) / 2;
      if (int64_t(s.exact.size()) < start + q + 1) s.exact.resize(size_t(start + q + 1), 0.0);
      for (int64_t k = 0; k <= q; ++k) s.exact[size_t(start + k)] = row.p(k);
      s.exact_rows += 1;
    }
  }
  return s;
}

std::vector<double> random_probabilities(std::mt19937& rng, int64_t n, double spread) {
  std::normal_distribution<double> normal(0.0, spread);
  std::vector<double> p(static_cast<size_t>(n));
  for (double& x : p) x = normal(rng);
  const double max = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (double& x : p) sum += (x = std::exp(x - max));
  for (double& x : p) x /= sum;
  return p;
}

namespace {

class Report {
 public:
  template <typename Got, typename Want>
  void mismatch(const std::string& what, size_t index, Got got, Want want) {
    out_ << std::setprecision(17) << what << "[" << index << "]: got " << got << ", want " << want << "\n";
  }
  void line(const std::string& text) { out_ << text << "\n"; }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

bool close(double got, double want, double relative, double absolute) {
  return std::abs(got - want) <= relative * std::abs(want) + absolute;
}

// Reports the first element outside the tolerance, or a length mismatch.
template <typename G>
void compare(Report& report, const std::string& what, const std::vector<G>& got, const std::vector<double>& want,
             double relative, double absolute) {
  if (got.size() != want.size()) {
    report.line(what + ": " + std::to_string(got.size()) + " entries, want " +
                std::to_string(want.size()));
    return;
  }
  for (size_t i = 0; i < got.size(); ++i)
    if (!close(double(got[i]), want[i], relative, absolute)) return report.mismatch(what, i, double(got[i]), want[i]);
}

void compare_scalar(Report& report, const char* what, double got, double want, double relative, double absolute) {
  if (!close(got, want, relative, absolute)) report.mismatch(what, 0, got, want);
}

template <typename T>
void compare_exactly(Report& report, const char* what, const T& got, const T& want) {
  if (got != want) report.mismatch(what, 0, got, want);
}

}  // namespace

std::string mismatches(const kernels::HeadAccumulator& got, const ReferenceStatistics& want,
                       const std::vector<ReferenceRow>& rows, const Tolerance& t) {
  Report r;
  compare_exactly(r, "rows", got.rows, want.rows);
  compare_exactly(r, "sink_rows", got.sink_rows, want.sink_rows);
  compare_exactly(r, "local_rows", got.local_rows, want.local_rows);
  compare_exactly(r, "exact_rows", got.exact_rows, want.exact_rows);
  compare_scalar(r, "sink_mass_sum", got.sink_mass_sum, want.sink_mass_sum, t.sums_relative, t.sums_absolute);
  compare_scalar(r, "local_mass_sum", got.local_mass_sum, want.local_mass_sum, t.sums_relative, t.sums_absolute);
  compare_scalar(r, "entropy_sum", got.entropy_sum, want.entropy_sum, t.sums_relative,
                 t.entropy_absolute * double(want.rows));
  compare(r, "column_sums", got.column_sums, want.column_sums, t.sums_relative, t.sums_absolute);
  compare(r, "diagonal_sums", got.diagonal_sums, want.diagonal_sums, t.sums_relative, t.sums_absolute);
  compare(r, "row_entropy", got.row_entropy, want.row_entropy, t.entropy_relative, t.entropy_absolute);
  compare(r, "exact", got.exact, want.exact, 0.0, t.exact_absolute);
  if (got.positions != want.positions) r.line("positions differ");

  if (got.pooled.sums.size() != want.pooled.size() || got.pooled.rows_in_block != want.rows_in_block)
    r.line("pooled: " + std::to_string(got.pooled.sums.size()) + " block rows, want " +
           std::to_string(want.pooled.size()) + " (or rows_in_block differ)");
  else
    for (size_t i = 0; i < want.pooled.size(); ++i)
      compare(r, "pooled row " + std::to_string(i) + ", key block", got.pooled.sums[i], want.pooled[i], t.sums_relative, t.sums_absolute);

  if (got.top1.size() != want.top1.size() || rows.size() != want.top1.size()) {
    r.line("top1: " + std::to_string(got.top1.size()) + " rows, want " + std::to_string(want.top1.size()));
  } else {
    for (size_t i = 0; i < rows.size(); ++i) {
      const double best = rows[i].p(want.top1[i]);
      const bool ok = t.top1_tie_relative > 0 ? rows[i].p(got.top1[i]) >= best * (1 - t.top1_tie_relative)
                                              : got.top1[i] == want.top1[i];
      if (!ok) {
        r.mismatch("top1", i, got.top1[i], want.top1[i]);
        break;
      }
    }
  }
  return r.text();
}

void accumulate_rows(kernels::HeadAccumulator& acc, const kernels::CaptureOptions& options,
                     const std::vector<ReferenceRow>& rows) {
  for (const ReferenceRow& row : rows) {
    const std::vector<float> probs(row.probs.begin(), row.probs.end());
    kernels::accumulate_attention_row(acc, options, row.position, probs.data(), row.first_key);
  }
}

std::vector<ReferenceRow> as_float_rows(const std::vector<ReferenceRow>& rows) {
  std::vector<ReferenceRow> out = rows;
  for (ReferenceRow& row : out)
    for (double& p : row.probs) p = double(float(p));
  return out;
}

}  // namespace attnscope::testing
