#include "plugins/host/job_thread.h"

#include <chrono>

namespace attnscope::plugins {

JobThread::JobThread(PluginCatalog::JobRef job, JobParameters parameters, JobEnvironment environment,
                     JobCallbacks callbacks, std::function<void()> on_finished)
    : job_(std::move(job)),
      parameters_(std::move(parameters)),
      environment_(std::move(environment)),
      callbacks_(std::move(callbacks)) {
  callbacks_.cancel = &cancel_;
  std::packaged_task<JobOutcome()> task([this] {
    try {
      return run_job(job_, parameters_, environment_, callbacks_);
    } catch (const std::exception& e) {
      JobOutcome failed;
      failed.status = store::RunStatus::Failed;
      failed.error = e.what();
      return failed;
    }
  });
  outcome_ = task.get_future();
  thread_ = std::thread([task = std::move(task), on_finished = std::move(on_finished)]() mutable {
    task();
    if (on_finished) on_finished();
  });
}

JobThread::~JobThread() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

bool JobThread::finished() const {
  return outcome_.valid() && outcome_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

JobOutcome JobThread::wait() {
  JobOutcome outcome = outcome_.get();
  if (thread_.joinable()) thread_.join();
  return outcome;
}

}  // namespace attnscope::plugins
