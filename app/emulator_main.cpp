// graph-threads-emulator: a local Microsoft Graph stand-in for graph-threads.
//
// Serves Graph's group conversation-thread API (emulator/graph_service) on a loopback address,
// over HTTPS with a throwaway CA (or a given certificate) or plain HTTP, until SIGINT or SIGTERM,
// optionally with Outlook-like limits (emulator/limits) and random or scripted faults
// (emulator/faults). The first line on stdout is "listening on <url>"; every request handled is
// logged on stderr (by a writer thread, so a slow terminal never holds up the server).
//
// Exit codes: 0 stopped by a signal, 1 could not start (port taken, CA or data file unusable) or
// could not save the data file at the end, 2 usage error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "emulator/certs.hpp"
#include "emulator/control.hpp"
#include "emulator/faults.hpp"
#include "emulator/graph_service.hpp"
#include "emulator/identity_service.hpp"
#include "emulator/limits.hpp"
#include "emulator/router.hpp"
#include "emulator/server.hpp"
#include "gt/error.hpp"
#include "gt/uuid.hpp"

namespace {

namespace emu = gt::emulator;
using gt::Error;
using gt::Result;
using gt::Status;
using namespace std::chrono_literals;

constexpr const char* kProgram = "graph-threads-emulator";
constexpr auto kSaveInterval = 200ms;  // --data: how often a changed store is written
constexpr auto kLogInterval = 100ms;   // how often pending log lines are written
constexpr std::size_t kMaxPendingLogLines = 100'000;

enum ExitCode : int { kExitSuccess = 0, kExitFailure = 1, kExitUsage = 2 };

// What the flags say, as given.
struct EmulatorOptions {
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert;
  std::string tls_key;
  std::string ca_out;
  bool plain_http = false;
  std::string token;
  std::vector<std::string> groups;
  std::string data_file;
  bool quiet = false;
  // Limits
  int latency_ms = 0;
  int max_concurrent = 0;
  std::string throttle;
  // Faults
  double fault_rate = 0;
  std::vector<std::string> faults;
  std::vector<std::string> fault_at;
  int slow_ms = static_cast<int>(emu::kDefaultSlow.count());
  std::uint64_t seed = 0;
  bool seed_given = false;
  // Identity platform
  std::vector<std::string> users;      // NAME:PASSWORD
  std::vector<std::string> mfa_users;  // NAME:PASSWORD, password grant needs MFA
  std::vector<std::string> apps;       // CLIENT_ID:SECRET
  std::vector<std::string> app_certs;  // CLIENT_ID:CERT.pem
  int token_lifetime = 3600;
  int device_interval = 5;
  int device_min_interval = 0;
  bool auto_approve = false;
};

struct ListenAddress {
  std::string host;  // as written, without brackets
  std::uint16_t port = 0;
};

// The options, checked and turned into what the library takes.
struct EmulatorConfig {
  ListenAddress listen;
  emu::LimitOptions limits;
  emu::RandomFaults random;
  std::vector<emu::ScriptedFault> scripted;
  emu::IdentityOptions identity;
};

// ---- argv -> options ---------------------------------------------------------------------------

void setup_flags(CLI::App& app, EmulatorOptions& o) {
  app.description(
      "A local Microsoft Graph stand-in for graph-threads. Serves the group conversation-thread\n"
      "API under /v1.0 and /beta (create, list, get, update, delete and reply to threads, and\n"
      "$batch) on a loopback address and answers like Graph does, errors in Graph's envelope\n"
      "included, so that the tool and your scripts can be tried and tested without a tenant.\n"
      "Threads live in memory (or in --data FILE) until the emulator stops (SIGINT or SIGTERM).\n");
  // Without a description CLI11 would print the type as "FILE:FILE" (or "MS:INT in [0 - ...]");
  // the help text says the range in words.
  const CLI::Validator existing_file = CLI::Validator(CLI::ExistingFile).description("");
  const CLI::Validator milliseconds = CLI::Validator(CLI::Range(0, 3'600'000)).description("");
  const CLI::Validator positive = CLI::Validator(CLI::Range(1, 1'000'000)).description("");
  const CLI::Validator probability = CLI::Validator(CLI::Range(0.0, 1.0)).description("");
  app.set_version_flag("--version", std::string(kProgram) + " " + GT_VERSION);

  app.add_option("--listen", o.listen,
                 "Loopback address: 127.0.0.0/8, [::1] or localhost.\n"
                 "Port 0 picks a free one (see the first output line).")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  auto* cert = app.add_option("--tls-cert", o.tls_cert,
                              "Serve this certificate chain (PEM) instead of generating one.")
                   ->type_name("FILE")
                   ->check(existing_file);
  auto* key = app.add_option("--tls-key", o.tls_key, "Private key (PEM) for --tls-cert.")
                  ->type_name("FILE")
                  ->check(existing_file);
  cert->needs(key);
  key->needs(cert);
  auto* ca_out = app.add_option("--ca-out", o.ca_out,
                                "Write the generated CA certificate (PEM) here,\n"
                                "for clients to trust (graph-threads --cacert FILE).")
                     ->type_name("FILE");
  ca_out->excludes(cert);
  auto* plain = app.add_flag("--plain-http", o.plain_http, "Serve plain HTTP instead of HTTPS.");
  plain->excludes(cert)->excludes(key)->excludes(ca_out);
  app.add_option("--token", o.token, "The only bearer token accepted (default: any non-empty one).")
      ->type_name("TOKEN");
  app.add_option("--groups", o.groups, "Group ids (GUIDs) that exist (default: every GUID).")
      ->type_name("ID,ID")
      ->delimiter(',');
  app.add_option("--data", o.data_file,
                 "Keep threads in this file: read at start (if it exists),\n"
                 "written within 200 ms of a change and at exit.")
      ->type_name("FILE");
  app.add_flag("-q,--quiet", o.quiet, "Do not log each request on stderr.");

  const std::string limits = "Limits (per bearer token, like Outlook's)";
  app.add_option("--latency", o.latency_ms,
                 "Service time added to every request (other requests\n"
                 "are served meanwhile).")
      ->type_name("MS")
      ->check(milliseconds)
      ->group(limits);
  app.add_option("--max-concurrent", o.max_concurrent,
                 "Requests in flight per token; more get 429 ApplicationThrottled\n"
                 "(Outlook allows 4).")
      ->type_name("N")
      ->check(positive)
      ->group(limits);
  app.add_option("--throttle", o.throttle,
                 "Rate per token (a token bucket of N); past it 429\n"
                 "TooManyRequests with Retry-After. Also N/min, N/h.")
      ->type_name("N/s")
      ->group(limits);

  const std::string faults = "Faults (KIND: 429, 503, drop-before, drop-after, slow)";
  auto* rate = app.add_option("--fault-rate", o.fault_rate,
                              "Probability (0-1) that a request (a connection, for\n"
                              "drop-before) fails with one of the --fault kinds.")
                   ->type_name("P")
                   ->check(probability)
                   ->group(faults);
  auto* kinds = app.add_option("--fault", o.faults,
                               "The kinds --fault-rate draws from, uniformly.\n"
                               "429/503 carry Retry-After: 1; drop-before closes the\n"
                               "connection before TLS; drop-after processes the request,\n"
                               "then closes without answering; slow waits --slow-ms.")
                    ->type_name("KIND,KIND")
                    ->delimiter(',')
                    ->group(faults);
  rate->needs(kinds);
  kinds->needs(rate);
  app.add_option("--fault-at", o.fault_at,
                 "Fail request number N (1 is the first; connection number\n"
                 "for drop-before). Wins over --fault-rate.")
      ->type_name("N:KIND,N:KIND")
      ->delimiter(',')
      ->group(faults);
  app.add_option("--slow-ms", o.slow_ms, "How long a slow fault waits.")
      ->type_name("MS")
      ->check(milliseconds)
      ->capture_default_str()
      ->group(faults);
  app.add_option("--seed", o.seed,
                 "Seed for --fault-rate: the same seed fails the same requests\n"
                 "(default: random, and logged).")
      ->type_name("S")
      ->group(faults);

  const std::string identity = "Sign-in (/{tenant}/oauth2/v2.0/devicecode and /token)";
  app.add_option("--user", o.users,
                 "A user for the password grant and device approval, NAME:PASSWORD\n"
                 "(repeatable).")
      ->type_name("NAME:PASSWORD")
      ->allow_extra_args(false)
      ->group(identity);
  app.add_option("--mfa-user", o.mfa_users,
                 "A user whose password sign-in needs MFA (AADSTS50076), NAME:PASSWORD.")
      ->type_name("NAME:PASSWORD")
      ->allow_extra_args(false)
      ->group(identity);
  app.add_option("--app", o.apps,
                 "A confidential app for client_credentials, CLIENT_ID:SECRET\n"
                 "(repeatable; app-only tokens carry roles Group.ReadWrite.All).")
      ->type_name("ID:SECRET")
      ->allow_extra_args(false)
      ->group(identity);
  app.add_option("--app-cert", o.app_certs,
                 "A confidential app that signs client assertions with the RSA\n"
                 "certificate in CERT.pem (RS256+x5t or PS256+x5t#S256), CLIENT_ID:CERT.pem.")
      ->type_name("ID:CERT.pem")
      ->allow_extra_args(false)
      ->group(identity);
  app.add_option("--token-lifetime", o.token_lifetime,
                 "Lifetime of issued access tokens in seconds (default 3600).")
      ->type_name("S")
      ->check(positive)
      ->group(identity);
  app.add_option("--device-interval", o.device_interval,
                 "Device code polling interval in seconds (default 5; 0 for tests).")
      ->type_name("S")
      ->check(CLI::Validator(CLI::Range(0, 60)).description(""))
      ->group(identity);
  app.add_option("--device-min-interval", o.device_min_interval,
                 "Polling interval the server enforces; clients polling faster get\n"
                 "slow_down (default: --device-interval).")
      ->type_name("S")
      ->check(CLI::Validator(CLI::Range(0, 60)).description(""))
      ->group(identity);
  app.add_flag("--auto-approve", o.auto_approve,
               "Approve device codes on their first poll as demo@graph-threads.test\n"
               "(otherwise: POST /_emulator/devices/{code}/approve).")
      ->group(identity);

  app.footer(
      "Examples:\n"
      "  graph-threads-emulator --listen 127.0.0.1:8443 --ca-out /tmp/emulator-ca.pem\n"
      "  GRAPH_BASE_URL=https://127.0.0.1:8443 GRAPH_TOKEN=anything \\\n"
      "    graph-threads create --cacert /tmp/emulator-ca.pem --group <GUID> ...\n"
      "  graph-threads-emulator --latency 200 --max-concurrent 4 --throttle 10/s\n"
      "  graph-threads-emulator --fault-rate 0.2 --fault 429,503,drop-after --seed 7\n"
      "  graph-threads-emulator --fault-at 1:503,2:429\n"
      "\nExit status: 0 after SIGINT/SIGTERM, 1 when it cannot start or save --data,\n"
      "2 on usage errors. See graph-threads-emulator(1).");
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  unsigned char v4[4];
  if (inet_pton(AF_INET, host.c_str(), v4) == 1) return v4[0] == 127;
  unsigned char v6[16];
  if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(v6, kLoopback, sizeof v6) == 0;
  }
  return false;
}

