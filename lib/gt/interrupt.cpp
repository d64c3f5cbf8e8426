#include "gt/interrupt.hpp"

#include <signal.h>

#include <atomic>
#include <csignal>

namespace gt {

namespace {
std::atomic<int> g_count{0};
std::atomic<int> g_exit_at{2};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

extern "C" void on_sigint(int) {
  if (g_count.fetch_add(1) + 1 >= g_exit_at.load()) {
    // The user wants out now. Default action terminates with SIGINT status.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and notice the flag
  sigaction(SIGINT, &sa, nullptr);
}

bool interrupted() {
  return g_count.load() > 0;
}
int interrupt_count() {
  return g_count.load();
}
void set_interrupts_before_exit(int n) {
  g_exit_at.store(n < 2 ? 2 : n);
}
void request_interrupt() {
  g_count.fetch_add(1);
}
void clear_interrupt() {
  g_count.store(0);
}

}  // namespace gt
