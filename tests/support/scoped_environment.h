#pragma once
// An environment variable set (or unset, for nullptr) for the object's lifetime: the
// kernels read theirs (ATTNSCOPE_DECODE_KERNEL, ATTNSCOPE_CAPTURE_KERNEL) per call, so the
// GPU tests and the CUDA benches switch them around one call.
#include <cstdlib>
#include <string>

namespace attnscope::testing {

class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    value != nullptr ? setenv(name, value, 1) : unsetenv(name);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
  ~ScopedEnvironment() { had_old_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  bool had_old_ = false;
  std::string old_;
};

}  // namespace attnscope::testing
