#pragma once
// Progress of a plugin job on stderr: a bar with the job's share done (as the plugin
// reports it), the time left and what is under way; a new line when the plugin's message
// changes and every 10 s when stderr is not a terminal (StatusLine). Log lines from the
// job go above the bar.
#include <string>

#include "app/cli/status_line.h"
#include "plugins/host/job_runner.h"

namespace attnscope::cli {

class BatchProgress {
 public:
  void update(const plugins::JobProgress& progress);
  void log(plugins::LogLevel level, const std::string& message);
  void finish() { line_.clear(); }

 private:
  StatusLine line_{10.0};
  std::string last_message_;
};

}  // namespace attnscope::cli
