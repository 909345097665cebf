#pragma once
// The mask lab of one run, on the session's worker: every head of the run's tokens
// recorded in one dense run (masks::record_dense_run), evaluated a layer at a time so that
// an evaluation can stop between layers when a newer request supersedes it (the sliders
// move faster than a plan evaluates). Per-head recall and error, the per-head plans (duo,
// moa, minference) built from the recorded heads as the CLI builds them, the kept set of
// one head for the map, end-to-end KL and top-1 agreement against the recorded dense
// logits, and budget sweeps of several families. No Qt: the session calls it and posts
// the results.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/masks/plan_choice.h"
#include "analysis/runtime/transformer.h"
#include "kernels/kept_keys.h"

namespace attnscope::gui {

// Memory the recorded heads and their cached dense attention take for `tokens` rows:
// per head its q rows, its KV head's keys and values, the dense output, lse and sums.
uint64_t mask_lab_bytes(const model::ModelSpec& spec, int64_t tokens);
constexpr uint64_t kMaskLabBudgetBytes = uint64_t(4) << 30;

// One family's points of a sweep, summarised over every head.
struct SweepCurvePoint {
  double requested_density = 0;
  masks::PlanSummary summary;
};
struct SweepCurve {
  std::string family;   // method_name
  std::string mask;     // describe() of the family at its first density
  std::vector<SweepCurvePoint> points;
};

class RunMaskLab {
 public:
  // Records every head of `tokens` (the model's cache is reset). attnscope::Error when
  // the recording would take more than `budget_bytes`, or the prompt has fewer than 2 tokens.
  RunMaskLab(runtime::Transformer& model, std::vector<int32_t> tokens, uint64_t run_id,
             uint64_t budget_bytes = kMaskLabBudgetBytes);

  uint64_t run_id() const { return run_id_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int layers() const { return int(layer_starts_.size()) - 1; }

  // Every recorded head under `plan` (checked against the model first), layer after layer;
  // std::nullopt when `stop` (may be empty) answers true between two layers.
  std::optional<std::vector<masks::HeadResult>> evaluate(const masks::MaskPlan& plan,
                                                         const std::function<bool()>& stop = {}) const;
  // The plan of `choice` (a per-head plan is built from the recorded heads), checked
  // against the model; attnscope::Error as masks::build_plan's.
  masks::MaskPlan plan_of(const masks::PlanChoice& choice) const;
  // The kept set of one head under `mask`.
  kernels::KeptKeys kept(int layer, int head, const masks::HeadMask& mask) const;
  // The plan in every layer against the recorded dense logits (one prefill under the plan).
  masks::EndToEnd end_to_end(runtime::Transformer& model, const masks::MaskPlan& plan) const;
  // Each family of `families` (parameters as given, density replaced) at each density;
  // `on_point(done, total)` after each point. std::nullopt when `stop` answers true.
  std::optional<std::vector<SweepCurve>> sweep(std::span<const masks::HeadMask> families,
                                               std::span<const double> densities,
                                               const std::function<void(int, int)>& on_point = {},
                                               const std::function<bool()>& stop = {}) const;

 private:
  // Frees cached per-row sorted probabilities when all of them would be too many to keep.
  void release_sorted_rows() const;

  uint64_t run_id_ = 0;
  model::ModelSpec spec_;
  std::vector<int32_t> tokens_;
  std::vector<float> dense_logits_;
  std::unique_ptr<masks::MaskLab> lab_;  // every head, layer-major
  std::vector<std::size_t> layer_starts_;  // [layer]: its first head in lab_; then the total
  bool keep_sorted_rows_ = true;
};

}  // namespace attnscope::gui
