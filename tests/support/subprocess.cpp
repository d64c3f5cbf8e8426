#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

extern char** environ;

namespace gt::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Variables that would let a developer's shell (or their `auth login` cache) change a test's
// outcome. HOME goes too, so that no test reads or writes ~/.config/graph-threads.
// The proxy variables go too: a proxy set in CI must not carry the tests' loopback traffic.
constexpr std::array<std::string_view, 27> kScrubbed = {"GRAPH_TOKEN",
                                                        "GRAPH_BASE_URL",
                                                        "SSL_CERT_FILE",
                                                        "SSL_CERT_DIR",
                                                        "GRAPH_REFRESH_TOKEN",
                                                        "GRAPH_THREADS_CONFIG_DIR",
                                                        "XDG_CONFIG_HOME",
                                                        "HOME",
                                                        "AZURE_TENANT_ID",
                                                        "AZURE_CLIENT_ID",
                                                        "AZURE_USERNAME",
                                                        "AZURE_PASSWORD",
                                                        "AZURE_CLIENT_SECRET",
                                                        "AZURE_CLIENT_CERTIFICATE_PATH",
                                                        "AZURE_FEDERATED_TOKEN_FILE",
                                                        "AZURE_AUTHORITY_HOST",
                                                        "GRAPH_THREADS_ASSERTION_ALG",
                                                        "GRAPH_THREADS_DEBUG",
                                                        "NO_COLOR",
                                                        "http_proxy",
                                                        "HTTP_PROXY",
                                                        "https_proxy",
                                                        "HTTPS_PROXY",
                                                        "all_proxy",
                                                        "ALL_PROXY",
                                                        "no_proxy",
                                                        "NO_PROXY"};

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::string_view name_of(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

std::vector<std::string> child_environment(const EnvChanges& changes) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    if (std::find(kScrubbed.begin(), kScrubbed.end(), name_of(entry)) == kScrubbed.end()) {
      env.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : changes) {
    std::erase_if(env, [&](const std::string& entry) { return name_of(entry) == name; });
    if (value) env.push_back(name + "=" + *value);
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Spawns argv with the given descriptors as the child's 0, 1 and 2 (every other descriptor of
// ours is O_CLOEXEC). The child gets default dispositions and an empty mask: ignored and blocked
// signals are inherited across exec otherwise, and we ignore SIGPIPE.
// Returns the pid, or -errno.
int spawn(const std::vector<std::string>& argv, const EnvChanges& env_changes, int in_fd,
          int out_fd, int err_fd) {
  if (argv.empty()) return -EINVAL;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_environment(env_changes);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, &attr, c_args.data(), c_env.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -rc;
}

// A descriptor that becomes readable when `pid` exits, or -1 (kernels before 5.3).
int open_pidfd(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reaps `pid` if it has exited. Never blocks.
std::optional<int> try_reap(int pid) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return decode_wait_status(status);
  return std::nullopt;
}

int reap_blocking(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode_wait_status(status);
}

int ms_until(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1 << 30));
}

// Reads what is available; closes `fd` at EOF or on a hard error.
void drain(int& fd, std::string& into) {
  std::array<char, 16384> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      into.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_fd(fd);  // EOF or error
    return;
  }
}

