// Integration tests of the Beast HTTPS client against the emulator's Beast server: real TLS over
// 127.0.0.1 with certificates generated at test time. Nothing leaves the machine.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "emulator/server.hpp"
#include "gt/beast_transport.hpp"
#include "gt/interrupt.hpp"
#include "support/live_server.hpp"
#include "support/net.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::TransportFailure;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::test::TestPki;

namespace {

using gt::test::LiveServer;
constexpr const char* kThread = gt::test::kLiveThread;

gt::HttpRequest create_request(const LiveServer& s, std::string host = "127.0.0.1",
                               std::string scheme = "https") {
  return gt::test::live_create_request(s.server.port(), std::move(host), std::move(scheme));
}

std::unique_ptr<gt::BeastTransport> transport(std::string cacert = TestPki::get().ca_file->path(),
                                              gt::ResponseLimits limits = {}) {
  auto t = gt::BeastTransport::create({.cacert_file = std::move(cacert), .limits = limits});
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return std::move(t).value();
}

struct Outcome {
  bool ok = false;
  gt::HttpResponse response;
  gt::TransportError error;
};

Outcome send(gt::Transport& t, const gt::HttpRequest& r, std::chrono::milliseconds budget = 10s) {
  Outcome o;
  o.ok = t.send(r, std::chrono::steady_clock::now() + budget, o.response, o.error);
  return o;
}

}  // namespace

TEST_CASE("a thread is created over verified TLS, by IP and by host name") {
  LiveServer s;
  auto t = transport();
  for (const char* host : {"127.0.0.1", "localhost"}) {
    CAPTURE(host);
    const auto o = send(*t, create_request(s, host));
    REQUIRE_MESSAGE(o.ok, o.error.message);
    CHECK(o.response.status == 201);
    CHECK(o.response.header("client-request-id") == "crid-it");
    CHECK(o.response.body.find("\"topic\":\"Hi\"") != std::string::npos);
  }
  const auto got = s.server.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].method == "POST");
  CHECK(got[0].body == kThread);
  CHECK(got[0].header("Authorization") == "Bearer test-token");
  CHECK(got[0].header("Host") == "127.0.0.1:" + std::to_string(s.server.port()));
  CHECK(got[1].header("Host") == "localhost:" + std::to_string(s.server.port()));
  CHECK(got[0].header("Content-Length") == std::to_string(std::string(kThread).size()));
  CHECK(s.service.threads().size() == 2);
}

TEST_CASE("keep-alive: one connection carries consecutive requests unless asked for a fresh one") {
  LiveServer s;
  auto t = transport();
  for (int i = 0; i < 3; ++i) REQUIRE(send(*t, create_request(s)).ok);
  CHECK(t->connections_opened() == 1);
  CHECK(s.server.connections_accepted() == 1);
  auto fresh = create_request(s);
  fresh.fresh_connection = true;
  REQUIRE(send(*t, fresh).ok);
  CHECK(t->connections_opened() == 2);
}

