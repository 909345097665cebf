#pragma once
// The Plugins menu's side of the plugin host: a job's descriptor as the form shows it,
// each field checked by the host's own parameter parser (so the form refuses what
// `attnscope-cli batch --param` refuses), and the job run on a plugins::JobThread whose
// progress, log lines and end come back as signals on the UI thread. Progress is passed
// on at most once per event-loop turn (the latest wins), so a chatty plugin cannot flood
// the window. One job at a time; destroying the runner cancels the job and waits for it.
#include <QObject>
#include <QString>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "plugins/host/job_runner.h"
#include "plugins/host/job_thread.h"
#include "plugins/host/plugin_catalog.h"
#include "views/plugin_job_form.h"

namespace attnscope::gui {

// The form of `job`: its parameters with their types, defaults (a bool's as "true" or
// "false") and help.
views::JobFormSpec job_form_spec(const plugins::PluginCatalog::JobRef& job);
// The host's check of one field: its parse error's problem, or empty when it parses.
views::JobFieldCheck job_field_check(const plugins::PluginCatalog::JobRef& job);

// Where a job's files go unless the user says otherwise: a new folder per run beside the
// store, <store folder>/plugin-output/<plugin.job>-<yyyyMMdd-hhmmss>.
std::filesystem::path default_output_folder(const std::filesystem::path& database, const std::string& job,
                                            const QString& timestamp);

// The same job as a shell command: attnscope-cli batch JOB --param ... --model ... --db ...
// --out ... (--device when not the CPU), each word quoted for a POSIX shell where needed.
std::string batch_command_line(const std::string& job, const std::vector<std::string>& assignments,
                               const plugins::JobEnvironment& environment);

class PluginJobRunner : public QObject {
  Q_OBJECT

 public:
  explicit PluginJobRunner(QObject* parent = nullptr);
  ~PluginJobRunner() override;  // cancels a job still running and waits for it

  // Parses the assignments as the CLI does (attnscope::Error naming the job and the
  // parameter when one is wrong or missing, nothing started) and starts the job.
  void start(const plugins::PluginCatalog::JobRef& job, const std::vector<std::string>& assignments,
             plugins::JobEnvironment environment);
  void cancel();
  bool running() const { return thread_ != nullptr; }
  const std::string& jobName() const { return job_name_; }

 signals:
  void progress(double fraction, const QString& message, const QString& detail);
  void logLine(const QString& level, const QString& text);
  void finished(std::shared_ptr<const attnscope::plugins::JobOutcome> outcome);

 private:
  void onFinished();

  std::unique_ptr<plugins::JobThread> thread_;
  std::string job_name_;
  std::mutex mutex_;
  std::optional<plugins::JobProgress> latest_;  // the worker's newest report, not yet shown
};

}  // namespace attnscope::gui
