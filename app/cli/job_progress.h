#pragma once
// Progress of a job of units (attnscope-cli profile) on stderr: a bar with the units
// done, the share of the work and the time left (the elapsed time scaled by the work
// still to do); a new line when a unit starts and every 10 s within a long one when
// stderr is not a terminal (StatusLine).
#include <string>

#include "analysis/profile/profile_job.h"
#include "app/cli/status_line.h"

namespace attnscope::cli {

class JobProgress {
 public:
  void update(const profile::ProfileProgress& progress);
  void finish() { line_.clear(); }

 private:
  StatusLine line_{10.0};
  std::string last_unit_;
};

}  // namespace attnscope::cli
