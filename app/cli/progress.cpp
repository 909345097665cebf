#include "app/cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace attnscope::cli {

ProgressReporter::ProgressReporter()
    : start_(Clock::now()), last_print_(start_), terminal_(isatty(STDERR_FILENO) != 0) {}

ProgressReporter::~ProgressReporter() { finish(); }

void ProgressReporter::update(const runtime::Progress& p) {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (elapsed < 1.0 || since_print < (terminal_ ? 0.1 : 5.0)) return;
  last_print_ = now;
  const double rate = double(p.done) / elapsed;
  const double eta = rate > 0 ? double(p.total - p.done) / rate : 0;
  std::fprintf(stderr, "%s%s %lld/%lld tokens (%.0f%%), %.0f tokens/s, %.0f s left%s",
               terminal_ ? "\r" : "", p.decoding ? "decode " : "prefill", (long long)p.done,
               (long long)p.total, 100.0 * double(p.done) / double(p.total > 0 ? p.total : 1), rate, eta,
               terminal_ ? "\033[K" : "\n");
  std::fflush(stderr);
  printed_ = true;
}

void ProgressReporter::finish() {
  if (printed_ && terminal_) std::fputs("\r\033[K", stderr);
  printed_ = false;
}

}  // namespace attnscope::cli
