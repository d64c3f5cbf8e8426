#include "gt/graph_client.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "gt/json_codec.hpp"
#include "support/fakes.hpp"

using namespace std::chrono_literals;
using gt::ErrorKind;
using gt::TransportFailure;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
constexpr const char* kCreated =
    R"({"@odata.context":"x","id":"AAQk+/w=","topic":"Hello","isLocked":false})";

gt::ThreadRequest hello() {
  gt::ThreadRequest t;
  t.topic = "Hello";
  gt::Post p;
  p.body = gt::ItemBody{gt::BodyType::kText, "World"};
  t.posts = std::vector<gt::Post>{p};
  return t;
}

struct Fixture {
  gt::test::FakeTransport transport;
  gt::test::FakeClock clock;
  std::ostringstream log;
  int ids = 0;
  gt::GraphClientOptions options{
      .base = *gt::parse_base_url("https://graph.microsoft.com", "test"),
      .api_version = "v1.0",
      .retry = gt::RetryPolicy{.max_retries = 3},
      .deadline = clock.now() + 60s,
      .user_agent = "graph-threads/test",
  };
  gt::GraphClient client() {
    return gt::GraphClient({.transport = transport,
                            .clock = clock,
                            .new_request_id = [this] { return "crid-" + std::to_string(++ids); },
                            .jitter = [] { return 0.5; },
                            .verbose = &log},
                           options);
  }
  gt::Result<gt::CreatedThread> create() {
    return client().create_thread(kGroup, hello(), {"tok", "--token"});
  }
};

}  // namespace

TEST_CASE("the create request carries exactly the documented method, path, headers and body") {
  Fixture f;
  const auto req = gt::create_thread_request(f.options, "a/b?c", hello(), "tok", "crid-x");
  CHECK(req.method == "POST");
  CHECK(req.scheme == "https");
  CHECK(req.host == "graph.microsoft.com");
  CHECK(req.port == 443);
  CHECK(req.target == "/v1.0/groups/a%2Fb%3Fc/threads");
  CHECK(req.header("Authorization") == "Bearer tok");
  CHECK(req.header("Content-Type") == "application/json");
  CHECK(req.header("Accept") == "application/json");
  CHECK(req.header("client-request-id") == "crid-x");
  CHECK(req.header("User-Agent") == "graph-threads/test");
  CHECK(req.body == gt::encode_thread_request(hello()));
}

TEST_CASE("every request carries its headers in one order, Content-Type only with a body") {
  Fixture f;
  const std::vector<gt::Header> with_body = {
      {"Authorization", "Bearer tok"},      {"Content-Type", "application/json"},
      {"Accept", "application/json"},       {"client-request-id", "crid-x"},
      {"User-Agent", "graph-threads/test"},
  };
  CHECK(gt::create_thread_request(f.options, "g", hello(), "tok", "crid-x").headers == with_body);
  CHECK(gt::create_thread_request_json(f.options, "g", "{}", "tok", "crid-x").headers == with_body);
  CHECK(gt::batch_request(f.options, "{}", "tok", "crid-x").headers == with_body);
  CHECK(gt::reply_request(f.options, "g", "t", gt::Post{}, "tok", "crid-x").headers == with_body);
  CHECK(gt::lock_thread_request(f.options, "g", "t", true, "tok", "crid-x").headers == with_body);
  std::vector<gt::Header> without_body = with_body;
  without_body.erase(without_body.begin() + 1);
  CHECK(gt::get_thread_request(f.options, "g", "t", "tok", "crid-x").headers == without_body);
  CHECK(gt::delete_thread_request(f.options, "g", "t", "tok", "crid-x").headers == without_body);
}

TEST_CASE("beta goes to /beta") {
  Fixture f;
  f.options.api_version = "beta";
  CHECK(gt::create_thread_request(f.options, kGroup, hello(), "t", "c").target ==
        std::string("/beta/groups/") + kGroup + "/threads");
}

