// The Plugins menu under the offscreen platform: the jobs of the plugins found, a job's
// form built from its typed parameters and checked by the host's parser, the example
// plugin run from the form on the sample model into the store and History, a plugin's
// failure shown with its message, and Cancel.
#include <catch2/catch.hpp>

#include <QAction>
#include <QCheckBox>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <cstdlib>
#include <filesystem>

#include "analysis/store/database.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "app/gui/main_window.h"
#include "app/gui/plugin_job_runner.h"
#include "views/plugin_job_form.h"
#include "views/profile_table_model.h"
#include "views/profile_table_view.h"
#include "views/run_history_view.h"

using namespace attnscope;
using namespace attnscope::gui;
using Catch::Matchers::Contains;

namespace {

const QString kSample = QString(ATTNSCOPE_SAMPLE_DATA_DIR) + "/sample-llama";
constexpr int kWaitMs = 180000;

// The bundled plugins and the test plugins, and nothing of the user's.
QTemporaryDir& scratch() {
  static QTemporaryDir dir;
  return dir;
}

AppOptions options() {
  const std::string path = std::string(ATTNSCOPE_BUILD_PLUGIN_DIR) + ":" + ATTNSCOPE_TEST_PLUGIN_DIR;
  setenv("ATTNSCOPE_PLUGIN_PATH", path.c_str(), 1);
  setenv("XDG_DATA_HOME", scratch().filePath("data").toUtf8().constData(), 1);
  AppOptions o;
  o.model = kSample;
  o.device = DeviceChoice::Cpu;
  o.fresh = true;
  o.database = scratch().filePath("store.db");
  return o;
}

void wait_open(MainWindow& w) {
  QSignalSpy opened(w.session(), &Session::modelOpened);
  if (!w.session()->model()) REQUIRE(opened.wait(kWaitMs));
}

QAction* job_action(const MainWindow& w, const QString& job) {
  return w.pluginsMenu()->findChild<QAction*>("plugin:" + job);
}

// Chooses the job in the menu, as a user does.
void choose(MainWindow& w, const QString& job) {
  QAction* action = job_action(w, job);
  REQUIRE(action);
  action->trigger();
  REQUIRE(w.pluginDialog()->isVisible());
  REQUIRE(w.pluginForm()->job().name == job);
}

QLineEdit* line(const MainWindow& w, const QString& parameter) {
  return qobject_cast<QLineEdit*>(w.pluginForm()->parameters()->editor(parameter));
}

std::shared_ptr<const plugins::JobOutcome> run_form(MainWindow& w) {
  QSignalSpy finished(w.pluginRunner(), &PluginJobRunner::finished);
  w.startPluginJob();
  REQUIRE(w.pluginRunner()->running());
  REQUIRE(finished.wait(kWaitMs));
  return finished.front().front().value<std::shared_ptr<const plugins::JobOutcome>>();
}

}  // namespace

TEST_CASE("the Plugins menu lists every job of the plugins found and warns of the refused ones", "[gui][plugins]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  REQUIRE(job_action(w, "sink-profile.lengths"));
  REQUIRE(job_action(w, "units.units"));
  REQUIRE(job_action(w, "sink-profile.lengths")->toolTip().contains("sink mass"));
  // wrong_abi_plugin and no_entry_plugin are in the test folder: refused, with a warning.
  bool warned = false;
  for (QAction* a : w.pluginsMenu()->actions())
    if (a->text().contains("Warnings") && a->isEnabled()) warned = true;
  REQUIRE(warned);
}

