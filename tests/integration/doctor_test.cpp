// `graph-threads doctor` for real: BeastTransport::probe against TLS servers on 127.0.0.1 with the
// test CA, and the real binary against the emulator (all pass), a closed port, a name that does
// not resolve and a certificate from a CA nobody trusts. Nothing leaves the machine
// (".invalid" never resolves, RFC 6761).
#include <doctest/doctest.h>

#include "emulator/server.hpp"
#include "gt/beast_transport.hpp"
#include "gt/json_codec.hpp"
#include "support/jwt.hpp"
#include "support/live_server.hpp"
#include "support/net.hpp"
#include "support/subprocess.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::TransportFailure;
using gt::test::LiveServer;
using gt::test::TestPki;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

gt::ConnectionProbe probe(const std::string& host, std::uint16_t port, bool tls = true,
                          const std::string& cacert = TestPki::get().ca_file->path()) {
  auto t = gt::BeastTransport::create({.cacert_file = cacert});
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return (*t)->probe({.host = host, .port = port, .tls = tls, .timeout = 10s});
}

// A delegated token with `scopes`, valid for an hour (the emulator checks exp against the real
// clock).
std::string user_token(const std::string& scopes = "Group-Conversation.ReadWrite.All") {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() +
                   3600;
  return gt::test::make_jwt(R"({"scp":")" + scopes +
                            R"(","upn":"ada@contoso.example","tid":"tenant-1","exp":)" +
                            std::to_string(exp) + "}");
}

