#include "app/cli/interrupt_handler.h"

namespace attnscope::cli {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_batch_interrupt(int) { interrupted.store(true); }

}  // namespace

InterruptHandler::InterruptHandler() {
  interrupted.store(false);
  struct sigaction action {};
  action.sa_handler = on_batch_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &previous_);
}

InterruptHandler::~InterruptHandler() { sigaction(SIGINT, &previous_, nullptr); }

const std::atomic<bool>& InterruptHandler::flag() { return interrupted; }

}  // namespace attnscope::cli
