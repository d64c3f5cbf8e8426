// End-to-end tests: the real graph-threads binary against the emulator's server over loopback TLS
// (CA generated at test time). Each case asserts on the exit code, stdout, stderr and on what the
// server received and created.
#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "emulator/server.hpp"
#include "support/jwt.hpp"
#include "support/live_server.hpp"
#include "support/net.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_file.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::test::TestPki;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

using Emulator = gt::test::LiveServer;

// graph-threads create against `e`, trusting the test CA, with a token, plus `extra` flags.
std::vector<std::string> cli(const Emulator& e, std::vector<std::string> extra,
                             bool with_cacert = true) {
  std::vector<std::string> argv = {GT_CLI_PATH, "create",    "--base-url", e.server.url(),
                                   "--token",   "e2e-token", "--group",    kGroup};
  if (with_cacert) {
    argv.push_back("--cacert");
    argv.push_back(TestPki::get().ca_file->path());
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<std::string> basic(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--topic", "Maintenance", "--body", "Tonight"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

gt::test::ProcessResult run(const std::vector<std::string>& argv, const std::string& in = {},
                            const gt::test::EnvChanges& env = {}) {
  auto r = gt::test::run_process(argv, in, env, 60s);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("e2e: create prints the thread as JSON when piped, as an id or as a table") {
  Emulator e;
  auto json = run(cli(e, basic()));
  CHECK(json.exit_code == 0);
  CHECK(json.err.empty());
  const auto stored = e.service.threads();
  REQUIRE(stored.size() == 1);
  CHECK(json.out == stored[0].json + "\n");

  auto id = run(cli(e, basic({"-o", "id"})));
  CHECK(id.exit_code == 0);
  CHECK(id.out == e.service.threads()[1].id + "\n");

  auto table = run(cli(e, basic({"-o", "table"})));
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("ID", 0) == 0);
  CHECK(contains(table.out, e.service.threads()[2].id));
  CHECK(contains(table.out, "Maintenance"));

  // What went over the wire is what the documentation promises.
  const auto got = e.server.received();
  REQUIRE(got.size() == 3);
  CHECK(got[0].target == std::string("/v1.0/groups/") + kGroup + "/threads");
  CHECK(got[0].header("Authorization") == "Bearer e2e-token");
  CHECK(got[0].header("Content-Type") == "application/json");
  CHECK(got[0].header("Accept") == "application/json");
  CHECK(got[0].header("User-Agent") == std::string("graph-threads/") + GT_VERSION);
  CHECK(got[0].header("client-request-id").size() == 36);
  CHECK(got[0].header("client-request-id") != got[1].header("client-request-id"));
  CHECK(got[0].body ==
        R"({"topic":"Maintenance","posts":[{"body":{"contentType":"text","content":"Tonight"}}]})");
}

TEST_CASE("e2e: a thread piped in as JSON, and fed back from a previous output") {
  Emulator e;
  auto first = run(
      cli(e, {"--input", "-"}),
      R"({"topic":"Piped","posts":[{"body":{"contentType":"html","content":"<b>hi</b>"}}],"toRecipients":[{"emailAddress":{"address":"ops@contoso.example"}}]})");
  REQUIRE(first.exit_code == 0);
  CHECK(contains(e.server.received()[0].body, "\"toRecipients\""));
  // The printed thread can be fed back: service-computed properties are dropped with a warning.
  gt::test::TempFile printed(first.out, ".json");
  auto again = run(cli(e, {"--input", printed.path(), "--body", "again"}));
  CHECK(again.exit_code == 0);
  CHECK(contains(again.err, "warning: ignoring properties"));
  CHECK(contains(again.err, "lastDeliveredDateTime"));
  CHECK(e.service.threads().size() == 2);
}

TEST_CASE("e2e: --api-version beta and an id that tries to escape its path segment") {
  Emulator e;
  auto beta = run(cli(e, basic({"--api-version", "beta"})));
  CHECK(beta.exit_code == 0);
  CHECK(e.server.received()[0].target.rfind("/beta/groups/", 0) == 0);

  auto argv = cli(e, basic());
  argv[7] = "../../users/x?y#z";
  auto escape = run(argv);
  CHECK(escape.exit_code == 1);  // the emulator, like Graph, rejects a non-GUID id
  CHECK(e.server.received()[1].target == "/v1.0/groups/..%2F..%2Fusers%2Fx%3Fy%23z/threads");
  CHECK(e.service.threads().size() == 1);
}

TEST_CASE("e2e: certificate failures exit 4 and say which check failed") {
  const auto& pki = TestPki::get();
  struct Case {
    const char* name;
    gt::emulator::CertificatePem cert;
    bool cacert;
    const char* fragment;
  };
  const Case cases[] = {
      {"CA not given", pki.server, false, "not trusted"},
      {"untrusted issuer", pki.untrusted, true, "not trusted"},
      {"expired", pki.expired, true, "expired"},
      {"wrong host", pki.wrong_host, true, "not valid for 127.0.0.1"},
      {"self-signed", pki.self_signed, true, "self-signed"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Emulator e({.cert = c.cert});
    auto r = run(cli(e, basic(), c.cacert));
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, c.fragment));
    CHECK(contains(r.err, "nothing was sent"));
    CHECK(r.out.empty());
    CHECK(e.server.received().empty());
  }
}

TEST_CASE("e2e: SSL_CERT_FILE works in place of --cacert") {
  Emulator e;
  auto r = run(cli(e, basic(), false), {}, {{"SSL_CERT_FILE", TestPki::get().ca_file->path()}});
  CHECK(r.exit_code == 0);
}

TEST_CASE(
    "e2e: a hashed certificate directory (SSL_CERT_DIR) is the trust store, looked up lazily") {
  // The system store is read this way when SSL_CERT_FILE is not set: only the issuer a chain
  // needs is loaded, by its subject-name hash.
  Emulator e;
  gt::test::TempDir dir;
  auto hash = gt::test::run_process(
      {"/usr/bin/openssl", "x509", "-hash", "-noout", "-in", TestPki::get().ca_file->path()});
  REQUIRE(hash.exit_code == 0);
  const std::string link = dir.path.string() + "/" + hash.out.substr(0, 8) + ".0";
  std::filesystem::copy_file(TestPki::get().ca_file->path(), link);
  auto ok = run(cli(e, basic(), false), {}, {{"SSL_CERT_DIR", dir.path.string()}});
  CHECK(ok.exit_code == 0);
  // Without the link the same directory trusts nothing: the lookup really is what trusted it.
  std::filesystem::rename(link, dir.path.string() + "/" + hash.out.substr(0, 8) + ".pem.bak");
  std::filesystem::copy_file(TestPki::get().ca_file->path(), dir.path.string() + "/00000000.0");
  auto refused = run(cli(e, basic(), false), {}, {{"SSL_CERT_DIR", dir.path.string()}});
  CHECK(refused.exit_code == 4);
}

TEST_CASE("e2e: connection refused exits 4 after retrying") {
  auto r = run({GT_CLI_PATH, "create", "--base-url",
                "https://127.0.0.1:" + std::to_string(gt::test::closed_port()), "--token", "t",
                "--group", kGroup, "--topic", "T", "--body", "B", "--retries", "1", "-v"});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "connection refused"));
  CHECK(contains(r.err, "attempt 2/2"));
}

