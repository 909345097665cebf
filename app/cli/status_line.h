#pragma once
// One status line on stderr for the CLI's long commands (run, profile, batch): rewritten
// in place on a terminal, at most every 0.1 s unless what it says changed; into a pipe or
// a file, a line when what it says changes and otherwise every `pipe_interval` seconds.
// Log lines go above it. The commands' progress classes say what the line holds.
#include <chrono>
#include <string>

namespace attnscope::cli {

class StatusLine {
 public:
  explicit StatusLine(double pipe_interval);
  ~StatusLine();  // clears the line
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  double elapsed() const;  // seconds since the line was made
  // Whether to print now: `changed` (a new unit or message) prints at once. A true answer
  // starts the next interval.
  bool due(bool changed);
  void print(const std::string& text);
  void above(const std::string& line);  // a whole line above the status line
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_, last_print_;
  double pipe_interval_;
  bool terminal_ = false;
  bool printed_ = false;
};

// "[#####...............]": `share` (0 to 1) of 20 characters.
std::string progress_bar(double share);
// `text` cut to `width` characters, "..." marking the cut.
std::string shortened(const std::string& text, std::size_t width);
// The time left after `elapsed` seconds with `share` (0 to 1) done; negative when it
// cannot be told yet (too little done).
double seconds_left(double elapsed, double share);
// "12 s", "3m 05s", "2h 10m"; "?" for a negative or unknown time.
std::string eta_text(double seconds);

}  // namespace attnscope::cli