struct Pipe {
  int read = -1;
  int write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                          const EnvChanges& env, std::chrono::milliseconds timeout) {
  ignore_sigpipe_once();
  ProcessResult result;
  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open()) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  const int pid = spawn(argv, env, in.read, out.write, err.write);
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  if (pid < 0) {
    result.exit_code = 127;
    result.err = "cannot spawn " + (argv.empty() ? std::string("(empty argv)") : argv[0]) + ": " +
                 std::strerror(-pid);
    return result;
  }
  int pid_fd = open_pidfd(pid);
  for (int fd : {in.write, out.read, err.read}) set_nonblocking(fd);
  if (stdin_data.empty()) close_fd(in.write);

  const auto deadline = SteadyClock::now() + timeout;
  std::size_t written = 0;
  std::optional<int> exit_code;
  while (!exit_code || out.read >= 0 || err.read >= 0) {
    if (!exit_code && pid_fd < 0) exit_code = try_reap(pid);
    const int wait_ms = ms_until(deadline);
    if (wait_ms == 0) {
      if (!exit_code) {
        ::kill(pid, SIGKILL);
        exit_code = reap_blocking(pid);
        result.timed_out = true;
      }
      break;  // an exited child whose pipes a grandchild still holds: stop reading
    }
    std::vector<pollfd> fds;
    if (in.write >= 0) fds.push_back({in.write, POLLOUT, 0});
    if (out.read >= 0) fds.push_back({out.read, POLLIN, 0});
    if (err.read >= 0) fds.push_back({err.read, POLLIN, 0});
    if (!exit_code && pid_fd >= 0) fds.push_back({pid_fd, POLLIN, 0});
    // Without a pidfd, exit is noticed by polling waitpid every 10 ms.
    const int poll_ms = pid_fd >= 0 || exit_code ? wait_ms : std::min(wait_ms, 10);
    if (::poll(fds.data(), fds.size(), poll_ms) < 0 && errno != EINTR) break;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.write) {
        const ssize_t n =
            ::write(in.write, stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        // EPIPE: the child stopped reading (SIGPIPE is ignored); what it read is all it gets.
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          close_fd(in.write);
        }
      } else if (p.fd == out.read) {
        drain(out.read, result.out);
      } else if (p.fd == err.read) {
        drain(err.read, result.err);
      } else if (p.fd == pid_fd) {
        exit_code = reap_blocking(pid);
        close_fd(in.write);  // nobody left to read it
      }
    }
  }
  close_fd(pid_fd);
  result.exit_code = exit_code.value_or(-1);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const EnvChanges& env) {
  ignore_sigpipe_once();
  Pipe out;
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  char err_path[] = "/tmp/gt-test-stderr-XXXXXX";
  // O_APPEND: the child's writes always land at the end; we read with pread at our own offset.
  err_fd_ = ::mkostemp(err_path, O_CLOEXEC | O_APPEND);
  if (err_fd_ >= 0) ::unlink(err_path);
  if (!out.open() || null_fd < 0 || err_fd_ < 0) {
    err_buf_ = std::string("cannot set up child I/O: ") + std::strerror(errno);
    close_fd(null_fd);
    return;
  }
  const int pid = spawn(argv, env, null_fd, out.write, err_fd_);
  close_fd(null_fd);
  close_fd(out.write);
  if (pid < 0) {
    err_buf_ = "cannot spawn " + (argv.empty() ? std::string("(empty argv)") : argv[0]) + ": " +
               std::strerror(-pid);
    return;
  }
  pid_ = pid;
  pid_fd_ = open_pidfd(pid);
  out_fd_ = out.read;
  out.read = -1;  // ours now
  set_nonblocking(out_fd_);
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    reap_blocking(pid_);
  }
  close_fd(pid_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

std::optional<std::string> BackgroundProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (const auto newline = out_buf_.find('\n'); newline != std::string::npos) {
      std::string line = out_buf_.substr(0, newline);
      out_buf_.erase(0, newline + 1);
      return line;
    }
    if (out_fd_ < 0) {
      if (out_buf_.empty()) return std::nullopt;
      return std::exchange(out_buf_, {});
    }
    const int wait_ms = ms_until(deadline);
    if (wait_ms == 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) > 0) drain(out_fd_, out_buf_);
  }
}

void BackgroundProcess::send_signal(int sig) {
  // After reaping, the pid may belong to someone else.
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::optional<int> BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_code_ || pid_ <= 0) return exit_code_;
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (pid_fd_ >= 0) {
      pollfd p{pid_fd_, POLLIN, 0};
      if (::poll(&p, 1, ms_until(deadline)) > 0) exit_code_ = reap_blocking(pid_);
    } else {
      exit_code_ = try_reap(pid_);
      if (!exit_code_) {
        pollfd none{-1, 0, 0};
        ::poll(&none, 1, std::min(ms_until(deadline), 10));  // no pidfd: check every 10 ms
      }
    }
    if (exit_code_ || ms_until(deadline) == 0) return exit_code_;
  }
}

std::string BackgroundProcess::stderr_text() {
  if (err_fd_ < 0) return err_buf_;
  std::array<char, 16384> buf{};
  for (;;) {
    const ssize_t n = ::pread(err_fd_, buf.data(), buf.size(), static_cast<off_t>(err_buf_.size()));
    if (n > 0) {
      err_buf_.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return err_buf_;
  }
}

}  // namespace gt::test
