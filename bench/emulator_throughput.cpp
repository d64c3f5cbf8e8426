// gt_bench_emulator_throughput: how many thread creates per second the emulator sustains over
// loopback TLS, with 1, 4 and 16 keep-alive client connections. Prints numbers; asserts nothing.
//
//   gt_bench_emulator_throughput [--seconds 3] [--levels 1,4,16]
//                                [--emulator PATH [--emulator-log FILE]]
//
// By default the server runs in this process (gt::emulator::Server on its one io thread, the
// Graph service behind a Router, nothing recorded, no log). With --emulator PATH the built
// graph-threads-emulator is spawned instead (its per-request log goes to --emulator-log,
// /dev/null by default), which measures the executable as shipped. Each client is a thread with its
// own gt::BeastTransport (one keep-alive TLS connection); all clients and the server share the
// machine's cores, so the numbers are a floor for the server alone.
//
// "server CPU/create" is the CPU time (user + system) the server spent per create: the io thread's
// in process, the whole process's when spawned (its log writer included). Unlike creates/s it
// hardly depends on what else the machine is doing.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emulator/certs.hpp"
#include "emulator/faults.hpp"
#include "emulator/graph_service.hpp"
#include "emulator/router.hpp"
#include "emulator/server.hpp"
#include "gt/beast_transport.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kTarget = "/v1.0/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/threads";
constexpr const char* kBody =
    R"({"topic":"Maintenance tonight","posts":[{"body":{"contentType":"text",)"
    R"("content":"The build farm is down from 22:00 to 23:00 UTC."}}]})";

struct BenchOptions {
  double seconds = 3;
  std::vector<int> levels = {1, 4, 16};
  std::string emulator;                    // empty: in process
  std::string emulator_log = "/dev/null";  // the spawned emulator's stderr
};

// ---- the server under test ---------------------------------------------------------------------

// Where the clients connect, the CA file they trust, and the /proc stat file of the server's
// thread or process.
struct Target {
  std::uint16_t port = 0;
  std::string ca_file;
  std::string stat_file;
};

// User + system CPU seconds from a /proc/.../stat file; 0 when it cannot be read.
double cpu_seconds(const std::string& stat_file) {
  std::ifstream in(stat_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The stat file of this process's thread named `name`, or "".
std::string own_thread_stat(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) return (task.path() / "stat").string();
  }
  return {};
}

class InProcessEmulator {
 public:
  static std::unique_ptr<InProcessEmulator> start(const std::string& ca_file) {
    auto e = std::unique_ptr<InProcessEmulator>(new InProcessEmulator());
    auto ca = gt::emulator::make_ca("bench CA");
    auto cert = ca ? gt::emulator::issue_certificate(*ca, gt::emulator::loopback_spec())
                   : gt::Result<gt::emulator::CertificatePem>(ca.error());
    if (!cert) {
      std::fprintf(stderr, "bench: %s\n", cert.error().message.c_str());
      return nullptr;
    }
    std::ofstream(ca_file) << ca->cert;
    e->server.emplace(
        gt::emulator::ServerOptions{
            .host = "127.0.0.1", .port = 0, .tls = *cert, .keep_received = 0},
        e->router, e->faults);
    if (auto st = e->server->start(); !st) {
      std::fprintf(stderr, "bench: %s\n", st.error().message.c_str());
      return nullptr;
    }
    return e;
  }
  std::uint16_t port() const { return server->port(); }
  std::string stat_file() const { return own_thread_stat(gt::emulator::kIoThreadName); }

 private:
  InProcessEmulator() = default;
  gt::emulator::GraphService graph{{}};
  gt::emulator::Router router{{.graph = &graph}};
  gt::emulator::FaultPlan faults;
  std::optional<gt::emulator::Server> server;
};

// The executable, spawned with --listen 127.0.0.1:0; the port comes from its first line.
class SpawnedEmulator {
 public:
  static std::unique_ptr<SpawnedEmulator> start(const std::string& path, const std::string& ca_file,
                                                const std::string& log_file) {
    int out[2];
    if (::pipe(out) != 0) return nullptr;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {path, "--listen", "127.0.0.1:0", "--ca-out", ca_file};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto e = std::unique_ptr<SpawnedEmulator>(new SpawnedEmulator());
    const int rc = posix_spawn(&e->pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      std::fprintf(stderr, "bench: cannot start %s\n", path.c_str());
      return nullptr;
    }
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const auto colon = line.rfind(':');
    if (!line.starts_with("listening on https://") || colon == std::string::npos) {
      std::fprintf(stderr, "bench: unexpected first line from the emulator: %s\n", line.c_str());
      return nullptr;
    }
    e->port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
    return e;
  }
  ~SpawnedEmulator() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::uint16_t port() const { return port_; }
  std::string stat_file() const { return "/proc/" + std::to_string(pid_) + "/stat"; }

