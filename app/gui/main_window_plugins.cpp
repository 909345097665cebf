// MainWindow's Plugins menu: every job of the plugins found, as `attnscope-cli plugins
// list` shows them; a job's form (views/plugin_job_form.h) with its typed parameters, the
// models (the open one by default), the store and an output folder; the job run on a
// plugins::JobThread (plugin_job_runner.h) with progress, the time left, log lines and
// Cancel; at the end where its files are, and its runs opened from the store in History.
// A plugin's error is shown with its own message; the window goes on.
#include <QDateTime>
#include <QDialog>
#include <QDockWidget>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QScrollArea>
#include <QStatusBar>
#include <QVBoxLayout>
#include <cstdio>

#include "app/gui/main_window.h"
#include "app/gui/plugin_job_runner.h"
#include "app/gui/sample_model.h"
#include "kernels/error.h"
#include "views/plugin_job_form.h"
#include "views/run_history_view.h"

namespace attnscope::gui {
namespace {

const QSize kDialogSize(640, 760);

QString run_list(const std::vector<store::RunId>& runs) {
  QStringList ids;
  for (store::RunId r : runs) ids << QString::number(int64_t(r));
  return ids.join(", ");
}

QString file_list(const std::vector<std::filesystem::path>& files) {
  QStringList names;
  for (const auto& f : files) names << QString::fromStdString(f.filename().string());
  return names.join(", ");
}

}  // namespace

void MainWindow::rescanPlugins() {
  plugin_catalog_ = plugins::PluginCatalog::discover_default();
  for (const std::string& w : plugin_catalog_.warnings()) std::fprintf(stderr, "attnscope: plugins: %s\n", w.c_str());
  buildPluginsMenu();
}

void MainWindow::buildPluginsMenu() {
  plugins_menu_->clear();
  plugins_menu_->setToolTipsVisible(true);
  for (const auto& library : plugin_catalog_.plugins()) {
    const plugins::PluginInfo& info = library->info();
    if (!plugins_menu_->isEmpty()) plugins_menu_->addSeparator();
    for (const plugins::JobInfo& job : info.jobs) {
      const QString name = QString::fromStdString(info.name + "." + job.name);
      QAction* action = plugins_menu_->addAction(name + "...", this, [this, name] { openPluginJob(name); });
      action->setObjectName("plugin:" + name);
      action->setToolTip(QString::fromStdString(job.summary));
      action->setStatusTip(QString::fromStdString(job.summary));
    }
  }
  QString searched;
  for (const plugins::PluginFolder& f : plugin_catalog_.folders())
    searched += "\n" + QString::fromStdString(f.path.string() + " (" + f.origin + ")");
  if (plugin_catalog_.plugins().empty()) {
    QAction* none = plugins_menu_->addAction(tr("No plugins found"));
    none->setEnabled(false);
    none->setToolTip(tr("Folders searched:%1").arg(searched.isEmpty() ? tr(" none") : searched));
  }
  plugins_menu_->addSeparator();
  plugins_menu_->addAction(tr("&Rescan Plugin Folders"), this, &MainWindow::rescanPlugins);
  const auto& warnings = plugin_catalog_.warnings();
  QAction* shown = plugins_menu_->addAction(tr("Plugin &Warnings (%1)...").arg(warnings.size()), this, [this, searched] {
    QStringList lines;
    for (const std::string& w : plugin_catalog_.warnings()) lines << QString::fromStdString(w);
    QMessageBox::information(this, tr("Plugin warnings"),
                             lines.join("\n\n") + "\n\n" + tr("Folders searched:%1").arg(searched));
  });
  shown->setEnabled(!warnings.empty());
}

void MainWindow::connectPlugins() {
  plugin_runner_ = new PluginJobRunner(this);
  plugin_dialog_ = new QDialog(this);
  plugin_dialog_->setObjectName("pluginDialog");
  plugin_dialog_->setModal(false);
  plugin_dialog_->resize(kDialogSize);
  auto* layout = new QVBoxLayout(plugin_dialog_);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(plugin_dialog_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  plugin_form_ = new views::PluginJobForm(scroll);
  scroll->setWidget(plugin_form_);
  layout->addWidget(scroll);

  connect(plugin_form_, &views::PluginJobForm::runRequested, this, &MainWindow::startPluginJob);
  connect(plugin_form_, &views::PluginJobForm::cancelRequested, plugin_runner_, &PluginJobRunner::cancel);
  connect(plugin_form_, &views::PluginJobForm::addModelRequested, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(plugin_dialog_, tr("Add a checkpoint directory"));
    if (!dir.isEmpty()) plugin_form_->addModel(dir);
  });
  connect(plugin_runner_, &PluginJobRunner::progress, this,
          [this](double fraction, const QString& message, const QString& detail) {
            plugin_form_->showProgress(fraction, message, detail);
            showProgress(tr("%1 %p%").arg(QString::fromStdString(plugin_runner_->jobName())),
                         qint64(fraction * 1000 + 0.5), 1000);
          });
  connect(plugin_runner_, &PluginJobRunner::logLine, plugin_form_, &views::PluginJobForm::appendLog);
  connect(plugin_runner_, &PluginJobRunner::finished, this, &MainWindow::onPluginJobFinished);
}

void MainWindow::openPluginJob(const QString& qualified_name) {
  if (!plugin_runner_->running()) {
    try {
      plugin_job_ = plugin_catalog_.find_job(qualified_name.toStdString());
      plugin_form_->setJob(job_form_spec(*plugin_job_), job_field_check(*plugin_job_));
    } catch (const std::exception& e) {
      showError(tr("Plugins"), QString::fromStdString(e.what()));
      return;
    }
    views::JobFormInputs inputs;
    if (session_->model()) inputs.models << session_->model()->facts.directory;
    inputs.database = QString::fromStdString(database_.string());
    inputs.output_folder = plugin_output_ = newPluginOutput();
    plugin_output_used_ = false;
    plugin_form_->setInputs(inputs);
    plugin_dialog_->setWindowTitle(tr("Plugin job %1").arg(qualified_name));
  } else if (qualified_name.toStdString() != plugin_runner_->jobName()) {
    statusBar()->showMessage(tr("%1 is running: cancel it to start another plugin job")
                                 .arg(QString::fromStdString(plugin_runner_->jobName())),
                             10000);
  }
  plugin_dialog_->show();
  plugin_dialog_->raise();
  plugin_dialog_->activateWindow();
}

QString MainWindow::newPluginOutput() const {
  const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss-zzz");
  return QString::fromStdString(default_output_folder(database_, plugin_job_->qualified_name(), stamp).string());
}

void MainWindow::startPluginJob() {
  if (!plugin_job_ || plugin_runner_->running()) return;
  const QStringList problems = plugin_form_->parameters()->problems();
  if (!problems.isEmpty()) {
    plugin_form_->showProblem(tr("Check the parameters:\n%1").arg(problems.join('\n')));
    return;
  }
  views::JobFormInputs inputs = plugin_form_->inputs();
  // Each run gets a folder of its own, unless the user chose one.
  if (plugin_output_used_ && inputs.output_folder == plugin_output_) {
    inputs.output_folder = plugin_output_ = newPluginOutput();
    plugin_form_->setInputs(inputs);
  }
  const auto samples = find_sample_data(program_directory());
  QString missing;
  if (inputs.database.isEmpty()) missing = tr("No store: give the file the job's runs go to (the app's --db).");
  else if (inputs.output_folder.isEmpty()) missing = tr("No output folder: give the folder the job's files go to.");
  else if (!samples) missing = tr("The bundled prompts (sample_data) were not found; set ATTNSCOPE_SAMPLE_DIR.");
  if (!missing.isEmpty()) {
    plugin_form_->showProblem(missing);
    return;
  }
  plugins::JobEnvironment env;
  for (const QString& m : inputs.models) env.models.emplace_back(m.toStdString());
  env.sample_data = *samples;
  env.database = inputs.database.toStdString();
  env.output_folder = inputs.output_folder.toStdString();
  env.device.choice = session_->deviceChoice();
  env.device.program = "attnscope";
  std::vector<std::string> assignments;
  for (const QString& a : plugin_form_->parameters()->assignments()) assignments.push_back(a.toStdString());
  const std::string command = batch_command_line(plugin_job_->qualified_name(), assignments, env);
  try {
    plugin_runner_->start(*plugin_job_, assignments, std::move(env));
  } catch (const std::exception& e) {
    plugin_form_->showProblem(QString::fromStdString(e.what()));
    return;
  }
  plugin_output_used_ = true;
  plugin_form_->setRunning(true);
  plugin_form_->appendLog(tr("app"), tr("the same job from a shell: %1").arg(QString::fromStdString(command)));
  showProgress(tr("%1").arg(QString::fromStdString(plugin_runner_->jobName())), 0, 0);
  statusBar()->showMessage(tr("Running %1...").arg(QString::fromStdString(plugin_runner_->jobName())));
}

void MainWindow::onPluginJobFinished(const std::shared_ptr<const plugins::JobOutcome>& outcome) {
  hideProgress();
  const QString name = plugin_job_ ? QString::fromStdString(plugin_job_->qualified_name()) : tr("plugin job");
  const QString output = plugin_form_->inputs().output_folder;
  const QString runs = run_list(outcome->runs);
  const QString db = plugin_form_->inputs().database;
  QString text;
  views::JobEnd end = views::JobEnd::Complete;
  if (outcome->status == store::RunStatus::Complete) {
    text = tr("%1 complete.").arg(name);
    if (!runs.isEmpty()) text += " " + tr("Run %1 in %2 (opened in History).").arg(runs, db);
    text += "\n" + (outcome->files.empty() ? tr("It wrote no files.")
                                           : tr("Files in %1: %2").arg(output, file_list(outcome->files)));
  } else if (outcome->status == store::RunStatus::Interrupted) {
    end = views::JobEnd::Stopped;
    text = tr("%1 stopped by the user.").arg(name);
    if (!runs.isEmpty()) text += " " + tr("Run %1 keeps its completed units (status interrupted).").arg(runs);
  } else {
    end = views::JobEnd::Failed;
    text = tr("%1 failed: %2").arg(name, QString::fromStdString(outcome->error));
    if (!runs.isEmpty()) text += "\n" + tr("Run %1 is marked failed and keeps its completed units.").arg(runs);
  }
  plugin_form_->showEnd(end, text);
  statusBar()->showMessage(text.section('\n', 0, 0), 10000);
  refreshHistory();
  if (end == views::JobEnd::Complete && !outcome->runs.empty()) {
    openStoredRun(outcome->runs.front());
    history_->selectRuns(outcome->runs);
    panel("historyPanel")->raise();
  }
  if (end == views::JobEnd::Failed) showError(tr("Plugin job"), text);
}

}  // namespace attnscope::gui
