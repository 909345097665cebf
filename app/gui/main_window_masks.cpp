// MainWindow's mask lab: the panel's plan evaluated on the last run (live while the
// controls move: the session keeps only the latest request; duo, moa and minference built
// there from the recorded heads), per-head results on the overview grid with the heads of
// masks of their own flagged, end-to-end numbers in the panel, the shown head's mask on
// the map and in the panel's head group, error-against-density curves, and plan files
// loaded and saved.
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QStatusBar>

#include "analysis/masks/mask_plan.h"
#include "app/gui/main_window.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_metrics.h"
#include "views/head_grid_view.h"
#include "views/mask_curves_view.h"
#include "views/mask_lab_view.h"

namespace attnscope::gui {

void MainWindow::connectMaskLab() {
  // Live evaluation only while the panel is on screen: recording every head of a long run
  // costs memory and time nobody asked for otherwise.
  connect(panel("maskLabPanel"), &QDockWidget::visibilityChanged, this, [this](bool visible) {
    mask_lab_visible_ = visible;
    if (visible && mask_lab_->live() && run_ && !stored_ && (!mask_evaluation_ || mask_evaluation_->run_id != run_->id))
      evaluateMasks();
  });
  connect(mask_lab_, &views::MaskLabView::planChanged, this, [this] {
    overview_->setMarkedHeads(mask_lab_->headsWithOwnMasks(), tr("own mask (mask lab)"));
    if (mask_lab_->live()) evaluateMasks();
  });
  connect(this, &MainWindow::headShown, mask_lab_, [this](int layer, int head) {
    mask_lab_->setSelectedHead(layer, head);
    showShownHeadResult();
  });
  connect(mask_lab_, &views::MaskLabView::evaluateRequested, this, &MainWindow::evaluateMasks);
  connect(mask_lab_, &views::MaskLabView::curvesRequested, this, &MainWindow::computeMaskCurves);
  connect(mask_lab_, &views::MaskLabView::loadPlanRequested, this, &MainWindow::loadMaskPlan);
  connect(mask_lab_, &views::MaskLabView::savePlanRequested, this, &MainWindow::saveMaskPlan);
  connect(mask_lab_, &views::MaskLabView::drawOnMapChanged, this, [this](bool draw) {
    if (draw)
      requestMaskOverlay();
    else
      map_->canvas()->clearMask();
  });

  connect(session_, &Session::maskLabBusy, mask_lab_, &views::MaskLabView::showBusy);
  connect(session_, &Session::masksEvaluated, this, &MainWindow::onMasksEvaluated);
  connect(session_, &Session::masksEndToEnd, this, [this](quint64 request, const masks::EndToEnd& e2e) {
    if (!mask_evaluation_ || mask_evaluation_->request != request) return;
    mask_lab_->showEndToEnd(e2e);
    mask_lab_->showBusy({});
  });
  connect(session_, &Session::maskOverlayReady, this, [this](std::shared_ptr<const MaskOverlay> overlay) {
    if (!run_ || stored_ || overlay->run_id != run_->id || overlay->layer != layer_ || overlay->head != head_ ||
        !mask_lab_->drawOnMap())
      return;
    map_->canvas()->setMask(overlay->kept, QString::fromStdString(overlay->mask));
    emit maskShown();
  });
  connect(session_, &Session::sweepProgress, this, [this](int done, int total) {
    mask_lab_->setCurveProgress(done, total);
    showProgress(tr("curves %v/%m"), done, total);
  });
  connect(session_, &Session::sweepFinished, this, [this](std::shared_ptr<const std::vector<SweepCurve>> curves) {
    std::vector<views::DensityCurve> shown;
    for (const SweepCurve& c : *curves) {
      views::DensityCurve d{c.family, {}, {}, {}};
      for (const SweepCurvePoint& p : c.points) {
        d.density.push_back(p.summary.density);
        d.output_error.push_back(p.summary.output_rel_l2);
        d.recall.push_back(p.summary.recall);
      }
      shown.push_back(std::move(d));
    }
    mask_lab_->curves()->setCurves(std::move(shown));
    mask_lab_->setCurveProgress(1, 1);
    mask_lab_->showBusy({});
    hideProgress();
  });
  connect(session_, &Session::masksFailed, this, [this](const QString& message) {
    mask_lab_->showError(message);
    hideProgress();
    statusBar()->showMessage(tr("Mask lab: %1").arg(message), 10000);
  });
}

void MainWindow::evaluateMasks() {
  if (!run_ || stored_) return;
  if (const auto plan = mask_lab_->plan()) {
    session_->evaluateMasks({run_->id, plan, true, std::nullopt});
    requestMaskOverlay();
  } else if (const auto& choice = mask_lab_->perHeadChoice()) {
    session_->evaluateMasks({run_->id, nullptr, true, choice});  // built on the worker
  }
}

void MainWindow::onMasksEvaluated(const std::shared_ptr<const MaskEvaluation>& evaluation) {
  if (!run_ || stored_ || evaluation->run_id != run_->id) return;
  const bool first = !mask_evaluation_;
  mask_evaluation_ = evaluation;
  if (evaluation->choice) {
    // A per-head plan: the panel holds it (save, export) and the map can draw it now.
    mask_lab_->setBuiltPlan(*evaluation->choice, evaluation->plan);
    requestMaskOverlay();
  }
  mask_lab_->showEvaluation(evaluation->summary, evaluation->seconds);
  showShownHeadResult();
  showGrid();
  if (first) overview_->selectMetric(views::kMaskRecall);  // where the new numbers are
}

void MainWindow::showShownHeadResult() {
  if (!mask_evaluation_ || !run_ || stored_ || mask_evaluation_->run_id != run_->id) return;
  for (const masks::HeadResult& r : mask_evaluation_->heads)
    if (r.at.layer == layer_ && r.at.head == head_) mask_lab_->showHeadResult(r);
}

void MainWindow::requestMaskOverlay() {
  const auto plan = mask_lab_->plan();
  if (!run_ || stored_ || !plan || layer_ < 0 || !mask_lab_->drawOnMap()) return;
  session_->requestMaskOverlay({run_->id, layer_, head_, plan->at({layer_, head_})});
}

void MainWindow::computeMaskCurves() {
  if (!run_ || stored_) {
    mask_lab_->showError(tr("Run a prompt first: the curves are measured on its tokens."));
    return;
  }
  try {
    session_->sweepMasks({run_->id, mask_lab_->curveFamilies(), mask_lab_->curveDensities()});
    mask_lab_->setCurveProgress(0, 1);
    showProgress(tr("curves"), 0, 0);
  } catch (const std::exception& e) {
    mask_lab_->showError(QString::fromStdString(e.what()));
  }
}

void MainWindow::loadMaskPlan() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a mask plan"), {}, tr("Mask plans (*.json);;All (*)"));
  if (path.isEmpty()) return;
  try {
    auto plan = std::make_shared<masks::MaskPlan>(masks::read_plan_file(path.toStdString()));
    if (const auto model = session_->model()) plan->check_fits(model->facts.spec);
    if (plan->name.empty()) plan->name = QFileInfo(path).fileName().toStdString();
    mask_lab_->setLoadedPlan(plan, path);
  } catch (const std::exception& e) {
    showError(tr("Mask plan"), QString::fromStdString(e.what()));
  }
}

void MainWindow::saveMaskPlan() {
  const auto plan = mask_lab_->plan();
  if (!plan) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Save the mask plan"), "plan.json", tr("Mask plans (*.json)"));
  if (path.isEmpty()) return;
  try {
    masks::write_plan_file(*plan, path.toStdString());
    statusBar()->showMessage(tr("Plan written to %1").arg(path), 5000);
  } catch (const std::exception& e) {
    showError(tr("Mask plan"), QString::fromStdString(e.what()));
  }
}

}  // namespace attnscope::gui
