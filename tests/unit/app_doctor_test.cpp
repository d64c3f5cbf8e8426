// App-level tests of `graph-threads doctor`: the order of the checks, what each failure reports,
// where the run stops and with which exit code, -o json, colour, and that no secret is printed.
// The connection probe and the transport are recording fakes (AppHarness).
#include <doctest/doctest.h>

#include <sstream>

#include "gt/json_codec.hpp"
#include "support/app_harness.hpp"
#include "support/jwt.hpp"

using gt::test::AppHarness;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
// The harness's wall clock is 2026-11-27T15:00:00Z = 1795791600.
const std::string kDelegated = gt::test::make_jwt(
    R"({"scp":"Group-Conversation.ReadWrite.All","upn":"ada@contoso.example","tid":"tenant-1",)"
    R"("exp":1795795200})");
const std::string kExpired = gt::test::make_jwt(
    R"({"scp":"Group-Conversation.ReadWrite.All","upn":"ada@contoso.example","exp":1795780000})");
const std::string kAppOnly =
    gt::test::make_jwt(R"({"roles":["Group.ReadWrite.All"],"tid":"tenant-1","exp":1795795200})");

// The line of check `name` ("pass  dns ..."), or "" when there is none.
std::string line_of(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 6 && line.compare(6, name.size() + 1, name + " ") == 0) return line;
  }
  return "";
}

std::string verdict_of(const std::string& out, const std::string& name) {
  return line_of(out, name).substr(0, 4);
}

const std::vector<std::string> kNames = {"config", "proxy", "dns",       "tcp",
                                         "tls",    "token", "graph /me", "group"};

std::vector<std::string> verdicts(const std::string& out) {
  std::vector<std::string> v;
  for (const auto& n : kNames) v.push_back(verdict_of(out, n));
  return v;
}

gt::ConnectionProbe failed_probe(bool resolved, bool connected, gt::TransportFailure failure,
                                 std::string message) {
  gt::ConnectionProbe p;
  if (resolved) p.addresses = {"192.0.2.1"};
  p.connected = connected;
  if (connected) p.endpoint = "192.0.2.1:443";
  p.tls_attempted = true;
  p.error = gt::TransportError{failure, false, 0, std::move(message), ""};
  return p;
}

}  // namespace

TEST_CASE("doctor: every check passes, in order, each on one line with its time") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.transport.respond(200, R"({"id":"u1"})", {{"request-id", "rid-me"}})
      .respond(200, R"({"value":[{"id":"t1"}]})");
  CHECK(h.run({"doctor", "--group", kGroup}) == 0);
  const std::string out = h.out.str();
  CHECK(verdicts(out) == std::vector<std::string>(8, "pass"));
  // In this order, and nothing else but the closing line.
  std::size_t at = 0;
  for (const auto& n : kNames) {
    const auto found = out.find("  " + n + " ", at);
    REQUIRE_MESSAGE(found != std::string::npos, n);
    at = found;
  }
  CHECK(out.ends_with("All checks passed.\n"));
  CHECK(line_of(out, "dns").find("3 ms  graph.microsoft.com:443 -> 192.0.2.1") !=
        std::string::npos);
  CHECK(line_of(out, "tcp").find("7 ms  connected to 192.0.2.1:443") != std::string::npos);
  const std::string tls = line_of(out, "tls");
  CHECK(tls.find("TLSv1.3, TLS_AES_256_GCM_SHA384") != std::string::npos);
  CHECK(tls.find("subject CN=graph.microsoft.com; issuer CN=Test Issuing CA") != std::string::npos);
  CHECK(tls.find("expires Nov 27 12:00:00 2027 GMT; verified: ok") != std::string::npos);
  const std::string token = line_of(out, "token");
  CHECK(token.find("explicit token (GRAPH_TOKEN): delegated, account ada@contoso.example, tenant "
                   "tenant-1, scopes Group-Conversation.ReadWrite.All, expires "
                   "2026-11-27T16:00:00Z (in 60 minutes)") != std::string::npos);
  const std::string config = line_of(out, "config");
  CHECK(config.find("Graph https://graph.microsoft.com (from default), API v1.0, cloud global") !=
        std::string::npos);
  CHECK(config.find("variables: GRAPH_TOKEN") != std::string::npos);
  CHECK(line_of(out, "proxy")
            .find("graph.microsoft.com: direct; login.microsoftonline.com: direct") !=
        std::string::npos);
  // The probe went to Graph's host with TLS; then GET /me and the group's threads.
  REQUIRE(h.probes.size() == 1);
  CHECK(h.probes[0].host == "graph.microsoft.com");
  CHECK(h.probes[0].port == 443);
  CHECK(h.probes[0].tls);
  REQUIRE(h.transport.requests.size() == 2);
  CHECK(h.transport.requests[0].target == "/v1.0/me");
  CHECK(h.transport.requests[1].target ==
        std::string("/v1.0/groups/") + kGroup + "/threads?$top=1");
  // Plain text in a pipe: no colour codes.
  CHECK(out.find('\033') == std::string::npos);
}

