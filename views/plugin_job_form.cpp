#include "views/plugin_job_form.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "views/time_left.h"

namespace attnscope::views {
namespace {

constexpr int kPermille = 1000;
constexpr int kLogLines = 500;  // the oldest go first
constexpr int kModelLines = 4;

const char* const kFailedStyle = "color: #c0392b";
const char* const kCompleteStyle = "color: #1e7b34";

}  // namespace

PluginJobForm::PluginJobForm(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  title_ = new QLabel(this);
  title_->setObjectName("pluginJobTitle");
  title_->setTextFormat(Qt::RichText);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  layout->addWidget(title_);
  layout->addWidget(summary_);

  auto* parameters = new QGroupBox(tr("Parameters"), this);
  auto* parameters_layout = new QVBoxLayout(parameters);
  fields_ = new PluginParameterFields(parameters);
  parameters_layout->addWidget(fields_);
  defaults_ = new QPushButton(tr("Defaults"), parameters);
  defaults_->setToolTip(tr("Every parameter back at the plugin's default"));
  auto* defaults_row = new QHBoxLayout;
  defaults_row->addStretch(1);
  defaults_row->addWidget(defaults_);
  parameters_layout->addLayout(defaults_row);
  layout->addWidget(parameters);

  auto* inputs = new QGroupBox(tr("Models, store and output"), this);
  auto* inputs_layout = new QFormLayout(inputs);
  models_ = new QPlainTextEdit(inputs);
  models_->setObjectName("pluginModels");
  models_->setToolTip(tr("Checkpoint folders, one per line (--model DIR); empty: the bundled sample model"));
  models_->setFixedHeight(models_->fontMetrics().lineSpacing() * kModelLines + 12);
  auto* add_model = new QPushButton(tr("Add..."), inputs);
  auto* models_cell = new QHBoxLayout;
  models_cell->addWidget(models_, 1);
  models_cell->addWidget(add_model, 0, Qt::AlignTop);
  inputs_layout->addRow(tr("Models"), models_cell);
  database_ = new QLineEdit(inputs);
  database_->setObjectName("pluginDatabase");
  database_->setToolTip(tr("The store the job's runs go to (--db); History reads it"));
  inputs_layout->addRow(tr("Store"), database_);
  output_ = new QLineEdit(inputs);
  output_->setObjectName("pluginOutput");
  output_->setToolTip(tr("The folder the job's files go to (--out); created when missing"));
  inputs_layout->addRow(tr("Output folder"), output_);
  layout->addWidget(inputs);

  auto* actions = new QHBoxLayout;
  progress_ = new QProgressBar(this);
  progress_->setObjectName("pluginProgress");
  progress_->setRange(0, kPermille);
  progress_->setFormat("%p%");
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("pluginRun");
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName("pluginCancel");
  actions->addWidget(progress_, 1);
  actions->addWidget(run_);
  actions->addWidget(cancel_);
  layout->addLayout(actions);
  status_ = new QLabel(this);
  status_->setObjectName("pluginStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(status_);
  log_ = new QPlainTextEdit(this);
  log_->setObjectName("pluginLog");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(kLogLines);
  log_->setPlaceholderText(tr("The job's log"));
  layout->addWidget(log_, 1);

  connect(run_, &QPushButton::clicked, this, &PluginJobForm::runRequested);
  connect(cancel_, &QPushButton::clicked, this, &PluginJobForm::cancelRequested);
  connect(add_model, &QPushButton::clicked, this, &PluginJobForm::addModelRequested);
  connect(defaults_, &QPushButton::clicked, fields_, &PluginParameterFields::resetToDefaults);
  setRunning(false);
}

void PluginJobForm::setJob(const JobFormSpec& spec, JobFieldCheck check) {
  spec_ = spec;
  title_->setText(QStringLiteral("<b>%1</b> <span style=\"color: gray\">%2</span>")
                      .arg(spec.name.toHtmlEscaped(), spec.plugin.toHtmlEscaped()));
  summary_->setText(spec.summary);
  fields_->setFields(spec.fields, std::move(check));
  progress_->setValue(0);
  status_->clear();
  status_->setStyleSheet({});
  log_->clear();
}

void PluginJobForm::setInputs(const JobFormInputs& inputs) {
  models_->setPlainText(inputs.models.join('\n'));
  database_->setText(inputs.database);
  output_->setText(inputs.output_folder);
}

JobFormInputs PluginJobForm::inputs() const {
  JobFormInputs out;
  for (const QString& line : models_->toPlainText().split('\n', Qt::SkipEmptyParts))
    if (!line.trimmed().isEmpty()) out.models << line.trimmed();
  out.database = database_->text().trimmed();
  out.output_folder = output_->text().trimmed();
  return out;
}

void PluginJobForm::addModel(const QString& directory) {
  QStringList models = inputs().models;
  if (!models.contains(directory)) models << directory;
  models_->setPlainText(models.join('\n'));
}

void PluginJobForm::setRunEnabled(bool enabled) {
  enabled_ = enabled;
  setRunning(running_);
}

void PluginJobForm::setRunning(bool running) {
  running_ = running;
  run_->setEnabled(enabled_ && !running);
  cancel_->setEnabled(running);
  fields_->setEnabled(!running);
  defaults_->setEnabled(!running);
  models_->setReadOnly(running);
  database_->setReadOnly(running);
  output_->setReadOnly(running);
  if (running) {
    clock_.start();
    progress_->setRange(0, 0);  // busy until the plugin reports a share
    status_->setStyleSheet({});
    status_->setText(tr("Starting..."));
    log_->clear();
  } else {
    progress_->setRange(0, kPermille);
  }
}

void PluginJobForm::showProgress(double fraction, const QString& message, const QString& detail) {
  const double share = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  progress_->setRange(0, kPermille);
  progress_->setValue(int(share * kPermille + 0.5));
  QString text = message;
  if (!detail.isEmpty()) text += (text.isEmpty() ? "" : " - ") + detail;
  const QString eta = time_left_text(double(clock_.elapsed()) / 1000, share);
  if (!eta.isEmpty()) text += (text.isEmpty() ? "" : " - ") + eta;
  status_->setText(text);
}

void PluginJobForm::appendLog(const QString& level, const QString& text) { log_->appendPlainText(level + ": " + text); }

void PluginJobForm::showEnd(JobEnd end, const QString& text) {
  setRunning(false);
  if (end == JobEnd::Complete) progress_->setValue(kPermille);
  status_->setStyleSheet(end == JobEnd::Complete ? kCompleteStyle : end == JobEnd::Failed ? kFailedStyle : "");
  status_->setText(text);
}

void PluginJobForm::showProblem(const QString& text) {
  status_->setStyleSheet(kFailedStyle);
  status_->setText(text);
}

QString PluginJobForm::statusText() const { return status_->text(); }

QString PluginJobForm::logText() const { return log_->toPlainText(); }

int PluginJobForm::progressPermille() const { return progress_->maximum() == 0 ? -1 : progress_->value(); }

}  // namespace attnscope::views