TEST_CASE("201 returns the created thread, after one request with the command deadline") {
  Fixture f;
  f.transport.respond(201, kCreated, {{"request-id", "rid-1"}});
  auto r = f.create();
  REQUIRE(r);
  CHECK(r->id == "AAQk+/w=");
  CHECK(r->topic == "Hello");
  CHECK(r->raw_json == kCreated);
  REQUIRE(f.transport.requests.size() == 1);
  CHECK(f.transport.deadlines[0] == f.options.deadline);
  CHECK(f.clock.sleeps.empty());
  CHECK(f.log.str().find("< 201") != std::string::npos);
  CHECK(f.log.str().find("request-id rid-1") != std::string::npos);
  CHECK(f.log.str().find("tok") == std::string::npos);  // never the token
}

TEST_CASE("429 waits for Retry-After and retries with a fresh client-request-id") {
  Fixture f;
  f.transport
      .respond(429, R"({"error":{"code":"TooManyRequests","message":"slow down"}})",
               {{"Retry-After", "2"}})
      .respond(201, kCreated);
  auto r = f.create();
  REQUIRE(r);
  CHECK(f.clock.sleeps == std::vector<std::chrono::milliseconds>{2000ms});
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(f.transport.requests[0].header("client-request-id") == "crid-1");
  CHECK(f.transport.requests[1].header("client-request-id") == "crid-2");
  CHECK(f.transport.requests[0].body == f.transport.requests[1].body);
  CHECK(f.log.str().find("retry in 2 s (Retry-After 2 s)") != std::string::npos);
}

TEST_CASE("503 without Retry-After backs off exponentially") {
  Fixture f;
  f.transport.respond(503).respond(503).respond(201, kCreated);
  REQUIRE(f.create());
  // base 1 s * 2^(n-1) * (0.5 + 0.5/2)
  CHECK(f.clock.sleeps == std::vector<std::chrono::milliseconds>{750ms, 1500ms});
}

TEST_CASE("throttling that outlasts --retries is a Graph error with its details") {
  Fixture f;
  f.options.retry.max_retries = 2;
  for (int i = 0; i < 3; ++i) {
    f.transport.respond(
        429,
        R"({"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"request-id":"rid-9","date":"2026-11-27T15:00:00"}}})",
        {{"Retry-After", "1"}});
  }
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kGraph);
  CHECK(r.error().http_status == 429);
  CHECK(r.error().code == "TooManyRequests");
  CHECK(r.error().request_id == "rid-9");
  CHECK(r.error().client_request_id == "crid-3");
  CHECK(r.error().date == "2026-11-27T15:00:00");
  CHECK(r.error().message.find("after 3 attempts") != std::string::npos);
  CHECK(f.transport.requests.size() == 3);
}

TEST_CASE("a Retry-After beyond --timeout stops at once instead of sleeping past it") {
  Fixture f;
  f.options.deadline = f.clock.now() + 5s;
  f.transport.respond(429, {}, {{"Retry-After", "30"}});
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kGraph);
  CHECK(r.error().message.find("would pass --timeout") != std::string::npos);
  CHECK(f.clock.sleeps.empty());
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("504 on a create is 'outcome unknown' and is not re-sent") {
  Fixture f;
  f.transport.respond(504, {}, {{"Retry-After", "1"}});
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kOutcomeUnknown);
  CHECK(r.error().client_request_id == "crid-1");
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("a connection that failed before any byte was written is retried") {
  Fixture f;
  f.transport.fail(TransportFailure::kConnectRefused, false).respond(201, kCreated);
  auto r = f.create();
  REQUIRE(r);
  CHECK(f.transport.requests.size() == 2);
  CHECK(f.clock.sleeps.size() == 1);
}

TEST_CASE("a request that was written without a complete answer is never re-sent") {
  for (auto failure : {TransportFailure::kConnectionLost, TransportFailure::kTimeout,
                       TransportFailure::kTooLarge}) {
    CAPTURE(gt::failure_name(failure));
    Fixture f;
    f.transport.fail(failure, true, "connection closed").respond(201, kCreated);
    auto r = f.create();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kOutcomeUnknown);
    CHECK(r.error().message.find("outcome unknown") == 0);
    CHECK(r.error().client_request_id == "crid-1");
    CHECK(r.error().hint.find("crid-1") != std::string::npos);
    CHECK(f.transport.requests.size() == 1);
  }
}

