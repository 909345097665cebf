// The main window under the offscreen platform: layout and settings remembered between
// runs, a run shown in every view, load errors shown as messages.
#include <catch2/catch.hpp>

#include <QCheckBox>
#include <QDockWidget>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>

#include "app/gui/main_window.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_view.h"
#include "views/head_grid_metrics.h"
#include "views/mask_budget_editor.h"
#include "views/mask_lab_view.h"
#include "views/model_info_view.h"
#include "views/profile_job_form.h"
#include "views/profile_table_model.h"
#include "views/profile_table_view.h"
#include "views/prompt_view.h"
#include "views/run_history_model.h"
#include "views/run_history_view.h"
#include "views/task_prompt_form.h"
#include "views/token_view.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const QString kSample = QString(ATTNSCOPE_SAMPLE_DATA_DIR) + "/sample-llama";
constexpr int kWaitMs = 120000;

// The store of these tests: a throwaway file, never the user's.
QString test_database() {
  static QTemporaryDir dir;
  return dir.filePath("store.db");
}

AppOptions options(bool fresh) {
  AppOptions o;
  o.model = kSample;
  o.device = DeviceChoice::Cpu;
  o.fresh = fresh;
  o.database = test_database();
  return o;
}

void wait_open(MainWindow& w) {
  QSignalSpy opened(w.session(), &Session::modelOpened);
  if (!w.session()->model()) REQUIRE(opened.wait(kWaitMs));
}

// A window with the sample model open and a short prompt run.
void run_prompt(MainWindow& w) {
  w.setQuietErrors(true);
  w.show();
  wait_open(w);
  w.promptView()->setText("The pass key is 71432. Remember it. What is the pass key? The pass key is");
  QSignalSpy shown(&w, &MainWindow::headShown);
  w.startRun();
  REQUIRE(shown.wait(kWaitMs));
}

// Runs a small profile job from the window's form; returns its run id.
store::RunId profile_from_form(MainWindow& w, const QString& lengths) {
  views::ProfileFormValues job;
  job.lengths = lengths;
  job.depths = "50";
  job.metrics = "sink_mass,local_mass,entropy,pattern";
  w.profileForm()->setValues(job);
  QSignalSpy finished(w.session(), &Session::profileFinished);
  w.startProfile();
  REQUIRE(finished.wait(kWaitMs));
  const auto outcome = finished.front().front().value<std::shared_ptr<const ProfileOutcome>>();
  REQUIRE(outcome->result.run);
  return *outcome->result.run;
}

}  // namespace

TEST_CASE("the window remembers its panels and the colour scale between runs", "[gui][window]") {
  QSettings().clear();
  {
    MainWindow w(options(true));
    w.setQuietErrors(true);
    w.show();
    wait_open(w);
    w.panel("tokensPanel")->hide();
    w.mapPanel()->setScaleKind(views::ScaleKind::Rank);
    w.close();  // saves
  }
  MainWindow again(options(false));
  again.setQuietErrors(true);
  again.show();
  REQUIRE(again.panel("tokensPanel")->isHidden());
  REQUIRE_FALSE(again.panel("overviewPanel")->isHidden());
  REQUIRE(again.mapPanel()->scaleKind() == views::ScaleKind::Rank);
  wait_open(again);
  REQUIRE(QSettings().value("lastModel").toString() == kSample);
  QSettings().clear();
}

TEST_CASE("a run fills the overview, the map and the token view", "[gui][window]") {
  MainWindow w(options(true));
  w.setQuietErrors(true);
  w.show();
  wait_open(w);
  REQUIRE(w.modelView()->facts().contains("LlamaForCausalLM"));
  REQUIRE(w.modelView()->estimate().contains("KV cache"));
  w.promptView()->setText("The pass key is 71432. Remember it. What is the pass key? The pass key is");
  QSignalSpy shown(&w, &MainWindow::headShown);
  w.startRun();
  REQUIRE(shown.wait(kWaitMs));
  REQUIRE(w.overview()->hasModel());
  REQUIRE(w.overview()->selectedHead() == views::GridCell{7, 0});  // the last layer's first head by default
  REQUIRE(w.mapPanel()->canvas()->hasHead());
  REQUIRE(w.tokenView()->html().contains("pass</span>"));  // one span a token
  w.showHead(2, 0);
  REQUIRE(w.mapPanel()->canvas()->layer() == 2);
  REQUIRE(w.overview()->selectedHead() == views::GridCell{2, 0});
}

TEST_CASE("a model that fails to open leaves a readable message and a working window", "[gui][window]") {
  AppOptions o = options(true);
  o.model = "/nonexistent/checkpoint";
  MainWindow w(o);
  w.setQuietErrors(true);
  QSignalSpy failed(w.session(), &Session::modelFailed);
  REQUIRE(failed.wait(kWaitMs));
  REQUIRE(w.modelView()->facts().contains("Could not open /nonexistent/checkpoint"));
  w.openModel(kSample);
  wait_open(w);
  REQUIRE(w.session()->model());
}

