#pragma once
// Progress on stderr: a rewritten line on a terminal, an occasional line otherwise,
// nothing at all for runs that finish within a second.
#include <chrono>
#include <string>

#include "analysis/runtime/generation.h"

namespace attnscope::cli {

class ProgressReporter {
 public:
  ProgressReporter();
  ~ProgressReporter();
  void update(const runtime::Progress& progress);
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
  Clock::time_point last_print_;
  bool terminal_ = false;
  bool printed_ = false;
};

}  // namespace attnscope::cli
