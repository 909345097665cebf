#pragma once
// Reads of host memory that may be a file mapping. When the file under a mapping shrinks
// (truncated, or rewritten by another program while a run reads it), touching a page
// past its new end raises SIGBUS, which would kill the process with the user's session.
// A guarded read turns that signal into a failed read on the thread that hit it.
//
// One process-wide SIGBUS handler is installed on first use; a signal outside a guarded
// read goes on to the handler that was there before (or kills the process as it would have).
#include <cstddef>
#include <type_traits>

#include "kernels/error.h"

namespace attnscope::kernels {

// A guarded read of mapped memory faulted: the file under the mapping changed. The
// analysis layer, which knows the files, names the one that changed.
class MappedReadFault : public Error {
 public:
  using Error::Error;
};

// Runs read(context) on this thread under the guard; false when it faulted. On a fault
// `read` is abandoned mid-way (siglongjmp), so it must only move plain memory: no locals
// with destructors, no locks, no allocation, no exceptions.
bool run_guarded(void (*read)(void*), void* context) noexcept;

// run_guarded for a lambda (captures by reference are fine).
template <class Read>
bool guarded(Read&& read) noexcept {
  using R = std::remove_reference_t<Read>;
  return run_guarded([](void* r) { (*static_cast<R*>(r))(); }, &read);
}

// memcpy under the guard; false when the source faulted (dst then holds a part).
bool guarded_copy(void* dst, const void* src, std::size_t bytes) noexcept;

// The problem text of a MappedReadFault: what happened and what to do.
inline constexpr const char* kMappedReadFaultProblem =
    "reading the memory-mapped file failed (SIGBUS): it was truncated or changed on disk while it was being read";

}  // namespace attnscope::kernels
