#include "app/cli/status_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace attnscope::cli {

StatusLine::StatusLine(double pipe_interval)
    : start_(Clock::now()), last_print_(start_), pipe_interval_(pipe_interval), terminal_(isatty(STDERR_FILENO) != 0) {}

StatusLine::~StatusLine() { clear(); }

double StatusLine::elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

bool StatusLine::due(bool changed) {
  const auto now = Clock::now();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (!changed && since_print < (terminal_ ? 0.1 : pipe_interval_)) return false;
  last_print_ = now;
  return true;
}

void StatusLine::print(const std::string& text) {
  std::fprintf(stderr, "%s%s%s", terminal_ ? "\r" : "", text.c_str(), terminal_ ? "\033[K" : "\n");
  std::fflush(stderr);
  printed_ = true;
}

void StatusLine::above(const std::string& line) {
  if (printed_ && terminal_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void StatusLine::clear() {
  if (printed_ && terminal_) std::fputs("\r\033[K", stderr);
  printed_ = false;
}

std::string progress_bar(double share) {
  constexpr int kWidth = 20;
  std::string bar(std::size_t(kWidth), '.');
  for (int i = 0; i < int(share * kWidth + 0.5) && i < kWidth; ++i) bar[std::size_t(i)] = '#';
  return "[" + bar + "]";
}

std::string shortened(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width - 3) + "...";
}

double seconds_left(double elapsed, double share) {
  // Until some work is done the rate is unknown.
  return share > 0.005 ? elapsed * (1 - share) / share : -1;
}

std::string eta_text(double seconds) {
  if (!(seconds >= 0) || std::isinf(seconds)) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%ld s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh %02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

}  // namespace attnscope::cli
