#pragma once
// A plan's head mask applied inside the backend's attention (a Selected rule,
// kernels/attention_rules.h), and a plan turned into the runtime's per-head rules.
//
// Per call the selector builds the mask from the call's own queries and keys. The first
// call of a run is the prefill (the end-to-end evaluation and generation under a plan
// prefill the prompt in one call, so estimates see the whole prompt as MInference's do):
// a density budget is resolved there and its knob kept for later calls, a MoA span is
// fixed at the prompt's length, SnapKV compresses and H2O starts its cache. Later calls
// are decode steps: SnapKV and H2O continue from their state; the estimated prefill
// families (vertical_slash, block families scored by an estimate) run dense, as
// MInference decodes densely; the others build on the step's own rows.
#include <memory>
#include <optional>
#include <vector>

#include "analysis/masks/mask_builders.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/runtime/head_rule_plan.h"
#include "kernels/attention_rules.h"

namespace attnscope::masks {

class MaskSelector : public kernels::KeySelector {
 public:
  explicit MaskSelector(const HeadMask& mask);

  std::optional<kernels::KeptKeys> select(const kernels::SelectionInput& input) override;
  std::string describe() const override;
  // False for streaming and window masks (their sets follow from the call's shape alone).
  bool reads_views() const override;

  // The density the prefill call's mask used over the rows it governs (-1 before a call).
  double prefill_density() const { return prefill_density_; }
  const HeadMask& mask() const { return mask_; }

 private:
  HeadMask mask_;
  bool prefilled_ = false;
  HeadMask used_;  // the mask with its density resolved at the prefill
  double prefill_density_ = -1;
  SnapKVState snapkv_;
  H2OState h2o_;
};

// The rules a run needs for `plan` on a model of `spec` (checked: check_fits): Dense heads
// dense, fixed-size streaming and window heads the backends' SinkWindow rule (the same mask,
// on both backends), every other head a fresh MaskSelector (state is per run: build new
// rules for each run). `selectors` (optional) receives each head's selector, or null.
runtime::HeadRulePlan rules_for_plan(const MaskPlan& plan, const model::ModelSpec& spec,
                                     std::vector<std::shared_ptr<MaskSelector>>* selectors = nullptr);

// The first row any head of `plan` governs in a call of `rows` rows: 0 when a prefill
// family is present, rows - decode_rows for decode-time families only, and 0 when every
// head is dense.
int64_t first_governed_row(const MaskPlan& plan, int64_t rows);

}  // namespace attnscope::masks
