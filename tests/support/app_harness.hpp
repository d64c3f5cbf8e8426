// Test support: the app wired to fakes — string streams for Io, a map for Env, FakeTransport and
// FakeClock behind Deps — so a test can run `graph-threads args...` in process.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "support/fakes.hpp"
#include "support/sim_loop.hpp"

namespace gt::test {

// Everything an app-level test needs: fakes wired into Deps, string streams wired into Io.
struct AppHarness {
  AppHarness();
  // Runs `graph-threads args...` and returns its exit code.
  int run(const std::vector<std::string>& args);

  FakeClock clock;
  FakeTransport transport;
  // Bulk creation runs on this; by default every request is answered 201 after 10 ms.
  SimLoop::Server sim_server = [](const HttpRequest&, std::size_t n) {
    SimReply r;
    r.response.status = 201;
    r.response.body = R"({"id":"sim-)" + std::to_string(n) + R"("})";
    return r;
  };
  SimLoop loop{[this](const HttpRequest& r, std::size_t n) { return sim_server(r, n); }};
  app::MapEnv env;
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  bool out_is_tty = false;
  bool in_is_tty = false;
  bool err_is_tty = false;
  std::size_t out_width = 0;
  int transports_made = 0;  // lazy construction check
  std::vector<app::TransportConfig> transport_configs;
  int request_ids = 0;  // ids handed out: "crid-1", "crid-2", ...
  // `doctor`'s connection probe: every request is recorded and answered by probe_answer (by
  // default: resolved to 192.0.2.1, connected, TLS 1.3 verified).
  std::vector<ProbeRequest> probes;
  std::vector<app::TransportConfig> probe_configs;
  std::function<ConnectionProbe(const ProbeRequest&)> probe_answer = [](const ProbeRequest& r) {
    ConnectionProbe p;
    p.addresses = {"192.0.2.1"};
    p.resolve_time = std::chrono::milliseconds(3);
    p.connected = true;
    p.endpoint = "192.0.2.1:" + std::to_string(r.port);
    p.connect_time = std::chrono::milliseconds(7);
    p.tls_attempted = r.tls;
    p.tls_ok = r.tls;
    if (r.tls) {
      p.tls_version = "TLSv1.3";
      p.cipher = "TLS_AES_256_GCM_SHA384";
      p.subject = "CN=" + r.host;
      p.issuer = "CN=Test Issuing CA";
      p.not_after = "Nov 27 12:00:00 2027 GMT";
      p.verify_result = "ok";
      p.tls_time = std::chrono::milliseconds(11);
    }
    return p;
  };
  app::Deps deps;
};

}  // namespace gt::test