// "127.0.0.1:8443", "[::1]:0", "localhost:8443".
Result<ListenAddress> parse_listen(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Error::usage("--listen \"" + text + "\": " + why);
  };
  ListenAddress out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("expected [IPv6]:PORT");
    }
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad("expected HOST:PORT");
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad("write IPv6 addresses as [::1]:PORT");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  out.port = static_cast<std::uint16_t>(std::stoul(port));
  if (!is_loopback_host(out.host)) {
    return bad("the emulator only listens on loopback (127.0.0.0/8, ::1 or localhost)");
  }
  return out;
}

Status check_groups(const std::vector<std::string>& groups) {
  for (const auto& g : groups) {
    if (!gt::looks_like_guid(g)) return Error::usage("--groups: \"" + g + "\" is not a GUID");
  }
  return gt::ok_status();
}

Result<emu::LimitOptions> limits_from(const EmulatorOptions& o) {
  emu::LimitOptions limits{
      .latency = std::chrono::milliseconds(o.latency_ms),
      .max_concurrent = static_cast<std::size_t>(o.max_concurrent),
  };
  if (!o.throttle.empty()) {
    auto rate = emu::parse_rate(o.throttle);
    if (!rate) return Error::usage("--throttle: " + rate.error().message);
    limits.throttle = *rate;
  }
  return limits;
}

