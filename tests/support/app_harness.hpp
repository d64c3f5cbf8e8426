// Test support: the app wired to fakes — string streams for Io, a map for Env, FakeTransport and
// FakeClock behind Deps — so a test can run `graph-threads args...` in process.
#pragma once

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
  app::Deps deps;
};

}  // namespace gt::test