TEST_CASE("e2e: a host name that does not resolve exits 4 and says so") {
  // A 70-character label cannot be put in a DNS query, so the resolver fails locally: the test
  // never depends on (or reaches) a DNS server.
  const std::string host = std::string(70, 'a') + ".example";
  auto r = run({GT_CLI_PATH, "create", "--base-url", "https://" + host, "--token", "t", "--group",
                kGroup, "--topic", "T", "--body", "B"});
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "could not resolve " + host));
  CHECK(contains(r.err, "nothing was sent"));
}

TEST_CASE("e2e: throttling is retried after Retry-After and creates exactly one thread") {
  Emulator e;
  e.faults.push({.kind = FaultKind::kStatus, .status = 429, .retry_after = "1"});
  e.faults.push({.kind = FaultKind::kStatus, .status = 503, .retry_after = "0.2"});
  auto r = run(cli(e, basic({"-v"})));
  CHECK(r.exit_code == 0);
  CHECK(e.server.received().size() == 3);
  CHECK(e.service.threads().size() == 1);
  CHECK(contains(r.err, "< 429"));
  CHECK(contains(r.err, "retry in 1 s (Retry-After 1 s)"));
  CHECK(contains(r.err, "< 503"));
  CHECK(contains(r.err, "< 201"));
  CHECK_FALSE(contains(r.err, "e2e-token"));
}

