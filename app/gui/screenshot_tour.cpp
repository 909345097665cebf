// The screenshot driver's tour after the run's views: a generated task, the mask lab (a
// plan, curves, then its budget sliders for streaming, snapkv and duo with a head of its
// own mask), two profile jobs, the history comparing them and a plugin job
// (screenshot_driver.h).
#include <QAction>
#include <QCoreApplication>
#include <QDialog>
#include <QDockWidget>
#include <QMenu>
#include <QTableView>

#include "app/gui/main_window.h"
#include "app/gui/plugin_job_runner.h"
#include "app/gui/sample_model.h"
#include "app/gui/screenshot_driver.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_view.h"
#include "views/mask_budget_editor.h"
#include "views/mask_lab_view.h"
#include "views/plugin_job_form.h"
#include "views/profile_job_form.h"
#include "views/profile_table_model.h"
#include "views/profile_table_view.h"
#include "views/prompt_view.h"
#include "views/run_history_view.h"
#include "views/task_prompt_form.h"

namespace attnscope::gui {
namespace {

// Docks are small in the window's layout; floated at these sizes for their screenshots.
const QSize kMaskLabSize(1000, 900);
const QSize kMaskSlidersSize(1000, 1150);  // the head group's editor adds to the panel
const QSize kProfilesSize(1100, 700);
const QSize kHistorySize(1100, 600);
// The zoomed mask: the last queries and keys, a few pixels a token.
constexpr double kMaskZoomTokens = 160;

}  // namespace

template <typename Sender, typename Signal, typename Accept>
void ScreenshotDriver::when(Sender* sender, Signal signal, Accept accept, std::function<void()> next) {
  auto connection = std::make_shared<QMetaObject::Connection>();
  *connection = connect(sender, signal, this, [this, connection, accept, next](auto&&... args) {
    if (done_ || !accept(args...)) return;
    disconnect(*connection);
    next();
  });
}

void ScreenshotDriver::tourTask() {
  // A generated passkey prompt shown in the prompt panel (not run: the run above stays shown).
  window_->panel("promptPanel")->raise();
  views::TaskFormValues task = window_->promptView()->taskForm()->values();
  task.task = profile::ProfileTask::Passkey;
  task.length = 600;
  task.depth = 0.3;
  window_->promptView()->taskForm()->setValues(task);
  when(window_->session(), &Session::taskPromptReady, [](const auto&) { return true; }, [this] {
    QCoreApplication::processEvents();
    save(window_->panel("promptPanel")->widget(), "prompt_task");
    tourMasks();
  });
  connect(window_->session(), &Session::taskPromptFailed, this, [this](const QString& m) { fail("task: " + m); });
  emit window_->promptView()->taskForm()->generateRequested();
}

void ScreenshotDriver::tourMasks() {
  auto* lab = window_->maskLab();
  window_->panel("maskLabPanel")->raise();
  lab->setFamily("vertical_slash");
  lab->setDensity(0.2);
  // The evaluation of this plan, then its end-to-end numbers and the shown head's mask.
  const auto plan = lab->plan();
  auto request = std::make_shared<quint64>(0);
  auto shown = std::make_shared<bool>(false), e2e = std::make_shared<bool>(false);
  const auto both = [this, shown, e2e] {
    if (!*shown || !*e2e) return;
    auto* canvas = window_->mapPanel()->canvas();
    canvas->fitMap();
    whenMapSettles([this, canvas] {
      saveMap("map_mask");
      save(window_, "main_window_masks");
      save(window_->overview(), "overview_mask_recall");
      // Close enough for the dropped entries themselves (runs of keys per row).
      const double n = double(canvas->viewport().tokens());
      canvas->showWindow(n - kMaskZoomTokens, n, n - kMaskZoomTokens, n);
      whenMapSettles([this] {
        saveMap("map_mask_zoom");
        tourCurves();
      });
    });
  };
  when(window_->session(), &Session::masksEvaluated,
       [plan, request](const std::shared_ptr<const MaskEvaluation>& e) {
         if (e->plan != plan) return false;
         *request = e->request;
         return true;
       },
       [this, request, e2e, both] {
         when(window_->session(), &Session::masksEndToEnd,
              [request](quint64 r, const masks::EndToEnd&) { return r == *request; }, [e2e, both] {
                *e2e = true;
                both();
              });
       });
  when(window_, &MainWindow::maskShown, [] { return true; }, [shown, both] {
    *shown = true;
    both();
  });
  connect(window_->session(), &Session::masksFailed, this, [this](const QString& m) { fail("mask lab: " + m); });
  window_->evaluateMasks();
}

void ScreenshotDriver::tourCurves() {
  window_->maskLab()->setCurveFamilies({"streaming", "vertical_slash", "block_topk", "topk"});
  when(window_->session(), &Session::sweepFinished, [](const auto&) { return true; }, [this] {
    QCoreApplication::processEvents();
    saveFloating("maskLabPanel", kMaskLabSize, "mask_lab");
    tourSliders(0);
  });
  window_->computeMaskCurves();
}

void ScreenshotDriver::tourSliders(int step) {
  // 0: streaming with its own budget in tokens, and the retrieval head (7, 2) a top-k mask
  // of its own; 1: snapkv at a density with its other sliders moved; 2: duo, built from the
  // recorded heads on the worker, the head keeping its own mask.
  static const char* const kNames[] = {"mask_sliders_streaming", "mask_sliders_snapkv", "mask_sliders_duo"};
  auto* lab = window_->maskLab();
  auto* editor = lab->methodEditor();
  window_->panel("maskLabPanel")->raise();
  if (step == 0) {
    lab->setFamily("streaming");
    editor->setDensityMode(false);
    editor->setValue("sink_tokens", 64);
    editor->setValue("window", 256);
    lab->setSelectedHead(7, 2);
    lab->setHeadMask(7, 2, {masks::TopKMask{128}, std::nullopt});
  } else if (step == 1) {
    lab->setFamily("snapkv");
    lab->setDensity(0.15);
    editor->setValue("observation_window", 64);
    editor->setValue("kernel", 5);
  } else {
    lab->setFamily("duo");
    editor->setDensityMode(false);
    editor->setValue("sparsity", 0.75);
  }
  auto request = std::make_shared<quint64>(0);
  when(window_->session(), &Session::masksEvaluated,
       [lab, request](const std::shared_ptr<const MaskEvaluation>& e) {
         const auto& choice = lab->perHeadChoice();
         const bool current = choice ? e->choice && *e->choice == *choice : e->plan == lab->plan();
         if (current) *request = e->request;
         return current;
       },
       [this, request, step] {
         when(window_->session(), &Session::masksEndToEnd,
              [request](quint64 r, const masks::EndToEnd&) { return r == *request; }, [this, step] {
                QCoreApplication::processEvents();
                saveFloating("maskLabPanel", kMaskSlidersSize, kNames[step]);
                if (step == 0) save(window_->overview(), "overview_own_masks");
                if (step < 2)
                  tourSliders(step + 1);
                else
                  tourProfile(0);
              });
       });
  if (!lab->live()) window_->evaluateMasks();
}

void ScreenshotDriver::tourProfile(int index) {
  // Two small jobs of the same model: a needle grid with every metric, then passkeys, so
  // that the history has two runs to compare.
  views::ProfileFormValues job;
  job.needle = index == 0;
  job.passkey = index == 1;
  job.lengths = index == 0 ? "256" : "320";
  job.depths = "50";
  job.metrics = "all";
  window_->profileForm()->setValues(job);
  window_->panel("profilesPanel")->raise();
  when(window_->session(), &Session::profileFinished, [](const auto&) { return true; }, [this, index] {
    const auto runs = window_->history()->selectedRuns();
    if (runs.size() != 1) {
      fail("the profile run was not selected in the history");
      return;
    }
    profile_runs_.push_back(qint64(runs.front()));
    if (index == 0) {
      // The stored run reopened: its metrics on the grid and in the table, its pooled maps on the map.
      window_->overview()->selectMetric("retrieval_score");
      if (const auto column = window_->profileTable()->model()->column("retrieval_score"))
        window_->profileTable()->table()->sortByColumn(*column, Qt::DescendingOrder);
      whenMapSettles([this] {
        saveMap("map_stored");
        save(window_->overview(), "overview_stored");
        saveFloating("profilesPanel", kProfilesSize, "profiles");
        tourProfile(1);
      });
      return;
    }
    tourHistory();
  });
  connect(window_->session(), &Session::profileFailed, this, [this](const QString& m) { fail("profile: " + m); });
  window_->startProfile();
}

void ScreenshotDriver::tourHistory() {
  window_->history()->selectRuns({store::RunId(profile_runs_[0]), store::RunId(profile_runs_[1])});
  window_->compareStoredRuns(store::RunId(profile_runs_[0]), store::RunId(profile_runs_[1]));
  window_->overview()->selectMetric("sink_mass b-a");
  window_->panel("historyPanel")->raise();
  QCoreApplication::processEvents();
  save(window_->overview(), "overview_compare");
  saveFloating("historyPanel", kHistorySize, "history");
  tourPlugins();
}

void ScreenshotDriver::tourPlugins() {
  // The example plugin's job from the Plugins menu: its form, its progress, its end.
  const QString job = "sink-profile.lengths";
  if (!window_->pluginsMenu()->findChild<QAction*>("plugin:" + job)) {
    fail("the Plugins menu has no " + job + " (is <build>/plugins/sink-profile.so built?)");
    return;
  }
  window_->openPluginJob(job);
  window_->pluginForm()->parameters()->setText("lengths", "160,480");
  for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
  save(window_->pluginDialog(), "plugin_form");
  auto progress_saved = std::make_shared<bool>(false);
  connect(window_->pluginRunner(), &PluginJobRunner::progress, this, [this, progress_saved](double fraction) {
    if (done_ || *progress_saved || fraction <= 0 || fraction >= 1) return;
    *progress_saved = true;
    save(window_->pluginDialog(), "plugin_progress");
  });
  when(window_->pluginRunner(), &PluginJobRunner::finished, [](const auto&) { return true; },
       [this, progress_saved] {
         if (!window_->showsStoredRun() || window_->history()->selectedRuns().size() != 1) {
           fail("the plugin job: " + window_->pluginForm()->statusText());
           return;
         }
         if (!*progress_saved) {
           fail("the plugin job ended without showing its progress");
           return;
         }
         QCoreApplication::processEvents();
         save(window_->pluginDialog(), "plugin_done");
         save(window_, "main_window_plugin");
         finish();
       });
  window_->startPluginJob();
  if (!window_->pluginRunner()->running()) fail("the plugin job did not start: " + window_->pluginForm()->statusText());
}

}  // namespace attnscope::gui
