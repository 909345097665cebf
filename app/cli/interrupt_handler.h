#pragma once
// Ctrl-C for a long command: the first SIGINT sets a flag the job checks (it stops
// cleanly, its completed work kept); the handler resets itself, so a second Ctrl-C ends
// the process at once (the store keeps what completed).
#include <atomic>

#include <signal.h>

namespace attnscope::cli {

class InterruptHandler {
 public:
  // Installs the handler and clears the flag.
  InterruptHandler();
  ~InterruptHandler();  // restores the previous handler
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  // The flag SIGINT sets (one per process).
  static const std::atomic<bool>& flag();

 private:
  struct sigaction previous_ {};
};

}  // namespace attnscope::cli