TEST_CASE("certificate problems fail at once as network errors") {
  Fixture f;
  f.transport.fail(TransportFailure::kTlsUntrusted, false, "TLS: not trusted");
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(r.error().message.find("TLS: not trusted") == 0);
  CHECK(r.error().message.find("nothing was sent") != std::string::npos);
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("connection failures that persist end as network errors after the retries") {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.transport.fail(TransportFailure::kConnectRefused, false);
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(f.transport.requests.size() == 4);
  CHECK(r.error().message.find("after 4 attempts") != std::string::npos);
}

TEST_CASE("401 and 403 are authentication errors, other statuses are Graph errors") {
  struct Case {
    int status;
    ErrorKind kind;
    const char* hint_fragment;
  };
  const Case cases[] = {
      {401, ErrorKind::kAuth, "fresh delegated token"},
      {403, ErrorKind::kAuth, "Group-Conversation.ReadWrite.All"},
      {404, ErrorKind::kGraph, "check --group"},
      {400, ErrorKind::kGraph, ""},
      {500, ErrorKind::kGraph, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    Fixture f;
    f.transport.respond(
        c.status,
        R"({"error":{"code":"ErrorX","message":"Something.","innerError":{"request-id":"rid","client-request-id":"crid-1","date":"d"}}})",
        {{"request-id", "hdr-rid"}});
    auto r = f.create();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == c.kind);
    CHECK(r.error().http_status == c.status);
    CHECK(r.error().code == "ErrorX");
    CHECK(r.error().request_id == "rid");
    CHECK(r.error().message.find("ErrorX: Something.") != std::string::npos);
    CHECK(r.error().hint.find(c.hint_fragment) != std::string::npos);
    CHECK(f.transport.requests.size() == 1);
  }
}

TEST_CASE("a redirect is not followed: one request, a Graph error naming where it pointed") {
  for (const int status : {301, 302, 307, 308}) {
    CAPTURE(status);
    Fixture f;
    f.transport.respond(status, "",
                        {{"Location", "https://elsewhere.example/v1.0/groups/g/threads\r\nX: y"}});
    auto r = f.create();
    REQUIRE_FALSE(r.ok());
    CHECK(f.transport.requests.size() == 1);
    CHECK(r.error().kind == gt::ErrorKind::kGraph);
    CHECK(r.error().http_status == status);
    CHECK(r.error().hint.find("redirects are never followed") != std::string::npos);
    CHECK(r.error().hint.find("Location: https://elsewhere.example/v1.0/groups/g/threads  X: y") !=
          std::string::npos);
  }
}

TEST_CASE("a non-JSON error body is quoted, not lost") {
  Fixture f;
  f.transport.respond(502, "<html>Bad gateway</html>");
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("<html>Bad gateway</html>") != std::string::npos);
}

TEST_CASE("a 2xx without a usable body is still a created thread") {
  Fixture f;
  f.transport.respond(
      201, "", {{"Location", "https://graph.microsoft.com/v1.0/groups('g')/threads('AAQ''k=')"}});
  auto r = f.create();
  REQUIRE(r);
  CHECK(r->id == "AAQ'k=");
  Fixture g;
  g.transport.respond(201, "not json");
  auto s = g.create();
  REQUIRE(s);
  CHECK(s->id.empty());
  CHECK(s->raw_json == "not json");
}

TEST_CASE("Ctrl-C while waiting to retry stops without sending again") {
  Fixture f;
  f.clock.interrupt_sleeps = true;
  f.transport.respond(429, {}, {{"Retry-After", "1"}}).respond(201, kCreated);
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kInterrupted);
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("an interrupted exchange says whether the request may have been sent") {
  Fixture f;
  f.transport.fail(TransportFailure::kInterrupted, true);
  auto r = f.create();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kInterrupted);
  CHECK(r.error().message.find("outcome unknown") != std::string::npos);
  Fixture g;
  g.transport.fail(TransportFailure::kInterrupted, false);
  auto s = g.create();
  REQUIRE_FALSE(s);
  CHECK(s.error().message == "interrupted; nothing was sent");
}

