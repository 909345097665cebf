#pragma once
// Progress of a plugin job on stderr: a bar with the job's share done (as the plugin
// reports it), the time left (the elapsed time scaled by the share still to do) and what
// is under way, rewritten in place on a terminal; otherwise a line when the plugin's
// message changes and every 10 s. Log lines from the job go above the bar.
#include <chrono>
#include <string>

#include "plugins/host/job_runner.h"

namespace attnscope::cli {

class BatchProgress {
 public:
  BatchProgress();
  ~BatchProgress();
  void update(const plugins::JobProgress& progress);
  void log(plugins::LogLevel level, const std::string& message);
  void finish();  // clears the bar

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
  Clock::time_point last_print_;
  bool terminal_ = false;
  bool printed_ = false;
  std::string last_message_;
};

// The time left after `elapsed` seconds with `share` (0 to 1) done; negative when it
// cannot be told yet (too little done).
double seconds_left(double elapsed, double share);

}  // namespace attnscope::cli
