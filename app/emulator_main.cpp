// graph-threads-emulator: a local Microsoft Graph stand-in for graph-threads.
//
// Serves POST /{v1.0|beta}/groups/{id}/threads on a loopback address, over HTTPS with a throwaway
// CA (or given certificate) or plain HTTP, until SIGINT or SIGTERM. The first line on stdout is
// "listening on <url>"; every request handled is logged on stderr.
//
// Exit codes: 0 stopped by a signal, 1 could not start (port taken, CA file not writable),
// 2 usage error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "emulator/certs.hpp"
#include "emulator/faults.hpp"
#include "emulator/graph_service.hpp"
#include "emulator/server.hpp"
#include "gt/error.hpp"
#include "gt/uuid.hpp"

namespace {

using gt::Error;
using gt::Result;
using gt::Status;

constexpr const char* kProgram = "graph-threads-emulator";

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
};

struct ListenAddress {
  std::string host;  // as written, without brackets
  std::uint16_t port = 0;
};

// ---- argv -> options ---------------------------------------------------------------------------

void setup_flags(CLI::App& app, EmulatorOptions& o) {
  app.description(
      "A local Microsoft Graph stand-in for graph-threads. Serves\n"
      "  POST /{v1.0|beta}/groups/{group-id}/threads\n"
      "on a loopback address and answers like Graph does (201 with the created thread; 400, 401,\n"
      "404, 413 and 415 with Graph's error envelope), so that the tool can be tried and tested\n"
      "without a tenant. Threads live in memory until the emulator stops (SIGINT or SIGTERM).\n");
  // Without a description CLI11 would print the type as "FILE:FILE".
  const CLI::Validator existing_file = CLI::Validator(CLI::ExistingFile).description("");
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
  app.footer(
      "Examples:\n"
      "  graph-threads-emulator --listen 127.0.0.1:8443 --ca-out /tmp/emulator-ca.pem\n"
      "  GRAPH_BASE_URL=https://127.0.0.1:8443 GRAPH_TOKEN=anything \\\n"
      "    graph-threads create --cacert /tmp/emulator-ca.pem --group <GUID> ...\n"
      "\nExit status: 0 after SIGINT/SIGTERM, 1 when it cannot start, 2 on usage errors.");
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

// ---- serving -----------------------------------------------------------------------------------

struct Pki {
  gt::emulator::CertificatePem server;
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
  auto ca = gt::emulator::make_ca("graph-threads emulator throwaway CA");
  if (!ca) return std::move(ca).error();
  auto server = gt::emulator::issue_certificate(*ca, gt::emulator::loopback_spec());
  if (!server) return std::move(server).error();
  return Pki{.server = std::move(*server), .ca_pem = ca->cert};
}

std::string describe(const gt::emulator::RequestLog& r) {
  std::string line = r.method + " " + r.target + " " +
                     (r.status ? std::to_string(r.status) : std::string("-")) + " " +
                     std::to_string(r.elapsed.count()) + " ms";
  if (r.fault != gt::emulator::FaultKind::kNone) {
    line += std::string(" (fault: ") + gt::emulator::fault_name(r.fault) + ")";
  }
  return line;
}

// Blocks SIGINT and SIGTERM in this thread and, by inheritance, in every thread started after it
// (the server's), so that only sigwait() below receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve(const EmulatorOptions& o, const ListenAddress& listen, std::ostream& out,
          std::ostream& err) {
  std::mutex err_mu;  // the server thread logs while this one may still print hints
  auto say = [&](const std::string& line) {
    std::lock_guard lock(err_mu);
    err << line << '\n' << std::flush;
  };

  std::optional<Pki> pki;
  if (!o.plain_http) {
    auto loaded = load_or_generate_pki(o);
    if (!loaded) {
      say(std::string(kProgram) + ": " + loaded.error().message);
      return kExitUsage;
    }
    pki = std::move(*loaded);
  }

  gt::emulator::GraphService service(
      gt::emulator::ServiceOptions{.accepted_token = o.token, .groups = o.groups});
  gt::emulator::FaultPlan faults;  // the executable injects none; tests use the library
  gt::emulator::ServerOptions server_options{
      .host = listen.host,
      .port = listen.port,
      .tls = pki ? std::optional(pki->server) : std::nullopt,
      .on_request = [&](const gt::emulator::RequestLog& r) { say(describe(r)); },
  };
  gt::emulator::Server server(std::move(server_options), service, faults);

  const sigset_t stop_signals = block_stop_signals();
  if (auto started = server.start(); !started) {
    say(std::string(kProgram) + ": " + started.error().message);
    return started.error().kind == gt::ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  if (pki && pki->ca_pem && !o.ca_out.empty()) {
    if (auto written = write_file_atomically(o.ca_out, *pki->ca_pem); !written) {
      say(std::string(kProgram) + ": " + written.error().message);
      return kExitFailure;
    }
  }
  // Scripts wait for this line (and take the port from it): it must be first and flushed.
  out << "listening on " << server.url() << std::endl;
  if (pki && pki->ca_pem) {
    say(o.ca_out.empty()
            ? std::string(kProgram) +
                  ": using a throwaway CA that no client trusts; pass --ca-out FILE to save it"
            : std::string(kProgram) + ": CA certificate written to " + o.ca_out +
                  " (trust it with --cacert)");
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  say(std::string(kProgram) + ": " + (signal_number == SIGINT ? "SIGINT" : "SIGTERM") +
      " received, stopping");
  server.stop();
  return kExitSuccess;
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
  auto listen = parse_listen(options.listen);
  if (!listen) {
    err << kProgram << ": " << listen.error().message << '\n';
    return kExitUsage;
  }
  if (auto st = check_groups(options.groups); !st) {
    err << kProgram << ": " << st.error().message << '\n';
    return kExitUsage;
  }
  return serve(options, *listen, out, err);
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv, std::cout, std::cerr);
}