TEST_CASE("a job's form shows its typed parameters, their defaults and help, the open model and the store",
          "[gui][plugins]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  wait_open(w);
  choose(w, "sink-profile.lengths");
  const auto& fields = w.pluginForm()->parameters()->fields();
  REQUIRE(fields.size() == 3);
  REQUIRE(fields[0].name == "lengths");
  REQUIRE(fields[0].kind == views::JobFieldKind::List);
  REQUIRE(fields[0].type_text == "list of int");
  REQUIRE(line(w, "lengths")->text() == "256,512");   // the plugin's default
  REQUIRE(line(w, "depth")->text() == "0.5");
  REQUIRE(line(w, "lengths")->toolTip().contains("prompt lengths in tokens"));  // its help
  const views::JobFormInputs inputs = w.pluginForm()->inputs();
  REQUIRE(inputs.models == QStringList{kSample});
  REQUIRE(inputs.database == scratch().filePath("store.db"));
  REQUIRE(inputs.output_folder.contains("plugin-output/sink-profile.lengths-"));
}

TEST_CASE("the form refuses what the host's parser refuses, in its words, and starts nothing", "[gui][plugins]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  wait_open(w);
  choose(w, "sink-profile.lengths");
  line(w, "lengths")->setText("256,4k");  // k = x1024, as --param takes it
  REQUIRE(w.pluginForm()->parameters()->problems().isEmpty());
  line(w, "lengths")->setText("256,abc");
  auto* problem = w.pluginForm()->parameters()->findChild<QLabel*>("problem_lengths");
  REQUIRE(problem);
  REQUIRE_FALSE(problem->isHidden());
  REQUIRE_THAT(problem->text().toStdString(), Contains("'abc' is not an integer"));
  line(w, "depth")->setText("nan");
  REQUIRE(w.pluginForm()->parameters()->problems().size() == 2);
  w.startPluginJob();
  REQUIRE_FALSE(w.pluginRunner()->running());
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("Check the parameters"));
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("depth: 'nan' is not a finite number"));
}

TEST_CASE("a bool parameter is a check box whose default is the plugin's", "[gui][plugins]") {
  views::PluginParameterFields fields;
  std::vector<views::JobField> list(2);
  list[0].name = "chat";
  list[0].kind = views::JobFieldKind::Bool;
  list[0].default_text = "true";
  list[1].name = "strict";
  list[1].kind = views::JobFieldKind::Bool;  // required: no default
  fields.setFields(list, {});
  auto* chat = qobject_cast<QCheckBox*>(fields.editor("chat"));
  auto* strict = qobject_cast<QCheckBox*>(fields.editor("strict"));
  REQUIRE(chat);
  REQUIRE(strict);
  REQUIRE(chat->isChecked());
  REQUIRE(strict->checkState() == Qt::PartiallyChecked);  // not given until chosen
  REQUIRE(fields.assignments() == std::vector<QString>{"chat=true"});
  REQUIRE(fields.problems() == QStringList{"strict: required"});
  strict->setCheckState(Qt::Unchecked);
  REQUIRE(fields.assignments() == std::vector<QString>{"chat=true", "strict=false"});
}

TEST_CASE("a job is shown as the attnscope-cli batch command that runs it, quoted for a shell", "[gui][plugins]") {
  plugins::JobEnvironment env;
  env.models = {"/models/my model"};
  env.database = "/data/store.db";
  env.output_folder = "/data/out";
  env.device.choice = host::DeviceChoice::Cuda;
  CHECK(batch_command_line("lua.run", {"script=it's.lua", "n=4k"}, env) ==
        "attnscope-cli batch lua.run --param 'script=it'\\''s.lua' --param n=4k --model '/models/my model' "
        "--db /data/store.db --out /data/out --device cuda");
}

