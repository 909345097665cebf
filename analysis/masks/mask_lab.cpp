#include "analysis/masks/mask_lab.h"

#include <algorithm>
#include <exception>

#include <omp.h>

#include "kernels/error.h"

namespace attnscope::masks {

MaskLab::MaskLab(std::vector<RecordedHead> heads) : heads_(std::move(heads)) {
  for (const RecordedHead& h : heads_) {
    if (h.rows == 0) throw Error("mask lab", "a recorded head has no rows (the run did not reach it)");
    attention_.push_back(std::make_unique<HeadAttention>(h.inputs()));
  }
}

BuiltMask MaskLab::build(std::size_t index, const HeadMask& mask) const {
  return build_mask(*attention_.at(index), mask);
}

HeadResult MaskLab::evaluate_head(std::size_t index, const HeadMask& mask) const {
  const BuiltMask built = build(index, mask);
  return {heads_[index].at, mask, built.used, masks::evaluate_head(*attention_[index], built.kept, built.first_row)};
}

std::vector<HeadResult> MaskLab::evaluate(const MaskPlan& plan, int threads) const {
  return evaluate(plan, 0, heads_.size(), threads);
}

std::vector<HeadResult> MaskLab::evaluate(const MaskPlan& plan, std::size_t first, std::size_t count, int threads) const {
  if (first > heads_.size() || count > heads_.size() - first)
    throw Error("mask lab", "heads " + std::to_string(first) + " to " + std::to_string(first + count) + " of " +
                                std::to_string(heads_.size()) + " recorded");
  std::vector<HeadResult> out(count);
  std::exception_ptr error;
  const int team = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (std::size_t i = 0; i < count; ++i) {
    try {
      out[i] = evaluate_head(first + i, plan.at(heads_[first + i].at));
    } catch (...) {
#pragma omp critical(attnscope_mask_lab_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

PlanSummary summarize(const std::vector<HeadResult>& results) {
  PlanSummary s;
  if (results.empty()) return s;
  double kept = 0, visible = 0;
  s.min_recall = 1;
  for (const HeadResult& r : results) {
    const HeadEvaluation& e = r.evaluation;
    kept += double(e.kept_entries);
    visible += double(e.visible_entries);
    s.recall += e.recall;
    s.min_recall = std::min(s.min_recall, e.min_recall);
    s.output_rel_l2 += e.output_rel_l2;
    s.output_cosine += e.output_cosine;
  }
  const double n = double(results.size());
  s.density = visible > 0 ? kept / visible : 0;
  s.recall /= n;
  s.output_rel_l2 /= n;
  s.output_cosine /= n;
  return s;
}

}  // namespace attnscope::masks