TEST_CASE("e2e: throttling beyond --retries exits 1 with Graph's details") {
  Emulator e;
  for (int i = 0; i < 2; ++i) {
    e.faults.push({.kind = FaultKind::kStatus, .status = 503, .retry_after = "0"});
  }
  auto r = run(cli(e, basic({"--retries", "1"})));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "503"));
  CHECK(contains(r.err, "after 2 attempts"));
  CHECK(contains(r.err, "request-id"));
  CHECK(contains(r.err, "client-request-id"));
  CHECK(e.service.threads().empty());
}

TEST_CASE("e2e: a 504 on a create is outcome unknown and not re-sent") {
  Emulator e;
  e.faults.push({.kind = FaultKind::kStatus, .status = 504, .retry_after = "0"});
  auto r = run(cli(e, basic()));
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "outcome unknown"));
  CHECK(e.server.received().size() == 1);
}

TEST_CASE("e2e: a connection dropped before the request was read is retried") {
  Emulator e;
  e.faults.push({.kind = FaultKind::kDropOnAccept});
  auto r = run(cli(e, basic({"-o", "id"})));
  CHECK(r.exit_code == 0);
  REQUIRE(e.service.threads().size() == 1);
  CHECK(r.out == e.service.threads()[0].id + "\n");
  CHECK(e.server.connections_accepted() == 2);
}

TEST_CASE("e2e: a request written without a complete answer is 'outcome unknown', never re-sent") {
  struct Case {
    const char* name;
    Fault fault;
    std::size_t created;
  };
  const Case cases[] = {
      {"dropped after read", {.kind = FaultKind::kDropAfterRead}, 1},
      {"truncated body", {.kind = FaultKind::kTruncateBody}, 1},
      {"oversized body", {.kind = FaultKind::kOversizedBody, .size = 20 * 1024 * 1024}, 1},
      {"stalled", {.kind = FaultKind::kStall}, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Emulator e;
    e.faults.push(c.fault);
    auto r = run(cli(e, basic({"--timeout", "2"})));
    CHECK(r.exit_code == 5);
    CHECK(contains(r.err, "outcome unknown"));
    CHECK(contains(r.err, "client-request-id"));
    CHECK(r.out.empty());
    CHECK(e.server.received().size() == 1);
    CHECK(e.service.threads().size() == c.created);
  }
}

TEST_CASE("e2e: a TLS handshake that never completes times out with exit 4") {
  Emulator e;
  for (int i = 0; i < 4; ++i) e.faults.push({.kind = FaultKind::kStallHandshake});
  auto r = run(cli(e, basic({"--timeout", "1.5"})));
  CHECK(r.exit_code == 4);
  CHECK(contains(r.err, "timed out"));
  CHECK(e.server.received().empty());
}

TEST_CASE("e2e: authentication failures exit 3 and say what to do") {
  {
    Emulator e({.service = {.accepted_token = "the-right-token"}});
    auto r = run(cli(e, basic()));
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "401"));
    CHECK(contains(r.err, "hint:"));
  }
  {
    Emulator e;
    e.faults.push({.kind = FaultKind::kStatus, .status = 403, .code = "ErrorAccessDenied"});
    auto r = run(cli(e, basic()));
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "ErrorAccessDenied"));
    CHECK(contains(r.err, "Group-Conversation.ReadWrite.All"));
  }
  {
    Emulator e;
    auto argv = cli(e, basic());
    argv[5] = gt::test::make_jwt(
        R"({"roles":["Group.ReadWrite.All"],"aud":"https://graph.microsoft.com"})");
    auto r = run(argv);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "app-only"));
    CHECK(e.server.received().empty());
  }
  {
    Emulator e;
    auto argv = cli(e, basic());
    argv.erase(argv.begin() + 4, argv.begin() + 6);  // no --token
    auto r = run(argv);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "no access token"));
    CHECK(e.server.received().empty());
  }
}

