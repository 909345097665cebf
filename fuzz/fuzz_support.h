#pragma once
// What every fuzz target shares: the input as text or bytes, and checks of properties a
// parse that succeeded must have (a failed check aborts, which libFuzzer reports).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace attnscope::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::vector<std::byte> bytes(const uint8_t* data, size_t size) {
  const auto* begin = reinterpret_cast<const std::byte*>(data);
  return {begin, begin + size};
}

// A property of a successful parse; aborts with `what` when it does not hold.
inline void expect(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace attnscope::fuzz

// Each target defines this; libFuzzer or replay_main.cpp calls it. Only attnscope::Error
// may leave a parser: any other exception escapes the target and counts as a finding.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