Result<emu::RandomFaults> random_faults_from(const EmulatorOptions& o) {
  emu::RandomFaults random{.rate = o.fault_rate, .faults = {}, .seed = o.seed};
  for (const auto& kind : o.faults) {
    auto fault = emu::parse_fault_kind(kind, std::chrono::milliseconds(o.slow_ms));
    if (!fault) return Error::usage("--fault: " + fault.error().message);
    random.faults.push_back(std::move(*fault));
  }
  if (!o.seed_given) random.seed = std::random_device{}();
  return random;
}

Result<std::vector<emu::ScriptedFault>> scripted_faults_from(const EmulatorOptions& o) {
  std::vector<emu::ScriptedFault> scripted;
  for (const auto& item : o.fault_at) {
    auto fault = emu::parse_scripted_fault(item, std::chrono::milliseconds(o.slow_ms));
    if (!fault) return Error::usage("--fault-at: " + fault.error().message);
    scripted.push_back(std::move(*fault));
  }
  return scripted;
}

// "LEFT:RIGHT" split at the first ':'; both parts must be non-empty.
Result<std::pair<std::string, std::string>> split_pair(const std::string& text, const char* flag,
                                                       const char* expected) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Error::usage(std::string(flag) + " \"" + text + "\": expected " + expected);
  }
  return std::make_pair(text.substr(0, colon), text.substr(colon + 1));
}