TEST_CASE("doctor: without --group the group check is skipped, not failed") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.transport.respond(200, "{}");
  CHECK(h.run({"doctor"}) == 0);
  CHECK(verdict_of(h.out.str(), "group") == "skip");
  CHECK(line_of(h.out.str(), "group").find("give --group ID") != std::string::npos);
  CHECK(h.transport.requests.size() == 1);
}

TEST_CASE("doctor: a DNS failure stops the run with exit 4, later checks are skipped") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.env.set("GRAPH_BASE_URL", "https://nonexistent.invalid");
  h.probe_answer = [](const gt::ProbeRequest&) {
    return failed_probe(false, false, gt::TransportFailure::kDns,
                        "could not resolve nonexistent.invalid: Host not found");
  };
  CHECK(h.run({"doctor", "--group", kGroup}) == 4);
  const std::string out = h.out.str();
  CHECK(verdicts(out) ==
        std::vector<std::string>{"pass", "pass", "fail", "skip", "skip", "skip", "skip", "skip"});
  CHECK(out.find("could not resolve nonexistent.invalid: Host not found") != std::string::npos);
  CHECK(out.find("hint: check the host name in --base-url") != std::string::npos);
  CHECK(line_of(out, "token").find("skipped: dns failed") != std::string::npos);
  CHECK(out.ends_with("Failed: dns (exit code 4).\n"));
  CHECK(h.transport.requests.empty());
}

TEST_CASE("doctor: connection refused fails tcp with exit 4") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.probe_answer = [](const gt::ProbeRequest&) {
    return failed_probe(true, false, gt::TransportFailure::kConnectRefused,
                        "connection refused by graph.microsoft.com:443 (nothing is listening "
                        "there)");
  };
  CHECK(h.run({"doctor"}) == 4);
  const std::string out = h.out.str();
  CHECK(verdicts(out) ==
        std::vector<std::string>{"pass", "pass", "pass", "fail", "skip", "skip", "skip", "skip"});
  CHECK(out.find("connection refused") != std::string::npos);
  CHECK(out.find("hint: nothing listens there") != std::string::npos);
}

TEST_CASE(
    "doctor: an untrusted certificate fails tls, names what was received and hints --cacert") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.probe_answer = [](const gt::ProbeRequest&) {
    auto p = failed_probe(true, true, gt::TransportFailure::kTlsUntrusted,
                          "TLS: the server's certificate is not trusted: unable to get local "
                          "issuer certificate");
    p.error->hint = "if your network inspects TLS, pass --cacert with your organisation's root CA";
    p.subject = "CN=graph.microsoft.com";
    p.issuer = "CN=Contoso Inspection CA";
    p.verify_result = "unable to get local issuer certificate";
    return p;
  };
  CHECK(h.run({"doctor", "-o", "json"}) == 4);
  const std::string out = h.out.str();
  CHECK(gt::is_complete_json(out));
  CHECK(out.find(R"("name":"tls","status":"fail")") != std::string::npos);
  CHECK(out.find(R"("issuer":"CN=Contoso Inspection CA")") != std::string::npos);
  CHECK(out.find(R"("verifyResult":"unable to get local issuer certificate")") !=
        std::string::npos);
  CHECK(out.find(R"("failure":"tls-untrusted")") != std::string::npos);
  CHECK(out.find("pass --cacert with your organisation's root CA") != std::string::npos);
  CHECK(out.find(R"("name":"token","status":"skip","ms":null)") != std::string::npos);
  CHECK(out.find(R"("exitCode":4)") != std::string::npos);

  AppHarness text;
  text.env.set("GRAPH_TOKEN", kDelegated);
  text.probe_answer = h.probe_answer;
  CHECK(text.run({"doctor"}) == 4);
  CHECK(line_of(text.out.str(), "tls")
            .find("received subject CN=graph.microsoft.com, issuer "
                  "CN=Contoso Inspection CA") != std::string::npos);
}

