// Test support: a running emulator server on 127.0.0.1 (a free port) for integration tests of
// the HTTP clients, and the create request they send to it.
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "emulator/graph_service.hpp"
#include "emulator/server.hpp"
#include "support/test_pki.hpp"

namespace gt::test {

inline constexpr const char* kLiveGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
inline constexpr const char* kLiveThread =
    R"({"topic":"Hi","posts":[{"body":{"contentType":"text","content":"Hello"}}]})";

struct LiveServerOptions {
  std::optional<emulator::CertificatePem> cert = TestPki::get().server;  // nullopt: plain HTTP
  std::uint16_t port = 0;
  std::size_t max_body = 8 * 1024 * 1024;
  emulator::Limits* limits = nullptr;
  emulator::ServiceOptions service;  // accepted token, groups that exist, ...
};

struct LiveServer {
  explicit LiveServer(LiveServerOptions o = {})
      : service(std::move(o.service)),
        server({.host = "127.0.0.1",
                .port = o.port,
                .tls = std::move(o.cert),
                .max_body_bytes = o.max_body,
                .limits = o.limits},
               service, faults) {
    auto st = server.start();
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  }
  emulator::GraphService service;
  emulator::FaultPlan faults;
  emulator::Server server;
};

// POST /v1.0/groups/{kLiveGroup}/threads with kLiveThread, a bearer and `client_request_id`.
inline HttpRequest live_create_request(std::uint16_t port, std::string host = "127.0.0.1",
                                       std::string scheme = "https",
                                       std::string client_request_id = "crid-it") {
  HttpRequest r;
  r.method = "POST";
  r.scheme = std::move(scheme);
  r.host = std::move(host);
  r.port = port;
  r.target = std::string("/v1.0/groups/") + kLiveGroup + "/threads";
  r.headers = {{"Authorization", "Bearer test-token"},
               {"Content-Type", "application/json"},
               {"Accept", "application/json"},
               {"client-request-id", std::move(client_request_id)}};
  r.body = kLiveThread;
  return r;
}

}  // namespace gt::test