Result<std::string> read_file(const std::string& path, const char* what);

Result<emu::IdentityOptions> identity_from(const EmulatorOptions& o) {
  emu::IdentityOptions id;
  id.token_lifetime = std::chrono::seconds(o.token_lifetime);
  id.device_poll_interval = std::chrono::seconds(o.device_interval);
  id.enforced_poll_interval = std::chrono::seconds(o.device_min_interval);
  id.auto_approve_device = o.auto_approve;
  for (const auto& [list, mfa] : {std::pair{&o.users, false}, std::pair{&o.mfa_users, true}}) {
    for (const auto& u : *list) {
      auto pair = split_pair(u, mfa ? "--mfa-user" : "--user", "NAME:PASSWORD");
      if (!pair) return std::move(pair).error();
      id.users[pair->first] = emu::IdentityUser{.password = pair->second, .needs_mfa = mfa};
    }
  }
  for (const auto& a : o.apps) {
    auto pair = split_pair(a, "--app", "CLIENT_ID:SECRET");
    if (!pair) return std::move(pair).error();
    id.apps[pair->first].secret = pair->second;
  }
  for (const auto& a : o.app_certs) {
    auto pair = split_pair(a, "--app-cert", "CLIENT_ID:CERT.pem");
    if (!pair) return std::move(pair).error();
    auto pem = read_file(pair->second, "--app-cert");
    if (!pem) return std::move(pem).error();
    id.apps[pair->first].certificate_pem = std::move(*pem);
  }
  return id;
}

