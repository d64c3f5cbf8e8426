// The real capabilities. The only app file that names BeastTransport.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "app/deps.hpp"
#include "gt/beast_exchange_loop.hpp"
#include "gt/beast_transport.hpp"
#include "gt/uuid.hpp"

extern char** environ;

namespace gt::app {

namespace {

// Runs argv[0] from PATH with stdin and stderr on /dev/null; returns stdout when it exits 0
// within the time limit. Used for `az account get-access-token`, which prints a token: the output
// stays in memory and is never logged.
std::optional<std::string> run_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return std::nullopt;
  }
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0 && output.size() < 1024 * 1024) output.append(buf, static_cast<std::size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  ::close(out[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return output;
}

}  // namespace

Deps make_real_deps() {
  static SystemClock clock;
  return Deps{
      .clock = clock,
      .make_transport = [](const TransportConfig& config) -> Result<std::unique_ptr<Transport>> {
        auto t = BeastTransport::create({.cacert_file = config.cacert_file,
                                         .limits = {},
                                         .allow_plain_http_to_any_host = false,
                                         .proxy = config.proxy});
        if (!t) return std::move(t).error();
        return std::unique_ptr<Transport>(std::move(t).value());
      },
      .new_request_id = new_uuid,
      .jitter =
          [] {
            static std::mt19937_64 gen{std::random_device{}()};
            return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
          },
      .run_command = run_command,
      .make_exchange_loop =
          [](const TransportConfig& config) -> Result<std::unique_ptr<ExchangeLoop>> {
        auto loop = BeastExchangeLoop::create({.cacert_file = config.cacert_file,
                                               .limits = {},
                                               .allow_plain_http_to_any_host = false,
                                               .proxy = config.proxy});
        if (!loop) return std::move(loop).error();
        return std::unique_ptr<ExchangeLoop>(std::move(loop).value());
      },
      .probe = [](const TransportConfig& config,
                  const ProbeRequest& request) -> Result<ConnectionProbe> {
        auto t = BeastTransport::create({.cacert_file = config.cacert_file,
                                         .limits = {},
                                         .allow_plain_http_to_any_host = false,
                                         .proxy = config.proxy});
        if (!t) return std::move(t).error();
        return (*t)->probe(request);
      },
  };
}

}  // namespace gt::app
