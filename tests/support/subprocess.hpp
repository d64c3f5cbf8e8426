// Test support: run the real executables as child processes (posix_spawn), with controlled
// environment, stdin and captured stdout/stderr.
//
// Children start with default signal dispositions and an empty signal mask whatever the test
// process has set. The test process ignores SIGPIPE from the first spawn on (a child that exits
// before reading all of its stdin must not kill the test).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gt::test {

// Environment changes applied on top of the test's own environment. A nullopt value unsets the
// variable. GRAPH_TOKEN, GRAPH_BASE_URL, SSL_CERT_FILE, SSL_CERT_DIR, HOME, the token cache
// location and every AZURE_* / GRAPH_REFRESH_TOKEN sign-in variable are always unset first so
// that a developer's shell cannot change a test's outcome; set them here to use them.
using EnvChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv (argv[0] is a path) to completion, writing `stdin_data` to its stdin and closing it,
// while reading stdout and stderr (one poll() loop, so no pipe can fill up and deadlock).
// Kills it with SIGKILL after `timeout` (timed_out = true). When argv[0] cannot be spawned,
// exit_code is 127 and `err` says why.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          const EnvChanges& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A long-running child (the emulator): stdout is a pipe read line by line; stderr goes to an
// unlinked temporary file (so a chatty child never blocks on a full pipe); stdin is /dev/null.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const EnvChanges& env = {});
  ~BackgroundProcess();  // SIGKILL + reap if still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  int pid() const { return pid_; }
  // Next line of stdout without the newline (a last line without one counts), or nullopt on
  // EOF/timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void send_signal(int sig);  // no-op once the child has been reaped
  // Waits for exit; returns the exit code (128 + signal when signalled) or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything written to stderr so far.
  std::string stderr_text();

 private:
  int pid_ = -1;
  int pid_fd_ = -1;  // pidfd_open(2) handle to poll for exit; -1 where unsupported
  int out_fd_ = -1;
  int err_fd_ = -1;  // the temporary file; err_buf_ holds what was read of it so far
  std::string out_buf_;
  std::string err_buf_;
  std::optional<int> exit_code_;
};

}  // namespace gt::test