Result<EmulatorConfig> config_from(const EmulatorOptions& o) {
  EmulatorConfig config;
  auto listen = parse_listen(o.listen);
  if (!listen) return std::move(listen).error();
  config.listen = std::move(*listen);
  if (auto st = check_groups(o.groups); !st) return std::move(st).error();
  auto limits = limits_from(o);
  if (!limits) return std::move(limits).error();
  config.limits = *limits;
  auto random = random_faults_from(o);
  if (!random) return std::move(random).error();
  config.random = std::move(*random);
  auto scripted = scripted_faults_from(o);
  if (!scripted) return std::move(scripted).error();
  config.scripted = std::move(*scripted);
  auto identity = identity_from(o);
  if (!identity) return std::move(identity).error();
  config.identity = std::move(*identity);
  return config;
}

// ---- files -------------------------------------------------------------------------------------

Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return Error::usage(std::string(what) + " " + path + ": cannot read: " + std::strerror(errno));
  }
  return text.str();
}

// Writes `content` so that readers see either no file or all of it: a temporary file in the same
// directory, renamed over `path`. Mode 0644: the CA is public and other users' clients may need it.
Status write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());
  // Call before close()/unlink(), which may change errno.
  auto fail = [&](const char* step) {
    return Error::usage("--ca-out " + path + ": " + step + ": " + std::strerror(errno));
  };
  if (fd < 0) return fail("cannot create a temporary file");
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = fail("write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    Error e = fail("fchmod/fsync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = fail("rename");
    ::unlink(tmp.c_str());
    return e;
  }
  return gt::ok_status();
}

// ---- the log -----------------------------------------------------------------------------------

std::string describe(const emu::RequestLog& r) {
  std::string line = r.method + " " + r.target + " " +
                     (r.status ? std::to_string(r.status) : std::string("-")) + " " +
                     std::to_string(r.elapsed.count()) + " ms";
  if (r.fault != emu::FaultKind::kNone) {
    line += " (fault: ";
    line += r.fault == emu::FaultKind::kStatus ? std::to_string(r.fault_status)
                                               : std::string(emu::fault_name(r.fault));
    line += ")";
  }
  if (r.limit == emu::Verdict::kOverConcurrency) line += " (limit: --max-concurrent)";
  if (r.limit == emu::Verdict::kOverRate) line += " (limit: --throttle)";
  return line;
}

// Every line for stderr goes through here. The server thread only appends an entry under a lock;
// a writer thread formats what has piled up and writes it in one go every 100 ms. So stderr's
// speed (a terminal, a pipe that is read slowly or not at all) never holds up a request; when the
// writer falls behind by more than kMaxPendingLogLines request lines, further ones are counted
// instead of kept, and the count is logged.
class LogWriter {
 public:
  explicit LogWriter(std::ostream& err) : err_(err), thread_([this] { run(); }) {}
  ~LogWriter() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // A request line (server thread).
  void request(emu::RequestLog entry) {
    std::lock_guard lock(mu_);
    if (pending_requests_ >= kMaxPendingLogLines) {
      ++dropped_;
      return;
    }
    ++pending_requests_;
    pending_.push_back({std::move(entry), {}});
  }
  // Any other line ("graph-threads-emulator: " is prepended); written at the next tick.
  void say(const std::string& message) {
    std::lock_guard lock(mu_);
    pending_.push_back({{}, std::string(kProgram) + ": " + message});
  }
  // Writes everything pending now, from the calling thread.
  void flush() {
    std::lock_guard write_lock(write_mu_);
    write(take());
  }

