#pragma once
// Per-head evaluation of mask plans on recorded heads (head_recorder.h): each head's exact
// attention is computed once and kept (HeadAttention), so evaluating another plan or budget
// costs only building the masks and the sparse pass over their kept blocks. Heads run in
// parallel (one thread per head at a time).
#include <cstdint>
#include <memory>
#include <vector>

#include "analysis/masks/head_evaluation.h"
#include "analysis/masks/head_recorder.h"
#include "analysis/masks/mask_builder.h"
#include "analysis/masks/mask_plan.h"

namespace attnscope::masks {

struct HeadResult {
  runtime::LayerHead at;
  HeadMask mask;  // as the plan gives it
  HeadMask used;  // as applied (a density resolved into the family's knob)
  HeadEvaluation evaluation;
};

class MaskLab {
 public:
  explicit MaskLab(std::vector<RecordedHead> heads);

  const std::vector<RecordedHead>& heads() const { return heads_; }
  std::size_t size() const { return heads_.size(); }

  // Every recorded head under its mask in `plan` (plan.check_fits is the caller's: the plan
  // must have the recorded heads' layers and heads). `threads` 0: OpenMP's default.
  std::vector<HeadResult> evaluate(const MaskPlan& plan, int threads = 0) const;
  // The recorded heads [first, first + count) only (a layer of a lab recorded layer-major),
  // so that a caller can stop between parts.
  std::vector<HeadResult> evaluate(const MaskPlan& plan, std::size_t first, std::size_t count, int threads = 0) const;
  // One recorded head (by index) under `mask`.
  HeadResult evaluate_head(std::size_t index, const HeadMask& mask) const;
  // The built mask of one head (for views and the search).
  BuiltMask build(std::size_t index, const HeadMask& mask) const;
  const HeadAttention& attention(std::size_t index) const { return *attention_[index]; }

 private:
  std::vector<RecordedHead> heads_;
  std::vector<std::unique_ptr<HeadAttention>> attention_;
};

// Means over heads (the plan's density and recall as the CLI reports them): density
// weighted by each head's visible entries, recall and errors averaged over heads.
struct PlanSummary {
  double density = 0;
  double recall = 0;
  double min_recall = 0;
  double output_rel_l2 = 0;
  double output_cosine = 0;
};
PlanSummary summarize(const std::vector<HeadResult>& results);

}  // namespace attnscope::masks