TEST_CASE("doctor: an expired token is a hard failure (exit 3) and nothing is sent to Graph") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kExpired);
  CHECK(h.run({"doctor", "--group", kGroup}) == 3);
  const std::string out = h.out.str();
  CHECK(verdicts(out) ==
        std::vector<std::string>{"pass", "pass", "pass", "pass", "pass", "fail", "skip", "skip"});
  CHECK(out.find("expired at 2026-11-27T11:46:40Z") != std::string::npos);
  CHECK(out.find("hint: get a fresh token") != std::string::npos);
  CHECK(h.transport.requests.empty());
}

TEST_CASE(
    "doctor: an app-only token fails for create (exit 3), skips /me, still checks the group") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kAppOnly);
  h.transport.respond(200, R"({"value":[]})");
  CHECK(h.run({"doctor", "--group", kGroup}) == 3);
  const std::string out = h.out.str();
  CHECK(verdicts(out) ==
        std::vector<std::string>{"pass", "pass", "pass", "pass", "pass", "fail", "skip", "pass"});
  // The explanation `create` gives, and what still works.
  CHECK(out.find("is an app-only token (it carries application roles and no delegated scopes); "
                 "Microsoft Graph accepts only delegated user tokens to create a thread or reply "
                 "(list, get, lock, unlock and delete work)") != std::string::npos);
  CHECK(out.find("hint: sign in as a user") != std::string::npos);
  CHECK(line_of(out, "graph /me").find("app-only token has no signed-in user") !=
        std::string::npos);
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(h.transport.requests[0].target.find("/threads?$top=1") != std::string::npos);
}

TEST_CASE("doctor: 403 and 404 for the group are explained, with their exit codes") {
  SUBCASE("403") {
    AppHarness h;
    h.env.set("GRAPH_TOKEN", kDelegated);
    h.transport.respond(200, "{}").respond(
        403, R"({"error":{"code":"ErrorAccessDenied","message":"Access is denied."}})");
    CHECK(h.run({"doctor", "--group", kGroup}) == 3);
    CHECK(verdict_of(h.out.str(), "group") == "fail");
    CHECK(h.out.str().find("members only for a private group") != std::string::npos);
  }
  SUBCASE("404") {
    AppHarness h;
    h.env.set("GRAPH_TOKEN", kDelegated);
    h.transport.respond(200, "{}").respond(
        404, R"({"error":{"code":"ErrorItemNotFound","message":"Not found."}})");
    CHECK(h.run({"doctor", "--group", kGroup}) == 1);
    CHECK(verdict_of(h.out.str(), "group") == "fail");
    CHECK(h.out.str().find("no Microsoft 365 group with this id") != std::string::npos);
  }
}

TEST_CASE("doctor: /me 401 stops the run (exit 3), /me 403 is only a warning") {
  SUBCASE("401") {
    AppHarness h;
    h.env.set("GRAPH_TOKEN", kDelegated);
    h.transport.respond(
        401, R"({"error":{"code":"InvalidAuthenticationToken","message":"Invalid audience."}})");
    CHECK(h.run({"doctor", "--group", kGroup}) == 3);
    CHECK(verdict_of(h.out.str(), "graph /me") == "fail");
    CHECK(verdict_of(h.out.str(), "group") == "skip");
    CHECK(h.transport.requests.size() == 1);
  }
  SUBCASE("403") {
    AppHarness h;
    h.env.set("GRAPH_TOKEN", kDelegated);
    h.transport.respond(403, R"({"error":{"code":"Authorization_RequestDenied"}})")
        .respond(200, R"({"value":[]})");
    CHECK(h.run({"doctor", "--group", kGroup}) == 0);
    CHECK(verdict_of(h.out.str(), "graph /me") == "warn");
    CHECK(h.out.str().find("needs User.Read") != std::string::npos);
    CHECK(verdict_of(h.out.str(), "group") == "pass");
  }
}