 private:
  struct Entry {
    emu::RequestLog request;
    std::string message;  // when set, the entry is this line
  };
  struct Batch {
    std::vector<Entry> entries;
    std::size_t dropped = 0;
  };

  Batch take() {
    std::lock_guard lock(mu_);
    Batch batch{std::move(pending_), dropped_};
    pending_.clear();
    pending_requests_ = 0;
    dropped_ = 0;
    return batch;
  }

  void write(const Batch& batch) {
    if (batch.entries.empty() && batch.dropped == 0) return;
    std::string text;
    for (const auto& e : batch.entries) {
      text += e.message.empty() ? describe(e.request) : e.message;
      text += '\n';
    }
    if (batch.dropped > 0) {
      text += std::string(kProgram) + ": " + std::to_string(batch.dropped) +
              " request log lines dropped (stderr is too slow)\n";
    }
    err_ << text << std::flush;
  }

  void run() {
    std::unique_lock lock(mu_);
    while (!done_) {
      wake_.wait_for(lock, kLogInterval);
      lock.unlock();
      flush();
      lock.lock();
    }
    lock.unlock();
    flush();
  }

  std::ostream& err_;
  std::mutex write_mu_;  // one writer at a time, so batches stay in order
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Entry> pending_;
  std::size_t pending_requests_ = 0;
  std::size_t dropped_ = 0;
  bool done_ = false;
  std::thread thread_;  // last: starts after everything it uses exists
};

// ---- serving -----------------------------------------------------------------------------------

struct Pki {
  emu::CertificatePem server;
  std::optional<std::string> ca_pem;  // set when generated here
};

Result<Pki> load_or_generate_pki(const EmulatorOptions& o) {
  if (!o.tls_cert.empty()) {
    auto cert = read_file(o.tls_cert, "--tls-cert");
    if (!cert) return std::move(cert).error();
    auto key = read_file(o.tls_key, "--tls-key");
    if (!key) return std::move(key).error();
    return Pki{.server = {.cert = std::move(*cert), .key = std::move(*key)}, .ca_pem = {}};
  }
  auto ca = emu::make_ca("graph-threads emulator throwaway CA");
  if (!ca) return std::move(ca).error();
  auto server = emu::issue_certificate(*ca, emu::loopback_spec());
  if (!server) return std::move(server).error();
  return Pki{.server = std::move(*server), .ca_pem = ca->cert};
}

// One line saying which limits and faults are on, or "" when none are.
std::string describe_config(const EmulatorOptions& o, const EmulatorConfig& c) {
  std::ostringstream out;
  const char* sep = "";
  auto part = [&]() -> std::ostringstream& {
    out << std::exchange(sep, "; ");
    return out;
  };
  if (c.limits.latency.count() > 0) part() << "latency " << c.limits.latency.count() << " ms";
  if (c.limits.max_concurrent > 0) part() << "max-concurrent " << c.limits.max_concurrent;
  if (c.limits.throttle.requests > 0) part() << "throttle " << o.throttle;
  if (!c.random.faults.empty() && c.random.rate > 0) {
    part() << "random faults (" << c.random.rate << " of requests):";
    for (const auto& f : c.random.faults) out << ' ' << emu::fault_label(f);
    out << ", seed " << c.random.seed << " (repeat with --seed " << c.random.seed << ")";
  }
  for (const auto& s : c.scripted) {
    part() << (s.fault.kind == emu::FaultKind::kDropOnAccept ? "connection " : "request ") << s.nth
           << ": " << emu::fault_label(s.fault);
  }
  return out.str();
}

// Blocks SIGINT and SIGTERM in this thread and, by inheritance, in every thread started after it
// (the server's, the log writer's), so that only sigtimedwait() below receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits for SIGINT or SIGTERM, calling `tick` every kSaveInterval meanwhile. Returns the signal.
template <class Tick>
int wait_for_stop_signal(const sigset_t& signals, Tick tick) {
  const timespec interval{0, std::chrono::nanoseconds(kSaveInterval).count()};
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &interval);
    if (sig > 0) return sig;
    tick();  // a timeout (EAGAIN) or another signal's interruption (EINTR)
  }
}

