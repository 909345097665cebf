#pragma once
// The one error type of the engine: what failed and where (a file, a tensor, a line).
#include <stdexcept>
#include <string>
#include <string_view>

namespace attnscope {

class Error : public std::runtime_error {
 public:
  Error(std::string where, std::string problem)
      : std::runtime_error(where.empty() ? problem : where + ": " + problem),
        where_(std::move(where)),
        problem_(std::move(problem)) {}

  // The file, tensor or place the problem is about (may be empty).
  const std::string& where() const noexcept { return where_; }
  // What is wrong, in words a user understands.
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string where_;
  std::string problem_;
};

// `e` as an error about `file`: unchanged when its message already names the file (a
// reader's own errors), else with the file in front (checks of what the file holds, which
// name a head or a layer).
inline Error naming_file(const Error& e, const std::string& file) {
  if (std::string_view(e.what()).find(file) != std::string_view::npos) return e;
  return Error(file, e.what());
}

// An allocation that did not fit (device memory, or host memory for a run's buffers).
// Callers that know the run's shape catch it to add the estimate and what would fit.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

}  // namespace attnscope