TEST_CASE("certificate failures say which check failed, and nothing is sent") {
  const auto& pki = TestPki::get();
  struct Case {
    const char* name;
    gt::emulator::CertificatePem cert;
    std::string cacert;
    TransportFailure failure;
    const char* fragment;
  };
  const Case cases[] = {
      {"untrusted issuer", pki.untrusted, pki.ca_file->path(), TransportFailure::kTlsUntrusted,
       "not trusted"},
      {"system store only", pki.server, "", TransportFailure::kTlsUntrusted, "not trusted"},
      {"expired", pki.expired, pki.ca_file->path(), TransportFailure::kTlsExpired, "expired on"},
      {"wrong host", pki.wrong_host, pki.ca_file->path(), TransportFailure::kTlsHostMismatch,
       "not valid for 127.0.0.1"},
      {"self-signed", pki.self_signed, pki.ca_file->path(), TransportFailure::kTlsSelfSigned,
       "self-signed"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LiveServer s({.cert = c.cert});
    auto t = transport(c.cacert);
    const auto o = send(*t, create_request(s));
    REQUIRE_FALSE(o.ok);
    CHECK(o.error.failure == c.failure);
    CHECK_FALSE(o.error.request_bytes_written);
    CHECK(o.error.message.find(c.fragment) != std::string::npos);
    CHECK(o.error.message.find("subject ") != std::string::npos);
    CHECK(o.error.message.find("issuer ") != std::string::npos);
    CHECK_FALSE(o.error.hint.empty());
    CHECK(s.server.received().empty());
    CHECK(s.service.threads().empty());
  }
}

TEST_CASE("SSL_CERT_FILE is honoured as the trust store") {
  LiveServer s;
  ::setenv("SSL_CERT_FILE", TestPki::get().ca_file->path().c_str(), 1);
  auto t = transport("");
  ::unsetenv("SSL_CERT_FILE");
  const auto o = send(*t, create_request(s));
  CHECK_MESSAGE(o.ok, o.error.message);
}

TEST_CASE("an unusable --cacert is a usage error before any connection") {
  auto missing = gt::BeastTransport::create({.cacert_file = "/nonexistent/ca.pem"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == gt::ErrorKind::kUsage);
  CHECK(missing.error().message.find("--cacert /nonexistent/ca.pem: cannot read") == 0);
  auto junk = gt::BeastTransport::create({.cacert_file = TestPki::get().empty_file->path()});
  REQUIRE_FALSE(junk);
  CHECK(junk.error().message.find("no PEM certificate") != std::string::npos);
}

TEST_CASE("connection refused is reported as such, with nothing written") {
  auto t = transport();
  gt::HttpRequest r;
  r.method = "POST";
  r.host = "127.0.0.1";
  r.port = gt::test::closed_port();
  const auto o = send(*t, r);
  REQUIRE_FALSE(o.ok);
  CHECK(o.error.failure == TransportFailure::kConnectRefused);
  CHECK_FALSE(o.error.request_bytes_written);
  CHECK(o.error.message.find("connection refused") == 0);
}

TEST_CASE("server faults: what was written and what was received") {
  struct Case {
    const char* name;
    Fault fault;
    TransportFailure failure;
    bool written;
    std::size_t created;  // threads the server created
    int status;           // status line seen before the failure
  };
  const Case cases[] = {
      {"drop on accept",
       {.kind = FaultKind::kDropOnAccept},
       TransportFailure::kConnectionLost,
       false,
       0,
       0},
      {"drop after read",
       {.kind = FaultKind::kDropAfterRead},
       TransportFailure::kConnectionLost,
       true,
       1,
       0},
      {"truncated body",
       {.kind = FaultKind::kTruncateBody},
       TransportFailure::kConnectionLost,
       true,
       1,
       201},
      // Content-Length over the limit is refused while the header is being parsed.
      {"oversized body",
       {.kind = FaultKind::kOversizedBody, .size = 200000},
       TransportFailure::kTooLarge,
       true,
       1,
       0},
      {"oversized header",
       {.kind = FaultKind::kOversizedHeader, .size = 40000},
       TransportFailure::kTooLarge,
       true,
       1,
       0},
      {"stall after read", {.kind = FaultKind::kStall}, TransportFailure::kTimeout, true, 0, 0},
      {"stall in handshake",
       {.kind = FaultKind::kStallHandshake},
       TransportFailure::kTimeout,
       false,
       0,
       0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LiveServer s;
    s.faults.push(c.fault);
    auto t = transport(TestPki::get().ca_file->path(),
                       {.max_header_bytes = 16 * 1024, .max_body_bytes = 64 * 1024});
    const auto o = send(*t, create_request(s), 1500ms);
    REQUIRE_FALSE(o.ok);
    CHECK(o.error.failure == c.failure);
    CHECK(o.error.request_bytes_written == c.written);
    CHECK(o.error.status == c.status);
    CHECK(s.service.threads().size() == c.created);
    CHECK_FALSE(o.error.message.empty());
  }
}

TEST_CASE("a broken connection is never reused") {
  LiveServer s;
  auto t = transport();
  REQUIRE(send(*t, create_request(s)).ok);
  s.faults.push({.kind = FaultKind::kTruncateBody});
  REQUIRE_FALSE(send(*t, create_request(s)).ok);
  REQUIRE(send(*t, create_request(s)).ok);
  CHECK(t->connections_opened() == 2);
}

TEST_CASE("a connection the server said it would close is not reused") {
  LiveServer s;
  auto t = transport();
  auto close_after = create_request(s);
  close_after.headers.push_back({"Connection", "close"});
  REQUIRE(send(*t, close_after).ok);
  const auto o = send(*t, create_request(s));
  CHECK_MESSAGE(o.ok, o.error.message);
  CHECK(t->connections_opened() == 2);
}

TEST_CASE("status faults arrive as responses, Retry-After included") {
  LiveServer s;
  s.faults.push({.kind = FaultKind::kStatus, .status = 429, .retry_after = "2.5"});
  auto t = transport();
  const auto o = send(*t, create_request(s));
  REQUIRE(o.ok);
  CHECK(o.response.status == 429);
  CHECK(o.response.header("Retry-After") == "2.5");
  CHECK(o.response.body.find("\"error\"") != std::string::npos);
  CHECK(s.service.threads().empty());
}

TEST_CASE("plain HTTP works to loopback and is refused elsewhere") {
  LiveServer s({.cert = std::nullopt});
  auto t = transport();
  const auto o = send(*t, create_request(s, "127.0.0.1", "http"));
  REQUIRE_MESSAGE(o.ok, o.error.message);
  CHECK(o.response.status == 201);

  gt::HttpRequest remote = create_request(s, "192.0.2.1", "http");
  const auto r = send(*t, remote);
  REQUIRE_FALSE(r.ok);
  CHECK(r.error.failure == TransportFailure::kLocal);
  CHECK_FALSE(r.error.request_bytes_written);
}

TEST_CASE("SIGINT during an exchange stops it and reports what was sent") {
  LiveServer s;
  s.faults.push({.kind = FaultKind::kStall});
  auto t = transport();
  std::thread ctrl_c([] {
    std::this_thread::sleep_for(300ms);
    gt::request_interrupt();
  });
  const auto o = send(*t, create_request(s), 20s);
  ctrl_c.join();
  gt::clear_interrupt();
  REQUIRE_FALSE(o.ok);
  CHECK(o.error.failure == TransportFailure::kInterrupted);
  CHECK(o.error.request_bytes_written);
}
