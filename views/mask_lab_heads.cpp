// MaskLabView's head group: the head shown in the overview, given a mask of its own (a
// family and budget in the second editor) over whatever the plan gives it; the heads with
// their own masks go into every plan the panel builds (masks::PlanChoice::head_masks).
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <cmath>

#include "kernels/error.h"
#include "views/mask_budget_editor.h"
#include "views/mask_lab_view.h"

namespace attnscope::views {
namespace {

QString number(double v, int decimals) { return std::isfinite(v) ? QString::number(v, 'f', decimals) : "n/a"; }

}  // namespace

void MaskLabView::setSelectedHead(int layer, int head) {
  selected_ = GridCell{layer, head};
  showSelectedHead();
}

void MaskLabView::setHeadMask(int layer, int head, const masks::HeadMask& mask) {
  head_masks_[{layer, head}] = mask;
  rebuildPlan();
}

void MaskLabView::clearHeadMask(int layer, int head) {
  if (head_masks_.erase({layer, head})) rebuildPlan();
}

void MaskLabView::clearHeadMasks() {
  if (head_masks_.empty()) return;
  head_masks_.clear();
  rebuildPlan();
}

std::vector<GridCell> MaskLabView::headsWithOwnMasks() const {
  std::vector<GridCell> out;
  for (const auto& [at, mask] : head_masks_) out.push_back({at.first, at.second});
  return out;
}

void MaskLabView::showSelectedHead() {
  const int own = int(head_masks_.size());
  heads_count_->setText(own == 0   ? QString()
                        : own == 1 ? tr("1 head with its own mask")
                                   : tr("%1 heads with their own masks").arg(own));
  clear_heads_->setEnabled(!head_masks_.empty());
  const bool valid = selected_ && selected_->layer < layers_ && selected_->head < heads_;
  own_mask_->setEnabled(valid);
  if (!valid) {
    own_mask_->setChecked(false);
    head_editor_->setVisible(false);
    return;
  }
  const auto it = head_masks_.find({selected_->layer, selected_->head});
  const bool has_own = it != head_masks_.end();
  QString mask = tr("(the plan is not built yet)");
  if (has_own)
    mask = QString::fromStdString(masks::describe(it->second));
  else if (plan_)
    mask = QString::fromStdString(masks::describe(plan_->at({selected_->layer, selected_->head})));
  head_label_->setText(
      tr("<b>Layer %1, head %2</b>: %3").arg(selected_->layer).arg(selected_->head).arg(mask.toHtmlEscaped()));
  showing_head_ = true;
  own_mask_->setChecked(has_own);
  if (has_own) head_editor_->setMask(it->second);
  head_editor_->setVisible(has_own);
  showing_head_ = false;
}

void MaskLabView::ownMaskToggled(bool own) {
  if (showing_head_ || !selected_) return;
  const std::pair<int, int> at{selected_->layer, selected_->head};
  if (!own) {
    clearHeadMask(at.first, at.second);
    return;
  }
  // It starts from the mask the plan gives the head, or the family's defaults.
  masks::HeadMask start{masks::StreamingMask{}, std::nullopt};
  if (plan_) start = plan_->at({at.first, at.second});
  setHeadMask(at.first, at.second, start);
}

void MaskLabView::headEditorChanged() {
  if (showing_head_ || !selected_ || !own_mask_->isChecked()) return;
  try {
    setHeadMask(selected_->layer, selected_->head, masks::family_mask(head_editor_->choice(), "mask lab, own mask"));
  } catch (const Error& e) {
    status_->setText(QString::fromStdString(e.what()));
  }
}

void MaskLabView::showHeadResult(const masks::HeadResult& r) {
  if (!selected_ || r.at.layer != selected_->layer || r.at.head != selected_->head) return;
  head_label_->setText(tr("<b>Layer %1, head %2</b>: %3<br>density %4, recall %5, output error %6")
                           .arg(r.at.layer)
                           .arg(r.at.head)
                           .arg(QString::fromStdString(masks::describe(r.used)).toHtmlEscaped())
                           .arg(number(r.evaluation.density, 3), number(r.evaluation.recall, 4),
                                number(r.evaluation.output_rel_l2, 4)));
}

}  // namespace attnscope::views
