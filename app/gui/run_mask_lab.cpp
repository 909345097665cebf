#include "app/gui/run_mask_lab.h"

#include <algorithm>

#include "analysis/masks/head_recorder.h"
#include "analysis/model/memory_estimate.h"
#include "kernels/error.h"

namespace attnscope::gui {
namespace {

// Sorted rows (top-k, top-p, threshold) cost 8 bytes a visible entry per head; above
// this for all heads together they are rebuilt per evaluation instead of kept.
constexpr uint64_t kSortedRowsBudgetBytes = uint64_t(1) << 30;

}  // namespace

uint64_t mask_lab_bytes(const model::ModelSpec& spec, int64_t tokens) {
  const uint64_t heads = uint64_t(spec.num_layers) * uint64_t(spec.num_heads);
  const uint64_t rows = uint64_t(std::max<int64_t>(tokens, 0));
  const uint64_t head_dim = uint64_t(spec.head_dim);
  // q, k, v and the dense output in float; lse, column and diagonal sums in double.
  const uint64_t per_head = 4 * rows * head_dim * sizeof(float) + 3 * rows * sizeof(double);
  return heads * per_head + rows * uint64_t(spec.vocab_size) * sizeof(float);  // + the dense logits
}

RunMaskLab::RunMaskLab(runtime::Transformer& model, std::vector<int32_t> tokens, uint64_t run_id,
                       uint64_t budget_bytes)
    : run_id_(run_id), spec_(model.spec()), tokens_(std::move(tokens)) {
  const int64_t n = int64_t(tokens_.size());
  if (n < 2) throw Error("mask lab", "the run has " + std::to_string(n) + " tokens; the mask lab needs 2 or more");
  const uint64_t bytes = mask_lab_bytes(spec_, n);
  if (bytes > budget_bytes)
    throw Error("mask lab", "recording every head of " + std::to_string(n) + " tokens would take " +
                                model::format_bytes(bytes) + ", more than the " + model::format_bytes(budget_bytes) +
                                " it may use; run a shorter prompt");
  masks::DenseRun run = masks::record_dense_run(model, tokens_);
  dense_logits_ = std::move(run.logits);
  std::stable_sort(run.heads.begin(), run.heads.end(),
                   [](const masks::RecordedHead& a, const masks::RecordedHead& b) { return a.at.layer < b.at.layer; });
  layer_starts_.assign(size_t(spec_.num_layers) + 1, 0);
  for (const masks::RecordedHead& h : run.heads) ++layer_starts_.at(size_t(h.at.layer) + 1);
  for (size_t l = 1; l < layer_starts_.size(); ++l) layer_starts_[l] += layer_starts_[l - 1];
  lab_ = std::make_unique<masks::MaskLab>(std::move(run.heads));
  const uint64_t visible = uint64_t(n) * uint64_t(n + 1) / 2;
  keep_sorted_rows_ = visible * 8 * uint64_t(spec_.num_layers) * uint64_t(spec_.num_heads) <= kSortedRowsBudgetBytes;
}

std::optional<std::vector<masks::HeadResult>> RunMaskLab::evaluate(const masks::MaskPlan& plan,
                                                                   const std::function<bool()>& stop) const {
  plan.check_fits(spec_);
  std::vector<masks::HeadResult> out;
  for (int l = 0; l < layers(); ++l) {
    if (stop && stop()) return std::nullopt;
    const size_t first = layer_starts_[size_t(l)];
    std::vector<masks::HeadResult> part = lab_->evaluate(plan, first, layer_starts_[size_t(l) + 1] - first);
    out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  release_sorted_rows();
  return out;
}

masks::MaskPlan RunMaskLab::plan_of(const masks::PlanChoice& choice) const {
  masks::MaskPlan plan = masks::build_plan(choice, *lab_, spec_, "mask lab");
  release_sorted_rows();
  return plan;
}

kernels::KeptKeys RunMaskLab::kept(int layer, int head, const masks::HeadMask& mask) const {
  if (layer >= 0 && layer < layers()) {
    for (size_t i = layer_starts_[size_t(layer)]; i < layer_starts_[size_t(layer) + 1]; ++i) {
      if (lab_->heads()[i].at.head != head) continue;
      masks::BuiltMask built = lab_->build(i, mask);
      if (!keep_sorted_rows_) lab_->attention(i).release_sorted_rows();
      return std::move(built.kept);
    }
  }
  throw Error("mask lab", "the run recorded no head " + std::to_string(head) + " in layer " + std::to_string(layer));
}

masks::EndToEnd RunMaskLab::end_to_end(runtime::Transformer& model, const masks::MaskPlan& plan) const {
  plan.check_fits(spec_);
  return masks::evaluate_end_to_end(model, tokens_, plan, dense_logits_);
}

std::optional<std::vector<SweepCurve>> RunMaskLab::sweep(std::span<const masks::HeadMask> families,
                                                         std::span<const double> densities,
                                                         const std::function<void(int, int)>& on_point,
                                                         const std::function<bool()>& stop) const {
  std::vector<SweepCurve> curves;
  const int total = int(families.size() * densities.size());
  int done = 0;
  for (const masks::HeadMask& base : families) {
    if (std::holds_alternative<masks::DenseMask>(base.family))
      throw Error("mask sweep", "a dense family has no budget to sweep");
    SweepCurve curve;
    curve.family = std::string(masks::method_name(base.family));
    for (double d : densities) {
      const masks::HeadMask mask{base.family, d};
      masks::check_mask(mask, "mask sweep, " + curve.family + " at density " + std::to_string(d));
      if (curve.mask.empty()) curve.mask = masks::describe(mask);
      const masks::MaskPlan plan(spec_.num_layers, spec_.num_heads, mask);
      auto heads = evaluate(plan, stop);
      if (!heads) return std::nullopt;
      curve.points.push_back({d, masks::summarize(*heads)});
      if (on_point) on_point(++done, total);
    }
    curves.push_back(std::move(curve));
  }
  return curves;
}

void RunMaskLab::release_sorted_rows() const {
  if (keep_sorted_rows_) return;
  for (size_t i = 0; i < lab_->size(); ++i) lab_->attention(i).release_sorted_rows();
}

}  // namespace attnscope::gui
