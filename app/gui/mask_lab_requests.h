#pragma once
// What the window asks of the session's mask lab and what comes back. Requests carry the
// run they are for; the session drops any for a run that is no longer the current one.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/masks/plan_choice.h"
#include "app/gui/run_mask_lab.h"
#include "kernels/kept_keys.h"

namespace attnscope::gui {

struct MaskRequest {
  uint64_t run_id = 0;
  std::shared_ptr<const masks::MaskPlan> plan;
  bool end_to_end = true;  // also KL and top-1 agreement (one more prefill)
  // When `plan` is null: a per-head plan (duo, moa, minference) built on the worker from
  // the run's recorded heads, as the CLI builds it (masks::build_plan).
  std::optional<masks::PlanChoice> choice{};
};

// Per-head results first (masksEvaluated), then the end-to-end numbers of the same
// request (masksEndToEnd) unless a newer request came first.
struct MaskEvaluation {
  uint64_t run_id = 0;
  uint64_t request = 0;  // increases with every request
  std::shared_ptr<const masks::MaskPlan> plan;  // as evaluated (built from `choice` when given)
  std::optional<masks::PlanChoice> choice;
  std::vector<masks::HeadResult> heads;
  masks::PlanSummary summary;
  double seconds = 0;
};

struct MaskOverlayRequest {
  uint64_t run_id = 0;
  int layer = 0, head = 0;
  masks::HeadMask mask;
};

struct MaskOverlay {
  uint64_t run_id = 0;
  int layer = 0, head = 0;
  std::string mask;  // describe() of the head's mask
  std::shared_ptr<const kernels::KeptKeys> kept;
};

struct SweepRequest {
  uint64_t run_id = 0;
  std::vector<masks::HeadMask> families;  // each family with its parameters; densities replace the budget
  std::vector<double> densities;
};

}  // namespace attnscope::gui