TEST_CASE("e2e: Graph errors exit 1 with status, code, message and ids") {
  Emulator e({.service = {.groups = {"11111111-1111-1111-1111-111111111111"}}});
  auto r = run(cli(e, basic()));
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "404"));
  CHECK(contains(r.err, "request-id"));
  CHECK(contains(r.err, "client-request-id"));
  CHECK(contains(r.err, "date"));
  CHECK(contains(r.err, "check --group"));
}

TEST_CASE("e2e: usage errors exit 2 and send nothing") {
  Emulator e;
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--body", "no topic"},
           {"--topic", "T", "--body", "B", "--content-type", "markdown"},
           {"--topic", "T", "--body", "B", "--to", "not-an-address"},
           {"--topic", "T", "--body", "B", "--bogus"}}) {
    CAPTURE(extra[1]);
    auto r = run(cli(e, extra));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
  }
  CHECK(e.server.received().empty());
}

TEST_CASE("e2e: --dry-run sends nothing and redacts the token") {
  Emulator e;
  auto r = run(cli(e, basic({"--dry-run"})));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "POST " + e.server.url() + "/v1.0/groups/"));
  CHECK(contains(r.out, "Authorization: Bearer [redacted]"));
  CHECK_FALSE(contains(r.out, "e2e-token"));
  CHECK(e.server.received().empty());
  CHECK(e.server.connections_accepted() == 0);
}

TEST_CASE("e2e: plain http is allowed to a loopback server") {
  Emulator e({.cert = std::nullopt});
  auto r = run(cli(e, basic(), false));
  CHECK(r.exit_code == 0);
  CHECK(e.service.threads().size() == 1);
}

TEST_CASE("e2e: Ctrl-C after the request was sent exits 130 and says the outcome is unknown") {
  Emulator e;
  e.faults.push({.kind = FaultKind::kStall});
  gt::test::BackgroundProcess p(cli(e, basic()));
  REQUIRE(p.started());
  // Wait until the server has the request, then interrupt.
  for (int i = 0; i < 200 && e.server.received().empty(); ++i) std::this_thread::sleep_for(20ms);
  REQUIRE(e.server.received().size() == 1);
  p.send_signal(SIGINT);
  const auto code = p.wait(10s);
  REQUIRE(code);
  CHECK(*code == 130);
  CHECK(contains(p.stderr_text(), "outcome unknown"));
}

TEST_CASE("e2e: --version and --help") {
  auto v = run({GT_CLI_PATH, "--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out == std::string("graph-threads ") + GT_VERSION + "\n");
  auto h = run({GT_CLI_PATH, "create", "--help"});
  CHECK(h.exit_code == 0);
  CHECK(contains(h.out, "--group"));
}

TEST_CASE("e2e: create --if-not-exists finds the thread on a later page and creates nothing") {
  Emulator e;
  // 12 threads: the default page size is 10, so the first one ends up on the second page.
  auto first = run(cli(e, basic({"-o", "id"})));
  REQUIRE(first.exit_code == 0);
  for (int i = 0; i < 11; ++i) {
    REQUIRE(run(cli(e, {"--topic", "Other " + std::to_string(i), "--body", "x"})).exit_code == 0);
  }
  auto again = run(cli(e, basic({"--if-not-exists", "-o", "id"})));
  CHECK(again.exit_code == 0);
  CHECK(again.out == first.out);
  CHECK(contains(again.err, "not created: thread " + first.out.substr(0, first.out.size() - 1)));
  CHECK(contains(again.err, "page 2"));
  CHECK(e.service.threads().size() == 12);

  auto fresh = run(cli(e, {"--topic", "New topic", "--body", "x", "--if-not-exists", "-o", "id"}));
  CHECK(fresh.exit_code == 0);
  CHECK(fresh.err.empty());
  REQUIRE(e.service.threads().size() == 13);
  CHECK(fresh.out == e.service.threads()[12].id + "\n");
}