TEST_CASE("doctor: no token source is a token failure (exit 3)") {
  AppHarness h;
  h.env.set("GRAPH_THREADS_CONFIG_DIR", "/nonexistent/graph-threads-doctor-test");
  CHECK(h.run({"doctor"}) == 3);
  CHECK(verdict_of(h.out.str(), "token") == "fail");
  CHECK(line_of(h.out.str(), "token").find("no token source is configured") != std::string::npos);
}

TEST_CASE("doctor: unusable flags fail config with exit 2 and nothing else runs") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  CHECK(h.run({"doctor", "--base-url", "https://a.example", "--cloud", "usgov"}) == 2);
  CHECK(verdicts(h.out.str()) ==
        std::vector<std::string>{"fail", "skip", "skip", "skip", "skip", "skip", "skip", "skip"});
  CHECK(h.out.str().find("--base-url and --cloud both choose the Graph root") != std::string::npos);
  CHECK(h.probes.empty());
  CHECK(h.transports_made == 0);
}

TEST_CASE("doctor: through a proxy, dns and tcp are the proxy's, tls runs in its tunnel") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.env.set("HTTPS_PROXY", "http://alice:proxy-pass-XYZ@proxy.example:3128");
  h.transport.respond(200, "{}");
  const auto direct = h.probe_answer;
  h.probe_answer = [direct](const gt::ProbeRequest& r) {
    auto p = direct(r);
    p.proxy = "http://alice:***@proxy.example:3128";
    p.proxy_source = "HTTPS_PROXY";
    p.addresses = {"198.51.100.7"};
    p.endpoint = "198.51.100.7:3128";
    p.tunneled = true;
    p.tunnel_time = std::chrono::milliseconds(5);
    return p;
  };
  CHECK(h.run({"doctor"}) == 0);
  const std::string out = h.out.str();
  // The probe is asked for Graph's host; the transport config carries the proxy settings.
  REQUIRE(h.probes.size() == 1);
  CHECK(h.probes[0].host == "graph.microsoft.com");
  CHECK(h.probes[0].tls);
  REQUIRE(h.probe_configs.size() == 1);
  REQUIRE(h.probe_configs[0].proxy.https.proxy);
  CHECK(h.probe_configs[0].proxy.https.proxy->host == "proxy.example");
  CHECK(line_of(out, "proxy")
            .find("graph.microsoft.com: via http://alice:***@proxy.example:3128 "
                  "(HTTPS_PROXY)") != std::string::npos);
  CHECK(line_of(out, "dns").find("the proxy proxy.example:3128 (HTTPS_PROXY) -> 198.51.100.7") !=
        std::string::npos);
  CHECK(line_of(out, "tcp")
            .find("12 ms  connected to 198.51.100.7:3128 (the proxy "
                  "http://alice:***@proxy.example:3128); CONNECT "
                  "graph.microsoft.com:443: tunnel open after 5 ms") != std::string::npos);
  CHECK(line_of(out, "tls").find("through the tunnel: TLSv1.3") != std::string::npos);
  CHECK(out.find("proxy-pass-XYZ") == std::string::npos);
  CHECK(h.err.str().find("proxy-pass-XYZ") == std::string::npos);
}

TEST_CASE("doctor: a proxy that refuses the tunnel fails tcp with exit 4") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.env.set("HTTPS_PROXY", "http://proxy.example:3128");
  h.probe_answer = [](const gt::ProbeRequest&) {
    auto p = failed_probe(true, true, gt::TransportFailure::kProxyAuth,
                          "the proxy http://proxy.example:3128 (from HTTPS_PROXY) needs "
                          "credentials (407, Proxy-Authenticate: Basic realm=\"corp\")");
    p.proxy = "http://proxy.example:3128";
    p.proxy_source = "HTTPS_PROXY";
    return p;
  };
  CHECK(h.run({"doctor"}) == 4);
  const std::string out = h.out.str();
  CHECK(verdict_of(out, "tcp") == "fail");
  CHECK(line_of(out, "tcp").find("CONNECT graph.microsoft.com:443 refused") != std::string::npos);
  CHECK(out.find("needs credentials (407") != std::string::npos);
  CHECK(verdict_of(out, "tls") == "skip");
}

