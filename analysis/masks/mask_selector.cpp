#include "analysis/masks/mask_selector.h"

#include "analysis/masks/mask_builder.h"

namespace attnscope::masks {
namespace {

// Families whose prefill mask comes from an estimate: dense at decode steps (MInference).
bool estimated_prefill_family(const MaskFamily& f) {
  if (std::holds_alternative<VerticalSlashMask>(f)) return true;
  if (const auto* b = std::get_if<BlockTopKMask>(&f)) return b->score != BlockScore::Exact;
  if (const auto* b = std::get_if<BlockThresholdMask>(&f)) return b->score != BlockScore::Exact;
  return false;
}

// A span fixed at the prefill's length (MoA's N).
MaskFamily fixed_spans(const MaskFamily& f, int64_t n) {
  if (const auto* s = std::get_if<StreamingMask>(&f)) return StreamingMask{s->sink_tokens, {double(s->window.at(n)), 0}};
  if (const auto* w = std::get_if<WindowMask>(&f)) return WindowMask{{double(w->window.at(n)), 0}};
  return f;
}

}  // namespace

MaskSelector::MaskSelector(const HeadMask& mask) : mask_(mask), used_(mask) { check_mask(mask, "mask selector"); }

std::string MaskSelector::describe() const { return masks::describe(mask_); }

bool MaskSelector::reads_views() const {
  const MaskFamily& f = mask_.family;
  return !(std::holds_alternative<StreamingMask>(f) || std::holds_alternative<WindowMask>(f) ||
           std::holds_alternative<DenseMask>(f));
}

std::optional<kernels::KeptKeys> MaskSelector::select(const kernels::SelectionInput& input) {
  const HeadAttention head(input);  // its views, without which head it is
  if (!prefilled_) {
    prefilled_ = true;
    HeadMask mask = mask_;
    if (!mask.density) mask.family = fixed_spans(mask.family, head.inputs().keys());
    BuiltMask built = build_mask(head, mask);
    used_ = built.used;
    prefill_density_ = built.density;
    // The state decode calls continue from (the same computation the prefill's mask made).
    if (const auto* s = std::get_if<SnapKVMask>(&used_.family)) snapkv_ = snapkv_state(head, *s);
    if (const auto* h = std::get_if<H2OMask>(&used_.family)) {
      // Replay the prefill's cache so that decode calls continue from it.
      const int64_t c = first_decode_row(head, h->decode_rows);
      h2o_ = h2o_prefill_state(head, *h, c);
      return h2o_decode(head, *h, h2o_, c);
    }
    return std::move(built.kept);
  }
  if (estimated_prefill_family(used_.family)) return std::nullopt;
  if (std::holds_alternative<SnapKVMask>(used_.family)) return snapkv_keep(head, snapkv_, 0);
  if (const auto* h = std::get_if<H2OMask>(&used_.family)) return h2o_decode(head, *h, h2o_, 0);
  if (std::holds_alternative<QuestMask>(used_.family)) {
    QuestMask q = std::get<QuestMask>(used_.family);
    q.decode_rows = input.rows;  // every row of a decode call is a decode step
    return build_mask(head, {q, std::nullopt}).kept;
  }
  return build_mask(head, used_).kept;
}

runtime::HeadRulePlan rules_for_plan(const MaskPlan& plan, const model::ModelSpec& spec,
                                     std::vector<std::shared_ptr<MaskSelector>>* selectors) {
  plan.check_fits(spec);
  runtime::HeadRulePlan rules(spec);
  if (selectors != nullptr) selectors->assign(std::size_t(spec.num_layers) * std::size_t(spec.num_heads), nullptr);
  for (int l = 0; l < spec.num_layers; ++l)
    for (int h = 0; h < spec.num_heads; ++h) {
      const HeadMask& mask = plan.at({l, h});
      if (std::holds_alternative<DenseMask>(mask.family)) continue;
      if (!mask.density) {
        if (const auto* s = std::get_if<StreamingMask>(&mask.family); s && s->window.per_token == 0) {
          rules.set({l, h}, kernels::HeadRule::sink_window(s->sink_tokens, std::max<int64_t>(1, s->window.at(0))));
          continue;
        }
        if (const auto* w = std::get_if<WindowMask>(&mask.family); w && w->window.per_token == 0) {
          rules.set({l, h}, kernels::HeadRule::sink_window(0, std::max<int64_t>(1, w->window.at(0))));
          continue;
        }
      }
      auto selector = std::make_shared<MaskSelector>(mask);
      if (selectors != nullptr) (*selectors)[std::size_t(l) * std::size_t(spec.num_heads) + std::size_t(h)] = selector;
      rules.set({l, h}, kernels::HeadRule::selected(std::move(selector)));
    }
  return rules;
}

int64_t first_governed_row(const MaskPlan& plan, int64_t rows) {
  int64_t first = rows;
  for (int l = 0; l < plan.num_layers(); ++l)
    for (int h = 0; h < plan.num_heads(); ++h) {
      const MaskFamily& f = plan.at({l, h}).family;
      if (std::holds_alternative<DenseMask>(f)) continue;
      int64_t decode = -1;
      if (const auto* q = std::get_if<QuestMask>(&f)) decode = q->decode_rows;
      if (const auto* s = std::get_if<SnapKVMask>(&f)) decode = s->decode_rows;
      if (const auto* o = std::get_if<H2OMask>(&f)) decode = o->decode_rows;
      first = std::min(first, decode < 0 ? 0 : std::max<int64_t>(0, rows - decode));
    }
  return first == rows ? 0 : first;  // an all-dense plan: every row
}

}  // namespace attnscope::masks
