#include "gt/interrupt.hpp"

#include <signal.h>

#include <atomic>
#include <csignal>

namespace gt {

namespace {
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    // Second Ctrl-C: the user wants out now. Default action terminates with SIGINT status.
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
  return g_interrupted.load();
}
void request_interrupt() {
  g_interrupted.store(true);
}
void clear_interrupt() {
  g_interrupted.store(false);
}

}  // namespace gt