TEST_CASE("describe_request redacts the bearer token") {
  Fixture f;
  const auto req =
      gt::create_thread_request(f.options, kGroup, hello(), "secret-token-value", "c-1");
  const std::string text = gt::describe_request(req);
  CHECK(text.find("secret-token-value") == std::string::npos);
  CHECK(text.find("Authorization: Bearer [redacted]\n") != std::string::npos);
  CHECK(text.find("POST https://graph.microsoft.com/v1.0/groups/") == 0);
  CHECK(text.find("\n\n" + gt::encode_thread_request(hello()) + "\n") != std::string::npos);
}

// ---- list -------------------------------------------------------------------------------------

namespace {
std::string page(const std::vector<std::string>& ids, const std::string& next = {}) {
  std::string body = R"({"@odata.context":"ctx","value":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    body += (i ? "," : "") + std::string(R"({"id":")") + ids[i] + R"(","topic":"T)" +
            std::to_string(i) + R"("})";
  }
  body += "]";
  if (!next.empty()) body += R"(,"@odata.nextLink":")" + next + "\"";
  return body + "}";
}
}  // namespace

TEST_CASE("list: the first page is GET .../threads with $top and $select") {
  Fixture f;
  const auto req = gt::list_threads_request(
      f.options, "g/1", {.top = 5, .select = {"id", "toRecipients"}}, "tok", "c-1");
  CHECK(req.method == "GET");
  CHECK(req.target == "/v1.0/groups/g%2F1/threads?$top=5&$select=id,toRecipients");
  CHECK(req.header("Authorization") == "Bearer tok");
  CHECK(req.header("client-request-id") == "c-1");
  CHECK(req.body.empty());
  CHECK(req.header("Content-Type").empty());
  CHECK(gt::list_threads_request(f.options, "g", {}, "t", "c").target == "/v1.0/groups/g/threads");
}

TEST_CASE("list: a page decodes its threads and next link, the link is followed verbatim") {
  Fixture f;
  const std::string next =
      "https://graph.microsoft.com/v1.0/groups/g/threads?$top=2&$skiptoken=X%2BY";
  f.transport.respond(200, page({"a", "b"}, next)).respond(200, page({"c"}));
  auto first = f.client().list_threads("g", {.top = 2}, "", {"tok", "--token"});
  REQUIRE(first);
  REQUIRE(first->threads.size() == 2);
  CHECK(first->threads[0].id == "a");
  CHECK(first->threads[1].raw_json == R"({"id":"b","topic":"T1"})");
  CHECK(first->next_link == next);
  auto second = f.client().list_threads("g", {.top = 2}, first->next_link, {"tok", "--token"});
  REQUIRE(second);
  CHECK(second->threads.size() == 1);
  CHECK(second->next_link.empty());
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(f.transport.requests[1].target == "/v1.0/groups/g/threads?$top=2&$skiptoken=X%2BY");
}

TEST_CASE("list: a next link to another host is refused before sending the token there") {
  Fixture f;
  for (const char* link :
       {"https://evil.example/v1.0/groups/g/threads", "https://graph.microsoft.com.evil.example/x",
        "http://graph.microsoft.com/x", "/v1.0/groups/g/threads"}) {
    CAPTURE(link);
    auto r = f.client().list_threads("g", {}, link, {"tok", "--token"});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == gt::ErrorKind::kGraph);
    CHECK(r.error().message.find("refusing to follow @odata.nextLink") == 0);
  }
  CHECK(f.transport.requests.empty());
}

TEST_CASE("list: being idempotent, it is retried after 504 and after a lost answer") {
  Fixture f;
  f.transport.respond(504).fail(TransportFailure::kConnectionLost, true).respond(200, page({"a"}));
  auto r = f.client().list_threads("g", {}, "", {"tok", "--token"});
  REQUIRE(r);
  CHECK(r->threads.size() == 1);
  CHECK(f.transport.requests.size() == 3);
}

TEST_CASE("list: a body that is not a page is a Graph error") {
  Fixture f;
  f.transport.respond(200, R"({"id":"x"})");
  auto r = f.client().list_threads("g", {}, "", {"tok", "--token"});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == gt::ErrorKind::kGraph);
  CHECK(r.error().message.find("a page of threads") != std::string::npos);
}
