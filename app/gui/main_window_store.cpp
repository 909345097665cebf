// MainWindow's store side: profile jobs run from the app (the session runs the engine's
// job, the run lands in the store and is shown), the profiles table of the run shown, and
// the history: runs reopened without recomputing (metrics on the grid and in the table, a
// prompt's stored pooled maps on the map) and two runs compared head by head.
#include <QDockWidget>
#include <QStatusBar>

#include "analysis/store/database.h"
#include "analysis/store/metric_comparison.h"
#include "app/gui/main_window.h"
#include "app/gui/sample_model.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_metrics.h"
#include "views/head_grid_view.h"
#include "views/mask_lab_view.h"
#include "views/profile_job_form.h"
#include "views/profile_table_view.h"
#include "views/prompt_view.h"
#include "views/run_history_view.h"
#include "views/token_view.h"

namespace attnscope::gui {
namespace {

// Heads the comparison lists per metric (the CLI's default).
constexpr int kComparedHeads = 5;

QString run_title(const store::RunRecord& r) {
  return QObject::tr("Run %1: %2 of %3 on %4 (%5, %6 units)")
      .arg(int64_t(r.id))
      .arg(QString::fromStdString(r.kind), QString::fromStdString(r.task),
           QString::fromStdString(std::filesystem::path(r.model.identity.path).filename().string()),
           QString::fromUtf8(store::status_name(r.status).data(), int(store::status_name(r.status).size())))
      .arg(r.unit_count);
}

}  // namespace

void MainWindow::connectStore() {
  connect(profile_form_, &views::ProfileJobForm::runRequested, this, &MainWindow::startProfile);
  connect(profile_form_, &views::ProfileJobForm::cancelRequested, session_, &Session::cancelProfile);
  connect(session_, &Session::profileStarted, this, [this] {
    profile_form_->setRunning(true);
    prompt_->setRunEnabled(false);
    showProgress(tr("profile"), 0, 0);
    statusBar()->showMessage(tr("Profiling..."));
  });
  connect(session_, &Session::profileProgress, this, [this](const profile::ProfileProgress& p) {
    profile_form_->showProgress(p);
    showProgress(tr("profile unit %1/%2").arg(std::min(p.units_done + 1, p.units_total)).arg(p.units_total),
                 int64_t(p.work_done), int64_t(p.work_total));
  });
  connect(session_, &Session::profileFinished, this, &MainWindow::onProfileFinished);
  connect(session_, &Session::profileFailed, this, [this](const QString& message) {
    profile_form_->setRunning(false);
    profile_form_->showMessage(message);
    prompt_->setRunEnabled(session_->model() != nullptr);
    hideProgress();
    refreshHistory();  // a failed run is in the store too
    showError(tr("Profile"), message);
  });
  connect(profiles_, &views::ProfileTableView::headActivated, this, &MainWindow::showHead);
  connect(history_, &views::RunHistoryView::refreshRequested, this, &MainWindow::refreshHistory);
  connect(history_, &views::RunHistoryView::openRequested, this,
          [this](qint64 run) { openStoredRun(store::RunId(run)); });
  connect(history_, &views::RunHistoryView::compareRequested, this,
          [this](qint64 a, qint64 b) { compareStoredRuns(store::RunId(a), store::RunId(b)); });
  connect(history_, &views::RunHistoryView::unitChosen, this, &MainWindow::showStoredUnit);
}

void MainWindow::startProfile() {
  if (!session_->model() || session_->running() || session_->profiling()) return;
  const auto samples = find_sample_data(program_directory());
  if (!samples) {
    profile_form_->showMessage(tr("The bundled prompts (sample_data/prompts) were not found; set ATTNSCOPE_SAMPLE_DIR."));
    return;
  }
  if (database_.empty()) {
    profile_form_->showMessage(tr("No store: start with --db FILE"));
    return;
  }
  try {
    session_->runProfile(views::profile_spec_of(profile_form_->values(), *samples / "prompts"),
                         QString::fromStdString(database_.string()));
  } catch (const std::exception& e) {
    profile_form_->showMessage(QString::fromStdString(e.what()));
  }
}

void MainWindow::onProfileFinished(const std::shared_ptr<const ProfileOutcome>& outcome) {
  const auto& r = outcome->result;
  profile_form_->setRunning(false);
  prompt_->setRunEnabled(true);
  hideProgress();
  const bool stopped = r.status == store::RunStatus::Interrupted;
  QString text = tr("Run %1: %2 of %3 units in %4 s")
                     .arg(r.run ? int64_t(*r.run) : -1)
                     .arg(r.units_done)
                     .arg(r.units_total)
                     .arg(outcome->seconds, 0, 'f', 1);
  if (stopped) text += tr(" (cancelled: the completed units are kept)");
  for (const std::string& note : r.notes) text += "\n" + QString::fromStdString(note);
  profile_form_->showMessage(text);
  statusBar()->showMessage(text.section('\n', 0, 0), 10000);
  refreshHistory();
  if (r.run) {
    openStoredRun(*r.run);
    history_->selectRuns({*r.run});
  }
}

void MainWindow::showLastRun() {
  // Back from a run reopened from the store to the session's own.
  if (const auto last = session_->lastRun()) onRunFinished(last);
}

void MainWindow::refreshHistory() {
  if (database_.empty()) return;
  std::error_code ec;
  if (!std::filesystem::exists(database_, ec)) {
    history_->setRuns({});
    return;
  }
  try {
    history_->setRuns(store::list_runs(store::Database::open(database_, store::OpenMode::ReadOnly)));
  } catch (const std::exception& e) {
    history_->setMessage(QString::fromStdString(e.what()));
  }
}

void MainWindow::openStoredRun(store::RunId id) {
  try {
    auto run = std::make_shared<StoredRun>(load_stored_run(database_, id));
    const auto& identity = run->record.model.identity;
    const int layers = identity.num_layers, heads = identity.num_heads;
    stored_ = run;
    stored_maps_.reset();
    mask_evaluation_.reset();
    base_grid_ = views::grid_from_metrics(run->values.metrics, layers, heads);
    has_grid_ = true;
    if (base_grid_.metric_count() > 0) {
      showGrid();
    } else {
      overview_->clear(tr("Run %1 stored no per-head metrics.").arg(int64_t(id)));
      has_grid_ = false;
    }
    const QString source = run->values.from_units ? tr("; means over its completed units") : QString();
    profiles_->setMetrics(run_title(run->record) + source, run->values.metrics, layers, heads);
    tokens_->clear(tr("Run %1 from the store: its tokens are not kept.").arg(int64_t(id)));
    map_->canvas()->clearMask();
    mask_lab_->setRunAvailable(false);
    QStringList labels;
    for (const auto& unit : run->units) labels << QString::fromStdString(unit_label(unit));
    history_->setUnits(labels, labels.isEmpty() ? -1 : 0);
    history_->setMessage(run_title(run->record));
    showStoredUnit(labels.isEmpty() ? -1 : 0);
  } catch (const std::exception& e) {
    showError(tr("History"), QString::fromStdString(e.what()));
  }
}

void MainWindow::showStoredUnit(int index) {
  if (!stored_) return;
  const auto& identity = stored_->record.model.identity;
  stored_maps_.reset();
  if (index >= 0 && index < int(stored_->units.size())) {
    try {
      stored_maps_ = load_unit_maps(database_, stored_->record.id, stored_->units[size_t(index)].id,
                                    identity.num_layers, identity.num_heads);
    } catch (const std::exception& e) {
      showError(tr("History"), QString::fromStdString(e.what()));
    }
  }
  const bool keep = layer_ >= 0 && layer_ < identity.num_layers && head_ >= 0 && head_ < identity.num_heads;
  showHead(keep ? layer_ : identity.num_layers - 1, keep ? head_ : 0);
}

void MainWindow::compareStoredRuns(store::RunId a, store::RunId b) {
  try {
    const store::Database db = store::Database::open(database_, store::OpenMode::ReadOnly);
    const store::RunComparison comparison = store::compare_runs(db, a, b, kComparedHeads);
    const store::RunRecord first = store::get_run(db, a);
    const auto& identity = first.model.identity;
    history_->setComparison(tr("Run %1 against run %2 (values of %2 minus %1)").arg(int64_t(a)).arg(int64_t(b)),
                            comparison.metrics);
    views::HeadGridModel grid =
        views::grid_from_differences(comparison.a.metrics, comparison.b.metrics, identity.num_layers, identity.num_heads);
    if (grid.metric_count() == 0) {
      history_->setMessage(tr("Runs %1 and %2 have no per-head number in common.").arg(int64_t(a)).arg(int64_t(b)));
      return;
    }
    // The grid shows the differences; the map and table stay with what was shown.
    base_grid_ = std::move(grid);
    has_grid_ = true;
    mask_evaluation_.reset();
    showGrid();
    panel("overviewPanel")->raise();
  } catch (const std::exception& e) {
    showError(tr("Compare"), QString::fromStdString(e.what()));
  }
}

}  // namespace attnscope::gui
