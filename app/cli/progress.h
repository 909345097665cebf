#pragma once
// Progress of a run (attnscope-cli run) on stderr: tokens done, rate and time left, on a
// StatusLine (every 5 s when stderr is not a terminal), nothing at all for runs that
// finish within a second.
#include "analysis/runtime/generation.h"
#include "app/cli/status_line.h"

namespace attnscope::cli {

class ProgressReporter {
 public:
  void update(const runtime::Progress& progress);
  void finish() { line_.clear(); }

 private:
  StatusLine line_{5.0};
};

}  // namespace attnscope::cli