 private:
  SpawnedEmulator() = default;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// ---- clients -----------------------------------------------------------------------------------

struct ClientResult {
  std::vector<Clock::duration> latencies;  // of 201 answers inside the window
  std::size_t failures = 0;                // transport errors and non-201 answers
  std::string first_failure;
};

gt::HttpRequest create_request(std::uint16_t port) {
  gt::HttpRequest r;
  r.method = "POST";
  r.scheme = "https";
  r.host = "127.0.0.1";
  r.port = port;
  r.target = kTarget;
  r.headers = {{"Authorization", "Bearer bench"}, {"Content-Type", "application/json"}};
  r.body = kBody;
  return r;
}

// One keep-alive client: connects (outside the window), waits for `go`, then creates threads
// until `stop`.
void run_client(const Target& target, std::atomic<int>& ready, const std::atomic<bool>& go,
                const std::atomic<bool>& stop, ClientResult& result) {
  auto transport = gt::BeastTransport::create({.cacert_file = target.ca_file});
  const gt::HttpRequest request = create_request(target.port);
  auto send_one = [&](gt::HttpResponse& response, gt::TransportError& error) {
    return transport && (*transport)->send(request, Clock::now() + 10s, response, error);
  };
  gt::HttpResponse response;
  gt::TransportError error;
  if (!send_one(response, error)) result.first_failure = error.message;  // TLS handshake here
  ++ready;
  while (!go.load()) std::this_thread::yield();
  result.latencies.reserve(1 << 16);
  while (!stop.load(std::memory_order_relaxed)) {
    response = {};
    const auto started = Clock::now();
    const bool sent = send_one(response, error);
    const auto took = Clock::now() - started;
    if (sent && response.status == 201) {
      result.latencies.push_back(took);
    } else {
      ++result.failures;
      if (result.first_failure.empty()) {
        result.first_failure = sent ? "HTTP " + std::to_string(response.status) : error.message;
      }
    }
  }
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void run_level(const Target& target, int connections, double seconds) {
  std::vector<ClientResult> results(static_cast<std::size_t>(connections));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (auto& r : results) {
    clients.emplace_back(run_client, std::cref(target), std::ref(ready), std::cref(go),
                         std::cref(stop), std::ref(r));
  }
  while (ready.load() < connections) std::this_thread::sleep_for(1ms);
  const double cpu_before = cpu_seconds(target.stat_file);
  const auto started = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : clients) t.join();
  const auto window = Clock::now() - started;
  const double server_cpu = cpu_seconds(target.stat_file) - cpu_before;

  std::vector<Clock::duration> all;
  std::size_t failures = 0;
  std::string first_failure;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies.begin(), r.latencies.end());
    failures += r.failures;
    if (first_failure.empty()) first_failure = r.first_failure;
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) {
    if (all.empty()) return 0.0;
    return ms(all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]);
  };
  std::printf(
      "%5d connection%s  %8zu creates  %8.0f creates/s  p50 %6.3f ms  p99 %6.3f ms  "
      "server CPU/create %5.1f us",
      connections, connections == 1 ? " " : "s", all.size(),
      static_cast<double>(all.size()) / std::chrono::duration<double>(window).count(),
      percentile(0.50), percentile(0.99),
      all.empty() ? 0.0 : server_cpu * 1e6 / static_cast<double>(all.size()));
  if (failures > 0) std::printf("  failures %zu (first: %s)", failures, first_failure.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app("Thread creates per second against the emulator over loopback TLS.");
  app.add_option("--seconds", o.seconds, "Measuring window per level")->capture_default_str();
  app.add_option("--levels", o.levels, "Concurrent keep-alive connections per level")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--emulator", o.emulator,
                 "Spawn this graph-threads-emulator instead of serving in process");
  app.add_option("--emulator-log", o.emulator_log, "Where the spawned emulator's stderr goes")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  char ca_template[] = "/tmp/gt-bench-ca-XXXXXX";
  const int fd = ::mkstemp(ca_template);
  if (fd < 0) return 1;
  ::close(fd);
  const Target target_template{.port = 0, .ca_file = ca_template};

  std::unique_ptr<InProcessEmulator> in_process;
  std::unique_ptr<SpawnedEmulator> spawned;
  Target target = target_template;
  if (o.emulator.empty()) {
    in_process = InProcessEmulator::start(target.ca_file);
    if (in_process) {
      target.port = in_process->port();
      target.stat_file = in_process->stat_file();
    }
  } else {
    spawned = SpawnedEmulator::start(o.emulator, target.ca_file, o.emulator_log);
    if (spawned) {
      target.port = spawned->port();
      target.stat_file = spawned->stat_file();
    }
  }
  if (target.port == 0) {
    ::unlink(ca_template);
    return 1;
  }
  std::printf("emulator %s, %.1f s per level, %u cores\n",
              o.emulator.empty() ? "in process" : o.emulator.c_str(), o.seconds,
              std::thread::hardware_concurrency());
  for (const int level : o.levels) run_level(target, level, o.seconds);
  ::unlink(ca_template);
  return 0;
}
