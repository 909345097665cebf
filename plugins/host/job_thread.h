#pragma once
// A plugin job on a worker thread, for the desktop app's Plugins menu: progress and log
// callbacks arrive on the worker (the app forwards them to its UI thread), cancel() asks
// the job to stop, wait() gives the outcome. A failure before the plugin runs (a resume
// that does not fit, a store that cannot be opened) becomes a failed outcome here.
// `on_finished`, when given, is called on the worker once the outcome is ready, so that a
// UI learns of the end without polling; wait() then returns without blocking long.
#include <atomic>
#include <functional>
#include <future>
#include <thread>

#include "plugins/host/job_runner.h"

namespace attnscope::plugins {

class JobThread {
 public:
  // Starts at once. `callbacks.cancel` is ignored: cancel() is the way to stop.
  JobThread(PluginCatalog::JobRef job, JobParameters parameters, JobEnvironment environment, JobCallbacks callbacks,
            std::function<void()> on_finished = {});
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;
  // Cancels a job still running and waits for it.
  ~JobThread();

  void cancel() { cancel_.store(true); }
  bool finished() const;
  // Blocks until the job has ended; once only.
  JobOutcome wait();

 private:
  std::atomic<bool> cancel_{false};
  PluginCatalog::JobRef job_;
  JobParameters parameters_;
  JobEnvironment environment_;
  JobCallbacks callbacks_;
  std::future<JobOutcome> outcome_;
  std::thread thread_;
};

}  // namespace attnscope::plugins
