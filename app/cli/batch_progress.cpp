#include "app/cli/batch_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "app/cli/job_progress.h"

namespace attnscope::cli {
namespace {

constexpr int kBarWidth = 20;
constexpr size_t kTextWidth = 70;  // a terminal line of about 120 characters

std::string shortened(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width - 3) + "...";
}

}  // namespace

double seconds_left(double elapsed, double share) {
  // Until some work is done the rate is unknown.
  return share > 0.005 ? elapsed * (1 - share) / share : -1;
}

BatchProgress::BatchProgress() : start_(Clock::now()), last_print_(start_), terminal_(isatty(STDERR_FILENO) != 0) {}

BatchProgress::~BatchProgress() { finish(); }

void BatchProgress::update(const plugins::JobProgress& p) {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  const bool new_message = p.message != last_message_;
  if (terminal_ ? since_print < 0.1 && !new_message : !new_message && since_print < 10.0) return;
  last_print_ = now;
  last_message_ = p.message;
  const double share = std::clamp(p.fraction, 0.0, 1.0);
  std::string bar(size_t(kBarWidth), '.');
  for (int i = 0; i < int(share * kBarWidth + 0.5) && i < kBarWidth; ++i) bar[size_t(i)] = '#';
  const std::string text = p.detail.empty() ? p.message : p.message + " (" + p.detail + ")";
  std::fprintf(stderr, "%s[%s] %3.0f%%, %s left: %s%s", terminal_ ? "\r" : "", bar.c_str(), 100 * share,
               eta_text(seconds_left(elapsed, share)).c_str(), shortened(text, kTextWidth).c_str(),
               terminal_ ? "\033[K" : "\n");
  std::fflush(stderr);
  printed_ = true;
}

void BatchProgress::log(plugins::LogLevel level, const std::string& message) {
  if (printed_ && terminal_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "attnscope-cli: %s: %s\n", std::string(plugins::log_level_name(level)).c_str(), message.c_str());
  std::fflush(stderr);
}

void BatchProgress::finish() {
  if (printed_ && terminal_) std::fputs("\r\033[K", stderr);
  printed_ = false;
}

}  // namespace attnscope::cli
