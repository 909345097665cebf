#include <catch2/catch.hpp>

#include "views/frame_pacer.h"

using attnscope::views::FramePacer;

namespace {
constexpr int64_t kMs = 1'000'000;
}

TEST_CASE("frames that start late by event-loop latency stay on a 60 Hz grid", "[frame_pacer]") {
  FramePacer pacer;
  int64_t now = 5 * kMs;
  pacer.frameStarted(now);
  const int64_t first_due = pacer.nextDueNs();
  CHECK(first_due == now + FramePacer::kSixtyHertzNs);
  // Each frame starts when its timer fires plus 3 ms of latency, and draws for 2 ms.
  for (int frame = 1; frame <= 120; ++frame) {
    const int64_t drawn = now + 2 * kMs;
    now = drawn + int64_t(pacer.delayMs(drawn)) * kMs + 3 * kMs;
    pacer.frameStarted(now);
  }
  // 120 periods after the first due time, not 120 x (period + latency): 60 frames a second.
  CHECK(pacer.nextDueNs() == first_due + 120 * FramePacer::kSixtyHertzNs);
}

TEST_CASE("a frame drawn for input between two animation frames leaves the grid alone", "[frame_pacer]") {
  FramePacer pacer;
  pacer.frameStarted(0);
  const int64_t due = pacer.nextDueNs();
  pacer.frameStarted(4 * kMs);
  CHECK(pacer.nextDueNs() == due);
  CHECK(pacer.delayMs(6 * kMs) == 10);  // 16.67 - 6 ms, rounded down
}

TEST_CASE("after a stall of a period or more the grid starts again from the late frame", "[frame_pacer]") {
  FramePacer pacer;
  pacer.frameStarted(0);
  pacer.frameStarted(100 * kMs);  // a blocked event loop: no burst of catch-up frames
  CHECK(pacer.nextDueNs() == 100 * kMs + FramePacer::kSixtyHertzNs);
  CHECK(pacer.delayMs(200 * kMs) == 0);
}
