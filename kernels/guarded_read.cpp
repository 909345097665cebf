#include "kernels/guarded_read.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include <cstring>

namespace attnscope::kernels {
namespace {

// The guard of this thread's read under way; initial-exec so the handler reaches it
// without a call that could allocate.
__attribute__((tls_model("initial-exec"))) thread_local sigjmp_buf* t_guard = nullptr;

struct sigaction g_previous {};

void on_sigbus(int signal, siginfo_t* info, void* context) {
  if (sigjmp_buf* guard = t_guard) {
    t_guard = nullptr;
    siglongjmp(*guard, 1);
  }
  // Not a guarded read: behave as if we were not here.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(signal, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal);
    return;
  }
  // Default action: returning re-runs the faulting access, which now kills the process.
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(SIGBUS, &fallback, nullptr);
}

void install_handler() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, &g_previous) == 0;
  }();
  (void)installed;
}

}  // namespace

bool run_guarded(void (*read)(void*), void* context) noexcept {
  install_handler();
  sigjmp_buf guard;
  sigjmp_buf* const outer = t_guard;  // a guarded read may run inside another
  // No signal mask saved (that would be a system call per read); the fault path unblocks
  // SIGBUS, which the kernel blocked while the handler ran.
  if (sigsetjmp(guard, 0) != 0) {
    sigset_t bus;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &bus, nullptr);
    t_guard = outer;
    return false;
  }
  t_guard = &guard;
  read(context);
  t_guard = outer;
  return true;
}

bool guarded_copy(void* dst, const void* src, std::size_t bytes) noexcept {
  if (bytes == 0) return true;  // dst or src may be null then, which memcpy does not allow
  return guarded([&] { std::memcpy(dst, src, bytes); });
}

}  // namespace attnscope::kernels
