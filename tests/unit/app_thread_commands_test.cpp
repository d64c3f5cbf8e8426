// App-level tests of get, reply, lock, unlock and delete: argv -> recorded requests ->
// stdout/stderr/exit code, with FakeTransport and FakeClock (no sockets, no sleeping).
#include <doctest/doctest.h>

#include "support/app_harness.hpp"
#include "support/jwt.hpp"

using gt::test::AppHarness;
using std::chrono::milliseconds;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
// Graph's thread ids are base64: '/', '+' and '=' must stay inside one path segment.
constexpr const char* kThread = "AAQkAD/x+y==";
const std::string kThreadPath =
    std::string("/v1.0/groups/") + kGroup + "/threads/AAQkAD%2Fx%2By%3D%3D";
constexpr const char* kThreadJson =
    R"({"id":"AAQkAD/x+y==","topic":"Hello","isLocked":false,"preview":"p"})";
constexpr const char* kNotFound =
    R"({"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store."}})";

std::vector<std::string> args(const std::string& command, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {command, "--group", kGroup, kThread, "--token", "tok"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("get sends GET for the encoded thread id and prints the thread") {
  AppHarness h;
  h.transport.respond(200, kThreadJson);
  CHECK(h.run(args("get")) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  const auto& r = h.transport.requests[0];
  CHECK(r.method == "GET");
  CHECK(r.target == kThreadPath);
  CHECK(r.body.empty());
  CHECK(r.header("Authorization") == "Bearer tok");
  CHECK(r.header("Accept") == "application/json");
  CHECK(r.header("client-request-id") == "crid-1");
  CHECK(h.out.str() == std::string(kThreadJson) + "\n");
}

TEST_CASE("get -o id prints the id, -o table a row") {
  AppHarness id;
  id.transport.respond(200, kThreadJson);
  CHECK(id.run(args("get", {"-o", "id"})) == 0);
  CHECK(id.out.str() == std::string(kThread) + "\n");

  AppHarness table;
  table.transport.respond(200, kThreadJson);
  CHECK(table.run(args("get", {"-o", "table"})) == 0);
  CHECK(table.out.str().rfind("ID", 0) == 0);
  CHECK(table.out.str().find("Hello") != std::string::npos);
}

TEST_CASE("get retries a 404 (Graph catching up after a create) without sleeping for real") {
  AppHarness h;
  h.transport.respond(404, kNotFound).respond(200, kThreadJson);
  CHECK(h.run(args("get", {"-o", "id"})) == 0);
  CHECK(h.transport.requests.size() == 2);
  CHECK(h.clock.sleeps == std::vector<milliseconds>{milliseconds(1000)});
  CHECK(h.out.str() == std::string(kThread) + "\n");
}

TEST_CASE("get: a 404 that stays is exit 1 after 3 retries over 5 s, with a hint about the id") {
  AppHarness h;
  for (int i = 0; i < 4; ++i) h.transport.respond(404, kNotFound);
  CHECK(h.run(args("get")) == 1);
  CHECK(h.transport.requests.size() == 4);
  CHECK(h.clock.sleeps ==
        std::vector<milliseconds>{milliseconds(1000), milliseconds(1500), milliseconds(2500)});
  CHECK(h.out.str().empty());
  CHECK(h.err.str().find("404") != std::string::npos);
  CHECK(h.err.str().find("thread id may be wrong") != std::string::npos);
}

TEST_CASE("--retries 0 sends one request: no 404 retries either, and -v counts 1/1") {
  AppHarness h;
  h.transport.respond(404, kNotFound).respond(200, kThreadJson);
  CHECK(h.run(args("get", {"--retries", "0", "-v"})) == 1);
  CHECK(h.transport.requests.size() == 1);
  CHECK(h.clock.sleeps.empty());
  CHECK(h.err.str().find("attempt 1/1") != std::string::npos);
  CHECK(h.err.str().find("after retrying") == std::string::npos);
  CHECK(h.err.str().find("thread id may be wrong") != std::string::npos);

  AppHarness retried;  // with retries, -v's bound includes the 404 retries: never "5/4"
  for (int i = 0; i < 4; ++i) retried.transport.respond(404, kNotFound);
  CHECK(retried.run(args("get", {"-v"})) == 1);
  CHECK(retried.err.str().find("attempt 4/7") != std::string::npos);
}

TEST_CASE("get and lock accept app-only tokens") {
  AppHarness get;
  get.env.set("GRAPH_TOKEN", gt::test::make_jwt(R"({"roles":["Group.Read.All"]})"));
  get.transport.respond(200, kThreadJson);
  CHECK(get.run({"get", "--group", kGroup, kThread}) == 0);

  AppHarness lock;
  lock.env.set("GRAPH_TOKEN", gt::test::make_jwt(R"({"roles":["Group.ReadWrite.All"]})"));
  lock.transport.respond(200, "{}");
  CHECK(lock.run({"lock", "--group", kGroup, kThread}) == 0);
}

TEST_CASE("reply POSTs {post:{body}} to .../reply and prints nothing") {
  AppHarness h;
  h.transport.respond(202);
  CHECK(h.run(args("reply", {"--body", "Thanks <b>all</b>", "--content-type", "html"})) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  const auto& r = h.transport.requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == kThreadPath + "/reply");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Authorization") == "Bearer tok");
  CHECK(r.body == R"({"post":{"body":{"contentType":"html","content":"Thanks <b>all</b>"}}})");
  CHECK(h.out.str().empty());
}

TEST_CASE("reply reads --body-file - from stdin, text is the default content type") {
  AppHarness h;
  h.in.str("line 1\nline 2\n");
  h.transport.respond(202);
  CHECK(h.run(args("reply", {"--body-file", "-", "-o", "json"})) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(h.transport.requests[0].body ==
        R"({"post":{"body":{"contentType":"text","content":"line 1\nline 2\n"}}})");
  // Graph's 202 has no body; -o json prints what was done.
  CHECK(h.out.str() == std::string(R"({"id":")") + kThread + R"(","group":")" + kGroup +
                           R"(","action":"replied"})" + "\n");
}

TEST_CASE("reply refuses an app-only token before sending anything") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", gt::test::make_jwt(R"({"roles":["Group.ReadWrite.All"]})"));
  CHECK(h.run({"reply", "--group", kGroup, kThread, "--body", "B"}) == 3);
  CHECK(h.err.str().find("app-only") != std::string::npos);
  CHECK(h.transport.requests.empty());
}

TEST_CASE("reply is never re-sent after bytes were written, and a 504 is outcome unknown") {
  AppHarness lost;
  lost.transport.fail(gt::TransportFailure::kConnectionLost, true, "connection reset");
  CHECK(lost.run(args("reply", {"--body", "B"})) == 5);
  CHECK(lost.transport.requests.size() == 1);

  AppHarness gateway;
  gateway.transport.respond(504);
  CHECK(gateway.run(args("reply", {"--body", "B"})) == 5);
  CHECK(gateway.transport.requests.size() == 1);
  CHECK(gateway.err.str().find("outcome unknown") != std::string::npos);
}

TEST_CASE("reply retries a 404 (nothing was posted) and a 503") {
  AppHarness h;
  h.transport.respond(404, kNotFound).respond(503).respond(202);
  CHECK(h.run(args("reply", {"--body", "B"})) == 0);
  CHECK(h.transport.requests.size() == 3);
}

TEST_CASE("reply usage errors exit 2 and send nothing") {
  for (const auto& a : std::vector<std::vector<std::string>>{
           args("reply"),
           args("reply", {"--body", ""}),
           args("reply", {"--body", "a", "--body-file", "f"}),
           args("reply", {"--body", "a", "--content-type", "markdown"}),
           {"reply", "--group", kGroup, "--body", "B", "--token", "t"},
       }) {
    AppHarness h;
    CHECK(h.run(a) == 2);
    CHECK(h.transports_made == 0);
  }
}

TEST_CASE("lock and unlock PATCH isLocked, -o id prints the id, otherwise nothing") {
  for (const bool lock : {true, false}) {
    AppHarness h;
    h.transport.respond(200, "{}");
    CHECK(h.run(args(lock ? "lock" : "unlock")) == 0);
    REQUIRE(h.transport.requests.size() == 1);
    const auto& r = h.transport.requests[0];
    CHECK(r.method == "PATCH");
    CHECK(r.target == kThreadPath);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.body == (lock ? R"({"isLocked":true})" : R"({"isLocked":false})"));
    CHECK(h.out.str().empty());
  }
  AppHarness id;
  id.transport.respond(200, "{}");
  CHECK(id.run(args("lock", {"-o", "id"})) == 0);
  CHECK(id.out.str() == std::string(kThread) + "\n");
}

TEST_CASE("lock is idempotent: a lost answer and a 504 are retried") {
  AppHarness h;
  h.transport.fail(gt::TransportFailure::kConnectionLost, true, "reset")
      .respond(504)
      .respond(200, "{}");
  CHECK(h.run(args("lock")) == 0);
  CHECK(h.transport.requests.size() == 3);
}

TEST_CASE("delete --yes sends DELETE and prints nothing") {
  AppHarness h;
  h.transport.respond(204);
  CHECK(h.run(args("delete", {"--yes"})) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(h.transport.requests[0].method == "DELETE");
  CHECK(h.transport.requests[0].target == kThreadPath);
  CHECK(h.transport.requests[0].body.empty());
  CHECK(h.out.str().empty());
}

TEST_CASE("delete without --yes when stdin is not a terminal refuses and sends nothing") {
  AppHarness h;
  h.err_is_tty = true;
  CHECK(h.run(args("delete")) == 2);
  CHECK(h.transports_made == 0);
  CHECK(h.err.str().find("--yes") != std::string::npos);
}

TEST_CASE("delete on a terminal asks, only y/yes deletes") {
  struct Case {
    const char* answer;
    int code;
  };
  for (const Case c : {Case{"n\n", 2}, Case{"\n", 2}, Case{"", 2}, Case{"nope\n", 2},
                       Case{"y\n", 0}, Case{"YES\n", 0}}) {
    CAPTURE(c.answer);
    AppHarness h;
    h.in_is_tty = true;
    h.err_is_tty = true;
    h.in.str(c.answer);
    h.transport.respond(204);
    CHECK(h.run(args("delete")) == c.code);
    CHECK(h.err.str().find(std::string("Delete thread ") + kThread + " in group " + kGroup +
                           "? [y/N]") != std::string::npos);
    CHECK(h.transport.requests.size() == (c.code == 0 ? 1u : 0u));
  }
}

TEST_CASE("delete: a 404 after a lost answer counts as deleted, a first 404 does not") {
  AppHarness lost;
  lost.transport.fail(gt::TransportFailure::kConnectionLost, true, "reset").respond(404, kNotFound);
  CHECK(lost.run(args("delete", {"--yes"})) == 0);
  CHECK(lost.transport.requests.size() == 2);
  CHECK(lost.err.str().find("taking it as deleted") != std::string::npos);

  AppHarness gateway;
  gateway.transport.respond(504).respond(404, kNotFound);
  CHECK(gateway.run(args("delete", {"--yes"})) == 0);

  AppHarness first;
  first.transport.respond(404, kNotFound);
  CHECK(first.run(args("delete", {"--yes"})) == 1);
  CHECK(first.transport.requests.size() == 1);  // no 404 retries for delete
  CHECK(first.err.str().find("thread id may be wrong") != std::string::npos);

  AppHarness throttled;  // a 503 did nothing, so the later 404 is about the id
  throttled.transport.respond(503).respond(404, kNotFound);
  CHECK(throttled.run(args("delete", {"--yes"})) == 1);
}

TEST_CASE("--dry-run prints each request and sends nothing, delete does not ask") {
  AppHarness h;
  h.in_is_tty = true;
  h.err_is_tty = true;
  CHECK(h.run(args("delete", {"--dry-run"})) == 0);
  CHECK(h.transports_made == 0);
  CHECK(h.out.str().rfind("DELETE https://graph.microsoft.com" + kThreadPath + " HTTP/1.1\n", 0) ==
        0);
  CHECK(h.err.str().find("[y/N]") == std::string::npos);

  AppHarness reply;
  CHECK(reply.run(args("reply", {"--body", "B", "--dry-run"})) == 0);
  CHECK(reply.transports_made == 0);
  CHECK(reply.out.str().find(R"({"post":{"body":{"contentType":"text","content":"B"}}})") !=
        std::string::npos);
}

TEST_CASE("global flags work after the thread commands, a missing command lists them") {
  AppHarness h;
  h.transport.respond(200, kThreadJson);
  CHECK(h.run({"get", "--group", kGroup, kThread, "--token", "tok", "-o", "id"}) == 0);
  CHECK(h.out.str() == std::string(kThread) + "\n");

  AppHarness none;
  CHECK(none.run({"--token", "t"}) == 2);
  CHECK(none.err.str().find("create, list, get, reply, lock, unlock, delete, auth or doctor") !=
        std::string::npos);
}
