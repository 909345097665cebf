#pragma once
// When the next frame of an animation should start: on a fixed grid of one period
// (1/60 s), each frame due one period after the previous one was due, not after it ended.
// Drawing, compositing and the event loop's latency then do not stretch the period (a
// timer restarted after each frame ran at 53 frames a second for a 60 Hz request).
#include <cstdint>

namespace attnscope::views {

class FramePacer {
 public:
  static constexpr int64_t kSixtyHertzNs = 16'666'667;
  explicit FramePacer(int64_t period_ns = kSixtyHertzNs) : period_(period_ns) {}

  // A frame starts at `now_ns` (any monotonic clock). On time or a little late, the grid
  // moves on one period; a period or more late (a stall, the first frame), the grid starts
  // again from now; well before its time (a frame drawn for input), the grid stays.
  void frameStarted(int64_t now_ns) {
    if (due_ < 0 || now_ns - due_ >= period_) {
      due_ = now_ns + period_;
    } else if (now_ns >= due_ - period_ / 8) {
      due_ += period_;
    }
  }
  // Whole milliseconds to wait at `now_ns` before starting the next frame (rounded down:
  // a timer fires at the earliest after its interval).
  int delayMs(int64_t now_ns) const {
    const int64_t wait = due_ - now_ns;
    return wait <= 0 ? 0 : int(wait / 1'000'000);
  }
  int64_t nextDueNs() const { return due_; }

 private:
  int64_t period_;
  int64_t due_ = -1;
};

}  // namespace attnscope::views
