#pragma once
// A plugin job from the app's Plugins menu: its parameters (plugin_parameter_fields.h),
// the models it runs on (the open model by default), the store its runs go to and the
// folder its files go to; Run and Cancel; while it runs, a progress bar with the plugin's
// message, the service under way and the time left, and the job's log lines; at the end
// what it made (runs, files) or the plugin's error. The window runs the job (a
// plugins::JobThread) and feeds the results back; the form only shows and asks.
#include <QElapsedTimer>
#include <QWidget>

#include "views/plugin_parameter_fields.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace attnscope::views {

// The job as the form shows it.
struct JobFormSpec {
  QString name;     // "sink-profile.lengths"
  QString summary;  // the job's one line
  QString plugin;   // "sink-profile 1.0.0 (/path/sink-profile.so)"
  std::vector<JobField> fields;
};

// What the user chose besides the parameters.
struct JobFormInputs {
  QStringList models;     // checkpoint folders; empty: the bundled sample model
  QString database;       // the store
  QString output_folder;  // where the job's files go
};

enum class JobEnd { Complete, Stopped, Failed };

class PluginJobForm : public QWidget {
  Q_OBJECT

 public:
  explicit PluginJobForm(QWidget* parent = nullptr);

  void setJob(const JobFormSpec& spec, JobFieldCheck check);
  const JobFormSpec& job() const { return spec_; }
  PluginParameterFields* parameters() const { return fields_; }

  void setInputs(const JobFormInputs& inputs);
  JobFormInputs inputs() const;
  void addModel(const QString& directory);  // a line of the models

  // Run is offered while `enabled` and not running (another job may hold the host).
  void setRunEnabled(bool enabled);
  void setRunning(bool running);
  bool running() const { return running_; }
  // `fraction` of the whole job (0 to 1); `message` the plugin's; `detail` the service's step.
  void showProgress(double fraction, const QString& message, const QString& detail);
  void appendLog(const QString& level, const QString& text);
  // The job's end: `text` says what it made or why it failed.
  void showEnd(JobEnd end, const QString& text);
  // A refusal before the job starts (a parameter, a missing input).
  void showProblem(const QString& text);

  QString statusText() const;
  QString logText() const;
  int progressPermille() const;

 signals:
  void runRequested();
  void cancelRequested();
  void addModelRequested();  // the window asks for a folder (addModel)

 private:
  JobFormSpec spec_;
  QLabel* title_ = nullptr;
  QLabel* summary_ = nullptr;
  PluginParameterFields* fields_ = nullptr;
  QPlainTextEdit* models_ = nullptr;
  QLineEdit* database_ = nullptr;
  QLineEdit* output_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QPushButton* defaults_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  QElapsedTimer clock_;
  bool enabled_ = true;
  bool running_ = false;
};

}  // namespace attnscope::views
