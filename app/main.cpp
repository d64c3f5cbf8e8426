// graph-threads: a trampoline into gt::app::run with the real process around it.
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include "app/cli.hpp"
#include "gt/interrupt.hpp"

int main(int argc, char** argv) {
  // The process holds access and refresh tokens, passwords and client secrets in memory: it must
  // never leave them in a core file. No core dumps, and not dumpable (which also keeps other
  // processes of the same user from ptrace-ing it).
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  gt::install_interrupt_handler();
  std::ios::sync_with_stdio(false);
  winsize ws{};
  const bool out_tty = ::isatty(STDOUT_FILENO) == 1;
  gt::app::Io io{std::cin,
                 std::cout,
                 std::cerr,
                 ::isatty(STDIN_FILENO) == 1,
                 out_tty,
                 ::isatty(STDERR_FILENO) == 1,
                 out_tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0u};
  gt::app::ProcessEnv env;
  gt::app::Deps deps = gt::app::make_real_deps();
  const int code = gt::app::run({argv + 1, argv + argc}, io, env, deps);
  std::cout.flush();
  return code;
}
