#pragma once
// Running one plugin job: the host side of attnscope/plugin.h. The job's parameters are
// parsed (job_parameters.h), its services table is handed to the plugin's run function,
// and when it returns every run it began in the store is ended: complete, interrupted
// (cancelled) or failed (with the plugin's message). Nothing the plugin does can throw
// into the host: the services catch every failure and report it as a status.
//
// Batches and resuming: each job run is a batch with a key; the runs it begins (one per
// model, kind "plugin", task "PLUGIN.JOB") record the plugin, its version, the parsed
// parameters, the models and the key. Resuming names one of those runs: the job must be
// the same, with the same parameters and models (otherwise refused, naming what
// differs), and the batch's runs are reopened as the plugin begins them again, so that
// it can skip the units they hold (unit_done).
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analysis/store/ids.h"
#include "analysis/store/run_records.h"
#include "app/host/compute_device.h"
#include "plugins/host/job_parameters.h"
#include "plugins/host/plugin_catalog.h"

namespace attnscope::plugins {

struct JobEnvironment {
  std::vector<std::filesystem::path> models;  // the user's checkpoints; empty: the bundled sample model
  std::filesystem::path sample_data;          // the bundled sample_data folder (prompts, sample model)
  std::filesystem::path database;             // the store; empty: the job has none (begin_run fails)
  std::filesystem::path output_folder;        // where write_file puts files; created when missing
  host::DeviceRequest device;                 // opened when the job loads its first model
  std::optional<store::RunId> resume;         // a run of the batch to resume
};

struct JobProgress {
  double fraction = 0;   // of the whole job, as the plugin last reported it
  std::string message;   // the plugin's
  std::string detail;    // the service under way, e.g. "profile: unit 2 of 3", or empty
};

enum class LogLevel { Debug, Info, Warning, Error };
std::string_view log_level_name(LogLevel level);  // "debug", "info", "warning", "error"

// Called on the thread that runs the job.
struct JobCallbacks {
  std::function<void(const JobProgress&)> on_progress;
  std::function<void(LogLevel, const std::string&)> on_log;
  const std::atomic<bool>* cancel = nullptr;  // the job stops when it becomes true
};

struct JobOutcome {
  store::RunStatus status = store::RunStatus::Complete;  // Complete, Interrupted or Failed
  std::string error;                                     // why it failed or stopped
  std::vector<store::RunId> runs;                        // begun or reopened, in order
  std::vector<std::filesystem::path> files;              // written to the output folder
  std::string batch;                                     // the batch key
};

// Runs `job` to its end. attnscope::Error before the plugin is called, for a resume that
// does not fit (no such run, another job, other parameters or models, a run still
// running or complete) or a store or output folder that cannot be opened; after that the
// outcome carries any failure.
JobOutcome run_job(const PluginCatalog::JobRef& job, const JobParameters& parameters, const JobEnvironment& environment,
                   const JobCallbacks& callbacks = {});

}  // namespace attnscope::plugins