TEST_CASE("a generated task fills the prompt and runs its own ids", "[gui][window]") {
  MainWindow w(options(true));
  w.setQuietErrors(true);
  wait_open(w);
  views::TaskFormValues task;
  task.task = profile::ProfileTask::RepeatedTokens;
  task.length = 161;
  w.promptView()->taskForm()->setValues(task);
  QSignalSpy made(w.session(), &Session::taskPromptReady);
  emit w.promptView()->taskForm()->generateRequested();
  REQUIRE(made.wait(kWaitMs));
  REQUIRE(w.promptView()->hasTaskPrompt());
  REQUIRE(w.promptView()->tokenCount() == 161);  // the task's ids, not the decoded text encoded again
  QSignalSpy finished(w.session(), &Session::runFinished);
  w.startRun();
  REQUIRE(finished.wait(kWaitMs));
  const auto run = finished.front().front().value<std::shared_ptr<const RunResult>>();
  REQUIRE(run->task);
  REQUIRE(run->prompt == run->task->ids);
}

TEST_CASE("a mask lab evaluation puts each head's recall on the overview", "[gui][window]") {
  MainWindow w(options(true));
  run_prompt(w);
  w.maskLab()->setLive(false);
  w.maskLab()->setFamily("window");
  w.maskLab()->setDensity(0.4);
  QSignalSpy evaluated(w.session(), &Session::masksEvaluated);
  w.evaluateMasks();
  REQUIRE(evaluated.wait(kWaitMs));
  REQUIRE(w.overview()->model().find_metric(views::kMaskRecall));
  REQUIRE(w.overview()->metricName() == views::kMaskRecall);  // the first result is shown
  const double recall = w.overview()->model().value(7, 2);
  REQUIRE(recall > 0);
  REQUIRE(recall <= 1);
}

TEST_CASE("a duo plan from the mask lab is built on the worker, keeps the shown head's own mask and is flagged",
          "[gui][window]") {
  MainWindow w(options(true));
  run_prompt(w);
  auto* lab = w.maskLab();
  lab->setLive(false);
  lab->setFamily("duo");
  lab->methodEditor()->setDensityMode(false);
  w.showHead(7, 2);  // the overview's click: the mask lab's head group follows it
  lab->findChild<QCheckBox*>("maskOwnMask")->setChecked(true);
  lab->headEditor()->setMethod("dense");
  REQUIRE(w.overview()->markedHeads() == std::vector<views::GridCell>{{7, 2}});
  REQUIRE_FALSE(lab->plan());  // duo needs the run's heads
  QSignalSpy evaluated(w.session(), &Session::masksEvaluated);
  w.evaluateMasks();
  REQUIRE(evaluated.wait(kWaitMs));
  REQUIRE(lab->plan());  // the built plan, for Save Plan and the map
  REQUIRE(lab->plan() == evaluated.front().front().value<std::shared_ptr<const MaskEvaluation>>()->plan);
  REQUIRE(std::holds_alternative<masks::DenseMask>(lab->plan()->at({7, 2}).family));
  REQUIRE(lab->plan()->name.find("duo sink 64 recent 256") == 0);
}

TEST_CASE("a profile job run from the window is reopened from the store with its maps", "[gui][window]") {
  MainWindow w(options(true));
  w.setQuietErrors(true);
  wait_open(w);
  const store::RunId id = profile_from_form(w, "300");  // a pattern class needs 256 rows or more
  REQUIRE(w.history()->model()->rowOf(id) >= 0);
  REQUIRE(w.history()->selectedRuns() == std::vector<store::RunId>{id});
  REQUIRE(w.profileTable()->model()->rowCount() == 64);  // every head of the sample model
  REQUIRE(w.profileTable()->model()->column("pattern"));
  REQUIRE(w.overview()->model().find_metric("sink_mass"));
  REQUIRE(w.mapPanel()->canvas()->hasHead());  // the stored pooled map, no recomputing
}

TEST_CASE("two stored runs compared put their differences on the grid", "[gui][window]") {
  MainWindow w(options(true));
  w.setQuietErrors(true);
  wait_open(w);
  const store::RunId a = profile_from_form(w, "160");
  const store::RunId b = profile_from_form(w, "224");
  w.compareStoredRuns(a, b);
  const auto index = w.overview()->model().find_metric("sink_mass b-a");
  REQUIRE(index);
  REQUIRE(w.overview()->model().metric(*index).diverging);
}

TEST_CASE("after a run from the store the last run of the session can be shown again", "[gui][window]") {
  MainWindow w(options(true));
  run_prompt(w);
  profile_from_form(w, "160");
  REQUIRE(w.showsStoredRun());
  w.showLastRun();
  REQUIRE_FALSE(w.showsStoredRun());
  REQUIRE(w.overview()->model().find_metric("sink mass"));  // the capture's own metrics again
  REQUIRE(w.tokenView()->html().contains("pass</span>"));
}
