// gt/http_log: what --debug writes for each HTTP exchange, and what it leaves out.
#include "gt/http_log.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "support/fakes.hpp"
#include "support/sim_loop.hpp"

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

gt::HttpRequest token_request() {
  gt::HttpRequest r;
  r.method = "POST";
  r.host = "login.microsoftonline.com";
  r.target = "/organizations/oauth2/v2.0/token";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"client-request-id", "crid-1"}};
  r.body =
      "grant_type=refresh_token&client_id=abc&refresh_token=RT-SECRET-1&client_secret=CS-SECRET-2"
      "&scope=offline_access&password=PW-SECRET-3&client_assertion=AS-SECRET-4&device_code=DC-5"
      "&code=CODE-6";
  return r;
}

}  // namespace

TEST_CASE("redact_header_value hides credentials and cookies, keeps the scheme and the rest") {
  CHECK(gt::redact_header_value("Authorization", "Bearer eyJabc.def") == "Bearer [redacted]");
  CHECK(gt::redact_header_value("authorization", "opaque") == "[redacted]");
  CHECK(gt::redact_header_value("Proxy-Authorization", "Basic YWxpY2U6cHc=") == "Basic [redacted]");
  CHECK(gt::redact_header_value("Cookie", "session=s3cret") == "[redacted]");
  CHECK(gt::redact_header_value("Set-Cookie", "fpc=abc; path=/") == "[redacted]");
  CHECK(gt::redact_header_value("client-request-id", "crid-1") == "crid-1");
}

TEST_CASE("redact_body: form fields by name, every other field as sent") {
  const auto r = token_request();
  const std::string out = gt::redact_body(r.body, "application/x-www-form-urlencoded");
  CHECK(out ==
        "grant_type=refresh_token&client_id=abc&refresh_token=[redacted]&client_secret=[redacted]"
        "&scope=offline_access&password=[redacted]&client_assertion=[redacted]"
        "&device_code=[redacted]&code=[redacted]");
  // A charset parameter does not change the type.
  CHECK(gt::redact_body("password=x1", "application/x-www-form-urlencoded; charset=utf-8") ==
        "password=[redacted]");
}

TEST_CASE("redact_body: JSON secrets at any depth, a body without one stays byte for byte") {
  const std::string answer =
      R"({"token_type":"Bearer","access_token":"AT-1","refresh_token":"RT-2",)"
      R"("nested":[{"id_token":"ID-3","keep":"x"}],"expires_in":3599})";
  const std::string out = gt::redact_body(answer, "application/json; charset=utf-8");
  CHECK_FALSE(has(out, "AT-1"));
  CHECK_FALSE(has(out, "RT-2"));
  CHECK_FALSE(has(out, "ID-3"));
  CHECK(has(out, R"("access_token":"[redacted]")"));
  CHECK(has(out, R"("keep":"x")"));
  CHECK(has(out, R"("expires_in":3599)"));
  // Untouched bodies are not re-serialized (dry-run output stays what is sent).
  const std::string thread = "{ \"topic\" : \"Hi\",\n  \"posts\": [] }";
  CHECK(gt::redact_body(thread, "application/json") == thread);
  // JSON is recognised without the header too (Graph error bodies, batch parts).
  CHECK(gt::redact_body(R"({"password":"p"})", "") == R"({"password":"[redacted]"})");
  CHECK(gt::redact_body("plain text password=p", "text/plain") == "plain text password=p");
}

TEST_CASE("request_secrets: the credentials a request carries") {
  auto r = token_request();
  r.headers.push_back({"Authorization", "Bearer BEARER-7"});
  const auto s = gt::request_secrets(r);
  for (const std::string want :
       {"BEARER-7", "RT-SECRET-1", "CS-SECRET-2", "PW-SECRET-3", "AS-SECRET-4", "DC-5", "CODE-6"}) {
    CHECK_MESSAGE(std::find(s.begin(), s.end(), want) != s.end(), want);
  }
  CHECK(std::find(s.begin(), s.end(), "abc") == s.end());
}