TEST_CASE("doctor: an unusable proxy variable fails config with exit 2, naming it") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.env.set("HTTPS_PROXY", "socks5://proxy.example:1080");
  CHECK(h.run({"doctor"}) == 2);
  CHECK(verdict_of(h.out.str(), "config") == "fail");
  CHECK(line_of(h.out.str(), "config").find("not usable") != std::string::npos);
  CHECK(h.out.str().find("HTTPS_PROXY") != std::string::npos);
  CHECK(h.probes.empty());
}

TEST_CASE("doctor -o json: one object, every check in order, details, and exit code") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", kDelegated);
  h.transport.respond(200, "{}");
  CHECK(h.run({"doctor", "-o", "json"}) == 0);
  const std::string out = h.out.str();
  CHECK(gt::is_complete_json(out));
  CHECK(out.starts_with(R"({"version":")"));
  CHECK(out.find(R"("ok":true,"exitCode":0,"checks":[{"name":"config","status":"pass","ms":0,)") !=
        std::string::npos);
  std::size_t at = 0;
  for (const auto& n : kNames) {
    const auto found = out.find("{\"name\":\"" + n + "\"", at);
    REQUIRE_MESSAGE(found != std::string::npos, n);
    at = found;
  }
  CHECK(out.find(R"("addresses":["192.0.2.1"])") != std::string::npos);
  CHECK(out.find(R"("name":"tcp","status":"pass","ms":7,)") != std::string::npos);
  CHECK(out.find(R"("kind":"delegated","account":"ada@contoso.example")") != std::string::npos);
  CHECK(out.find(R"("variables":["GRAPH_TOKEN"])") != std::string::npos);
  CHECK(out.find(R"("graph":null)") != std::string::npos);
}

TEST_CASE("doctor never prints a secret, in text or JSON, passing or failing") {
  const std::string secret_token = kDelegated;
  for (const std::string output : {"", "json"}) {
    for (const bool fail_group : {false, true}) {
      CAPTURE(output);
      CAPTURE(fail_group);
      AppHarness h;
      h.env.set("GRAPH_TOKEN", secret_token);
      h.env.set("AZURE_CLIENT_SECRET", "client-secret-XYZ");
      h.env.set("AZURE_PASSWORD", "password-XYZ");
      h.env.set("https_proxy", "http://bob:proxy-secret-XYZ@10.0.0.1:8080");
      h.transport.respond(200, "{}");
      // A server that quotes the token back must not get it printed either.
      if (fail_group) {
        h.transport.respond(403, R"({"error":{"code":"ErrorAccessDenied","message":"token )" +
                                     secret_token + R"( is not allowed"}})");
      } else {
        h.transport.respond(200, R"({"value":[]})");
      }
      std::vector<std::string> args = {"doctor", "--group", kGroup, "--debug"};
      if (!output.empty()) args.insert(args.end(), {"-o", output});
      h.run(args);
      for (const std::string& secret :
           {secret_token, std::string("client-secret-XYZ"), std::string("password-XYZ"),
            std::string("proxy-secret-XYZ")}) {
        CHECK(h.out.str().find(secret) == std::string::npos);
        CHECK(h.err.str().find(secret) == std::string::npos);
      }
      // The variables are named, though.
      CHECK(h.out.str().find("AZURE_CLIENT_SECRET") != std::string::npos);
    }
  }
}

TEST_CASE("doctor colours the verdicts only on a terminal, and not with NO_COLOR") {
  AppHarness tty;
  tty.env.set("GRAPH_TOKEN", kDelegated);
  tty.transport.respond(200, "{}");
  tty.out_is_tty = true;
  CHECK(tty.run({"doctor"}) == 0);
  CHECK(tty.out.str().starts_with("\033[32mpass\033[0m  config"));

  AppHarness no_colour;
  no_colour.env.set("GRAPH_TOKEN", kDelegated);
  no_colour.env.set("NO_COLOR", "1");
  no_colour.transport.respond(200, "{}");
  no_colour.out_is_tty = true;
  CHECK(no_colour.run({"doctor"}) == 0);
  CHECK(no_colour.out.str().find('\033') == std::string::npos);
}