gt::test::ProcessResult doctor(const std::string& base_url, std::vector<std::string> args,
                               const std::string& token = user_token()) {
  std::vector<std::string> argv = {GT_CLI_PATH, "doctor",   "--base-url",
                                   base_url,    "--cacert", TestPki::get().ca_file->path()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = gt::test::run_process(argv, {}, {{"GRAPH_TOKEN", token}}, 60s);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("probe: resolves, connects and reports the verified TLS session") {
  LiveServer s;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    CAPTURE(host);
    const auto p = probe(host, s.server.port());
    CHECK_MESSAGE(!p.error, (p.error ? p.error->message : ""));
    CHECK(std::find(p.addresses.begin(), p.addresses.end(), "127.0.0.1") != p.addresses.end());
    CHECK(p.connected);
    CHECK(p.endpoint.ends_with(":" + std::to_string(s.server.port())));
    CHECK(p.tls_attempted);
    CHECK(p.tls_ok);
    CHECK(p.tls_version.starts_with("TLSv1."));
    CHECK_FALSE(p.cipher.empty());
    CHECK(has(p.subject, "CN="));
    CHECK(has(p.issuer, "graph-threads test CA"));
    CHECK_FALSE(p.not_after.empty());
    CHECK(p.verify_result == "ok");
  }
  // Nothing was sent over it.
  CHECK(s.server.received().empty());
}

TEST_CASE("probe: an untrusted certificate is reported with what the server presented") {
  LiveServer s({.cert = TestPki::get().untrusted});
  const auto p = probe("127.0.0.1", s.server.port());
  REQUIRE(p.error);
  CHECK(p.connected);
  CHECK_FALSE(p.tls_ok);
  CHECK(p.error->failure == TransportFailure::kTlsUntrusted);
  CHECK(has(p.issuer, "rogue CA"));
  CHECK_FALSE(p.subject.empty());
  CHECK(has(p.verify_result, "issuer"));
  CHECK(has(p.error->hint, "--cacert"));
}

TEST_CASE("probe: refused, unresolvable, and TCP only") {
  SUBCASE("refused") {
    const auto p = probe("127.0.0.1", gt::test::closed_port());
    REQUIRE(p.error);
    CHECK(p.error->failure == TransportFailure::kConnectRefused);
    CHECK(p.addresses == std::vector<std::string>{"127.0.0.1"});
    CHECK_FALSE(p.connected);
  }
  SUBCASE("unresolvable") {
    const auto p = probe("nonexistent.invalid", 443);
    REQUIRE(p.error);
    CHECK(p.error->failure == TransportFailure::kDns);
    CHECK(p.addresses.empty());
  }
  SUBCASE("TCP only") {
    LiveServer s;
    const auto p = probe("127.0.0.1", s.server.port(), false);
    CHECK_FALSE(p.error);
    CHECK(p.connected);
    CHECK_FALSE(p.tls_attempted);
    CHECK(p.tls_version.empty());
  }
}

TEST_CASE("e2e: doctor against the emulator over TLS: every check passes") {
  LiveServer s;
  auto r = doctor(s.server.url(), {"--group", kGroup});
  CHECK(r.exit_code == 0);
  for (const std::string check :
       {"config", "proxy", "dns", "tcp", "tls", "token", "graph /me", "group"}) {
    CAPTURE(check);
    CHECK(has(r.out, "pass  " + check + " "));
  }
  CHECK(has(r.out, "-> 127.0.0.1"));
  CHECK(has(r.out, "issuer CN=graph-threads test CA"));
  CHECK(has(r.out, "verified: ok"));
  CHECK(has(r.out, "account ada@contoso.example"));
  CHECK(r.out.ends_with("All checks passed.\n"));
  // GET /me and the group's threads reached the emulator; nothing was created.
  CHECK(s.server.received().size() == 2);
  CHECK(s.service.threads().empty());

  auto json = doctor(s.server.url(), {"--group", kGroup, "-o", "json"});
  CHECK(json.exit_code == 0);
  CHECK(gt::is_complete_json(json.out));
  CHECK(has(json.out, R"("ok":true,"exitCode":0)"));
  CHECK(has(json.out, R"("verifyResult":"ok")"));
  CHECK_FALSE(has(json.out, user_token().substr(0, 60)));
}

TEST_CASE("e2e: doctor with an app-only token: /me skipped, group checked, exit 3") {
  LiveServer s;
  const std::string app = gt::test::make_jwt(R"({"roles":["Group.ReadWrite.All"],"tid":"t"})");
  auto r = doctor(s.server.url(), {"--group", kGroup}, app);
  CHECK(r.exit_code == 3);
  CHECK(has(r.out, "fail  token "));
  CHECK(has(r.out, "skip  graph /me "));
  CHECK(has(r.out, "pass  group "));
}

TEST_CASE("e2e: doctor reports a 403 from Graph for the group (exit 3)") {
  LiveServer s;
  // Signed in, but with a scope that may not read conversations.
  const std::string weak = user_token("User.Read");
  auto r = doctor(s.server.url(), {"--group", kGroup}, weak);
  CHECK(r.exit_code == 3);
  CHECK(has(r.out, "fail  group "));
  CHECK(has(r.out, ": 403"));
  CHECK((has(r.out, "ErrorAccessDenied") || has(r.out, "Access is denied")));
}

TEST_CASE("e2e: doctor stops at the failing step with its exit code") {
  SUBCASE("connection refused") {
    auto r = doctor("https://127.0.0.1:" + std::to_string(gt::test::closed_port()), {});
    CHECK(r.exit_code == 4);
    CHECK(has(r.out, "pass  dns "));
    CHECK(has(r.out, "fail  tcp "));
    CHECK(has(r.out, "connection refused"));
    CHECK(has(r.out, "skip  tls "));
    CHECK(has(r.out, "skip  token "));
  }
  SUBCASE("a name that does not resolve") {
    auto r = doctor("https://nonexistent.invalid", {});
    CHECK(r.exit_code == 4);
    CHECK(has(r.out, "fail  dns "));
    CHECK(has(r.out, "could not resolve nonexistent.invalid"));
    CHECK(has(r.out, "skip  tcp "));
  }
  SUBCASE("a certificate from a CA that is not trusted") {
    LiveServer s({.cert = TestPki::get().untrusted});
    auto r = doctor(s.server.url(), {});
    CHECK(r.exit_code == 4);
    CHECK(has(r.out, "pass  tcp "));
    CHECK(has(r.out, "fail  tls "));
    CHECK(has(r.out, "issuer CN=rogue CA"));
    CHECK(has(r.out, "hint: if your network inspects TLS"));
    CHECK(has(r.out, "pass --cacert FILE with that root CA"));
    CHECK(has(r.out, "skip  token "));
    CHECK(s.server.received().empty());
  }
}