TEST_CASE("DebugTransport logs the request and response in full, secrets redacted") {
  auto fake = std::make_unique<gt::test::FakeTransport>();
  auto* f = fake.get();
  // The answer echoes a secret of the request, and carries its own.
  f->respond(200, R"({"access_token":"AT-NEW","note":"got RT-SECRET-1"})",
             {{"Content-Type", "application/json"}, {"Set-Cookie", "x=COOKIE-8"}});
  std::ostringstream log;
  gt::DebugTransport t(std::move(fake), log);
  auto r = token_request();
  r.headers.push_back({"Authorization", "Basic Q0xJRU5UOnNlY3JldA=="});
  gt::HttpResponse response;
  gt::TransportError error;
  REQUIRE(t.send(r, gt::Transport::Clock::now() + std::chrono::seconds(5), response, error));
  // The caller still gets everything.
  CHECK(response.body == R"({"access_token":"AT-NEW","note":"got RT-SECRET-1"})");
  REQUIRE(f->requests.size() == 1);
  CHECK(f->requests[0].body == r.body);
  const std::string text = log.str();
  CHECK(has(text,
            "> POST https://login.microsoftonline.com/organizations/oauth2/v2.0/token "
            "HTTP/1.1\n"));
  CHECK(has(text, "> Authorization: Basic [redacted]\n"));
  CHECK(has(text, "> client-request-id: crid-1\n"));
  CHECK(has(text, "> grant_type=refresh_token&client_id=abc&refresh_token=[redacted]"));
  CHECK(has(text, "< HTTP/1.1 200\n"));
  CHECK(has(text, "< Set-Cookie: [redacted]\n"));
  CHECK(has(text, R"(< {"access_token":"[redacted]","note":"got [redacted]"})"));
  CHECK(has(text, "< (POST https://login.microsoftonline.com/organizations/oauth2/v2.0/token, "));
  for (const std::string secret :
       {"RT-SECRET-1", "CS-SECRET-2", "PW-SECRET-3", "AS-SECRET-4", "DC-5", "CODE-6", "AT-NEW",
        "COOKIE-8", "Q0xJRU5UOnNlY3JldA=="}) {
    CHECK_MESSAGE(!has(text, secret), secret);
  }
}

TEST_CASE("DebugTransport logs a transport failure with what was sent") {
  auto fake = std::make_unique<gt::test::FakeTransport>();
  fake->fail(gt::TransportFailure::kConnectRefused, false, "connection refused by x:443");
  std::ostringstream log;
  gt::DebugTransport t(std::move(fake), log);
  gt::HttpRequest r;
  r.host = "x";
  gt::HttpResponse response;
  gt::TransportError error;
  CHECK_FALSE(t.send(r, gt::Transport::Clock::now(), response, error));
  CHECK(error.failure == gt::TransportFailure::kConnectRefused);
  CHECK(has(log.str(), "> GET https://x/ HTTP/1.1\n"));
  CHECK(has(log.str(), "! GET https://x/ failed after "));
  CHECK(has(log.str(), ": connection refused by x:443 (connection-refused, nothing sent)\n"));
}

TEST_CASE("DebugExchangeLoop logs each exchange of a loop when it starts and when it ends") {
  auto sim = std::make_unique<gt::test::SimLoop>([](const gt::HttpRequest&, std::size_t n) {
    gt::test::SimReply reply;
    reply.response.status = 201;
    reply.response.body = R"({"id":"t)" + std::to_string(n) + "\"}";
    return reply;
  });
  std::ostringstream log;
  gt::DebugExchangeLoop loop(std::move(sim), log);
  int done = 0;
  for (int i = 0; i < 2; ++i) {
    gt::HttpRequest r;
    r.method = "POST";
    r.host = "graph.example";
    r.target = "/v1.0/groups/g/threads";
    r.headers = {{"Authorization", "Bearer LOOP-SECRET"}};
    r.body = R"({"topic":"T)" + std::to_string(i) + "\"}";
    loop.start(r, loop.now() + std::chrono::seconds(5), [&](gt::Exchange x) {
      CHECK(x.ok);
      ++done;
    });
  }
  loop.run();
  CHECK(done == 2);
  const std::string text = log.str();
  CHECK(has(text, "> {\"topic\":\"T0\"}\n"));
  CHECK(has(text, "> {\"topic\":\"T1\"}\n"));
  CHECK(has(text, "< {\"id\":\"t0\"}\n"));
  CHECK(has(text, "< {\"id\":\"t1\"}\n"));
  CHECK(has(text, "< (POST https://graph.example/v1.0/groups/g/threads, 10 ms)\n"));
  CHECK_FALSE(has(text, "LOOP-SECRET"));
}