TEST_CASE("the example plugin runs from the menu's form on the sample model into the store and History",
          "[gui][plugins][sample]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  wait_open(w);
  choose(w, "sink-profile.lengths");
  line(w, "lengths")->setText("160,224");
  const QString out = w.pluginForm()->inputs().output_folder;
  const auto outcome = run_form(w);
  REQUIRE(outcome->status == store::RunStatus::Complete);
  REQUIRE(outcome->runs.size() == 1);

  // The store holds the run: the plugin's job, complete, a unit per length with each head's sink mass.
  const store::Database db = store::Database::open(w.database(), store::OpenMode::ReadOnly);
  const store::RunRecord run = store::get_run(db, outcome->runs.front());
  REQUIRE(run.kind == "plugin");
  REQUIRE(run.task == "sink-profile.lengths");
  REQUIRE(run.status == store::RunStatus::Complete);
  REQUIRE(run.parameters["params"]["lengths"] == nlohmann::json::array({160, 224}));
  REQUIRE(run.parameters["models"] == nlohmann::json::array({kSample.toStdString()}));
  REQUIRE(store::list_units(db, run.id).size() == 2);
  // Its files where the form said, and the form says where.
  REQUIRE(std::filesystem::exists(std::filesystem::path(out.toStdString()) / "sink_mass.csv"));
  REQUIRE(std::filesystem::exists(std::filesystem::path(out.toStdString()) / "sink_mass_0.png"));
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("complete"));
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("Files in " + out.toStdString() + ": "));
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("sink_mass.csv"));
  REQUIRE(w.pluginForm()->progressPermille() == 1000);
  REQUIRE_THAT(w.pluginForm()->logText().toStdString(),
               Contains("attnscope-cli batch sink-profile.lengths --param lengths=160,224 --param depth=0.5"));
  // Reopened from the store in History: every head's stored sink mass in the profiles table.
  REQUIRE(w.showsStoredRun());
  REQUIRE(w.history()->selectedRuns() == outcome->runs);
  REQUIRE(w.profileTable()->model()->rowCount() == 64);
  REQUIRE(w.profileTable()->model()->column("sink_mass"));
}

TEST_CASE("a plugin's failure is shown with its message, its run is marked failed and the window goes on",
          "[gui][plugins][sample]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  wait_open(w);
  choose(w, "units.units");
  line(w, "count")->setText("3");
  line(w, "fail_at")->setText("1");
  const auto failed = run_form(w);
  REQUIRE(failed->status == store::RunStatus::Failed);
  REQUIRE_THAT(failed->error, Contains("layer 9999"));  // the store's refusal, as the plugin passed it on
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("units.units failed: " + failed->error));
  REQUIRE(failed->runs.size() == 1);
  const store::RunRecord run =
      store::get_run(store::Database::open(w.database(), store::OpenMode::ReadOnly), failed->runs.front());
  REQUIRE(run.status == store::RunStatus::Failed);

  line(w, "fail_at")->setText("-1");
  line(w, "count")->setText("1");
  REQUIRE(run_form(w)->status == store::RunStatus::Complete);
}

TEST_CASE("Cancel stops a running plugin job, which keeps its completed units", "[gui][plugins][sample]") {
  MainWindow w(options());
  w.setQuietErrors(true);
  wait_open(w);
  choose(w, "units.units");
  line(w, "count")->setText("200");
  line(w, "sleep_ms")->setText("20");
  QSignalSpy progress(w.pluginRunner(), &PluginJobRunner::progress);
  QSignalSpy finished(w.pluginRunner(), &PluginJobRunner::finished);
  w.startPluginJob();
  while (progress.size() < 3 && finished.isEmpty()) REQUIRE(progress.wait(kWaitMs));
  REQUIRE(finished.isEmpty());
  REQUIRE(w.pluginForm()->progressPermille() >= 0);  // the plugin's share, not the busy bar
  emit w.pluginForm()->cancelRequested();
  REQUIRE(finished.wait(kWaitMs));
  const auto outcome = finished.front().front().value<std::shared_ptr<const plugins::JobOutcome>>();
  REQUIRE(outcome->status == store::RunStatus::Interrupted);
  REQUIRE_THAT(w.pluginForm()->statusText().toStdString(), Contains("stopped by the user"));
  const store::Database db = store::Database::open(w.database(), store::OpenMode::ReadOnly);
  REQUIRE(store::get_run(db, outcome->runs.front()).status == store::RunStatus::Interrupted);
  REQUIRE(store::list_units(db, outcome->runs.front()).size() < 200);
}