int serve(const EmulatorOptions& o, const EmulatorConfig& config, std::ostream& out,
          std::ostream& err) {
  const sigset_t stop_signals = block_stop_signals();
  LogWriter log(err);

  std::optional<Pki> pki;
  if (!o.plain_http) {
    auto loaded = load_or_generate_pki(o);
    if (!loaded) {
      log.say(loaded.error().message);
      return kExitUsage;
    }
    pki = std::move(*loaded);
  }

  // The parts the emulator serves; the Router sends each request to one of them.
  emu::GraphService graph(
      {.accepted_token = o.token, .groups = o.groups, .data_file = o.data_file});
  auto identity = emu::IdentityService::create(config.identity);
  if (!identity) {
    log.say(identity.error().message);
    return kExitUsage;
  }
  emu::FaultPlan faults;
  emu::ControlService control(faults, identity->get(), config.identity.demo_user);
  emu::Router router({.graph = &graph, .identity = identity->get(), .control = &control});

  if (auto loaded = graph.load(); !loaded) {
    log.say(loaded.error().message);
    return kExitFailure;
  }
  faults.randomize(config.random);
  for (const auto& s : config.scripted) faults.script(s.nth, s.fault);
  std::optional<emu::Limits> limits;
  if (config.limits.any()) limits.emplace(config.limits);

  emu::ServerOptions server_options{
      .host = config.listen.host,
      .port = config.listen.port,
      .tls = pki ? std::optional(pki->server) : std::nullopt,
      .limits = limits ? &*limits : nullptr,
      .keep_received = 0,  // a long-running process must not keep every request
  };
  if (!o.quiet) {
    server_options.on_request = [&log](const emu::RequestLog& r) { log.request(r); };
  }
  emu::Server server(std::move(server_options), router, faults);

  if (auto started = server.start(); !started) {
    log.say(started.error().message);
    return started.error().kind == gt::ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  if (pki && pki->ca_pem && !o.ca_out.empty()) {
    if (auto written = write_file_atomically(o.ca_out, *pki->ca_pem); !written) {
      log.say(written.error().message);
      return kExitFailure;
    }
  }
  // Scripts wait for this line (and take the port from it): it must be first and flushed.
  out << "listening on " << server.url() << std::endl;
  if (pki && pki->ca_pem) {
    log.say(o.ca_out.empty()
                ? "using a throwaway CA that no client trusts; pass --ca-out FILE "
                  "to save it"
                : "CA certificate written to " + o.ca_out + " (trust it with --cacert)");
  }
  if (const std::string on = describe_config(o, config); !on.empty()) log.say(on);

  // Saving: a failure is reported once, not every 200 ms, and retried.
  bool save_failing = false;
  auto save = [&] {
    const Status saved = graph.save_if_dirty();
    if (!saved && !save_failing) log.say(saved.error().message);
    save_failing = !saved;
    return saved.ok();
  };
  const int sig = wait_for_stop_signal(stop_signals, save);
  log.say(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " received, stopping");
  server.stop();
  save_failing = false;  // the last word on saving is always said
  return save() ? kExitSuccess : kExitFailure;
}

int run(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app;
  app.name(kProgram);
  EmulatorOptions options;
  setup_flags(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 100-127 on parse errors; our contract says usage errors exit 2.
    const int code = app.exit(e, out, err);
    return code == 0 ? kExitSuccess : kExitUsage;
  }
  options.seed_given = app.count("--seed") > 0;
  auto config = config_from(options);
  if (!config) {
    err << kProgram << ": " << config.error().message << '\n';
    return kExitUsage;
  }
  return serve(options, *config, out, err);
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv, std::cout, std::cerr);
}
