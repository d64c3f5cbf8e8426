// App-level tests: argv -> options -> HTTP request (recorded by a fake transport) -> stdout,
// stderr and exit code. No sockets.
#include <doctest/doctest.h>

#include "gt/json_codec.hpp"
#include "support/app_harness.hpp"
#include "support/jwt.hpp"
#include "support/temp_file.hpp"

using gt::test::AppHarness;
using gt::test::TempFile;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
constexpr const char* kCreated =
    R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups('g')/threads/$entity","id":"AAQkAD+/x=","topic":"Maintenance","hasAttachments":false,"lastDeliveredDateTime":"2026-11-27T15:00:00Z","uniqueSenders":["Ada"],"preview":"Tonight at 22:00","isLocked":false})";

std::vector<std::string> create_args(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"create", "--group", kGroup, "--token", "tok"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("flags become the documented request, and piped output is the JSON as received") {
  AppHarness h;
  h.transport.respond(201, kCreated);
  const int code = h.run(create_args({"--topic", "Maintenance", "--body", "Tonight at 22:00",
                                      "--to", "Ops <ops@contoso.example>", "--cc",
                                      "cc@contoso.example", "--participant", "p@contoso.example"}));
  CHECK(code == 0);
  CHECK(h.err.str().empty());
  CHECK(h.out.str() == std::string(kCreated) + "\n");
  REQUIRE(h.transport.requests.size() == 1);
  const auto& req = h.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url() == std::string("https://graph.microsoft.com/v1.0/groups/") + kGroup + "/threads");
  CHECK(req.header("Authorization") == "Bearer tok");
  CHECK(req.header("client-request-id") == "crid-1");
  CHECK(req.header("User-Agent") == std::string("graph-threads/") + GT_VERSION);
  CHECK(
      req.body ==
      R"({"topic":"Maintenance","toRecipients":[{"emailAddress":{"name":"Ops","address":"ops@contoso.example"}}],"ccRecipients":[{"emailAddress":{"address":"cc@contoso.example"}}],"posts":[{"body":{"contentType":"text","content":"Tonight at 22:00"},"newParticipants":[{"emailAddress":{"address":"p@contoso.example"}}]}]})");
}

TEST_CASE("output: table on a terminal, json when piped, id on request") {
  SUBCASE("terminal default is a table") {
    AppHarness h;
    h.out_is_tty = true;
    h.env.set("NO_COLOR", "1");
    h.transport.respond(201, kCreated);
    REQUIRE(h.run(create_args({"--topic", "Maintenance", "--body", "b"})) == 0);
    const std::string out = h.out.str();
    CHECK(out.find("ID") == 0);
    CHECK(out.find("AAQkAD+/x=") != std::string::npos);
    CHECK(out.find("Maintenance") != std::string::npos);
    CHECK(out.find("2026-11-27T15:00:00Z") != std::string::npos);
  }
  SUBCASE("-o id prints the id alone") {
    AppHarness h;
    h.transport.respond(201, kCreated);
    REQUIRE(h.run(create_args({"--topic", "T", "--body", "b", "-o", "id"})) == 0);
    CHECK(h.out.str() == "AAQkAD+/x=\n");
  }
  SUBCASE("-o json on a terminal is indented") {
    AppHarness h;
    h.out_is_tty = true;
    h.env.set("NO_COLOR", "1");
    h.transport.respond(201, kCreated);
    REQUIRE(h.run(create_args({"--topic", "T", "--body", "b", "-o", "json"})) == 0);
    CHECK(h.out.str() == gt::pretty_json(kCreated) + "\n");
  }
}

TEST_CASE("--input JSON is sent as given, flags override the fields they name") {
  TempFile input(
      R"({"topic":"From file","isLocked":true,"id":"old","preview":"p","posts":[{"body":{"contentType":"html","content":"<b>x</b>"}}]})",
      ".json");
  AppHarness h;
  h.transport.respond(201, kCreated);
  REQUIRE(h.run(create_args({"--input", input.path(), "--topic", "Override"})) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(
      h.transport.requests[0].body ==
      R"({"topic":"Override","isLocked":true,"posts":[{"body":{"contentType":"html","content":"<b>x</b>"}}]})");
  // Service-computed properties are dropped with one warning naming them.
  const std::string err = h.err.str();
  CHECK(err.find("warning: ignoring properties") != std::string::npos);
  CHECK(err.find("id") != std::string::npos);
  CHECK(err.find("preview") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("--input - reads a piped thread") {
  AppHarness h;
  h.in.str(R"({"topic":"Piped","posts":[{"body":{"content":"hi"}}]})");
  h.transport.respond(201, kCreated);
  REQUIRE(h.run(create_args({"--input", "-"})) == 0);
  CHECK(h.transport.requests[0].body ==
        R"({"topic":"Piped","posts":[{"body":{"contentType":"text","content":"hi"}}]})");
}

TEST_CASE("--body-file reads the body from a file or stdin") {
  TempFile body("<p>Line 1</p>\n", ".html");
  AppHarness h;
  h.transport.respond(201, kCreated);
  REQUIRE(h.run(create_args(
              {"--topic", "T", "--body-file", body.path(), "--content-type", "html"})) == 0);
  CHECK(h.transport.requests[0].body ==
        R"({"topic":"T","posts":[{"body":{"contentType":"html","content":"<p>Line 1</p>\n"}}]})");

  AppHarness s;
  s.in.str("from stdin");
  s.transport.respond(201, kCreated);
  REQUIRE(s.run(create_args({"--topic", "T", "--body-file", "-"})) == 0);
  CHECK(s.transport.requests[0].body.find("from stdin") != std::string::npos);
}

TEST_CASE("bad input exits 2, names the problem and sends nothing") {
  TempFile bad_json(R"({"topic":"T","posts":[{"body":{"contentType":"htm","content":"x"}}]})");
  TempFile not_json("{\"topic\": ");
  struct Case {
    std::vector<std::string> extra;
    const char* fragment;
  };
  const Case cases[] = {
      {{"--body", "b"}, "topic: required"},
      {{"--topic", "T"}, "posts"},
      {{"--topic", "", "--body", "b"}, "--topic: must not be empty"},
      {{"--topic", "T", "--body", ""}, "--body: must not be empty"},
      {{"--topic", "   ", "--body", "b"}, "topic: must not be blank"},
      {{"--topic", "T", "--body", "b", "--to", "bob@"}, "--to \"bob@\""},
      {{"--topic", "T", "--body", "b", "--cc", "a@b.example, c@d.example"}, "--cc"},
      {{"--input", bad_json.path()}, "posts[0].body.contentType"},
      {{"--input", not_json.path()}, "line 1"},
      {{"--input", "/nonexistent/thread.json"}, "--input: cannot read /nonexistent/thread.json"},
      {{"--topic", "T", "--body-file", "/tmp"}, "is a directory"},
      {{"--input", "-", "--body-file", "-"}, "both read stdin"},
      {{"--topic", "T", "--body", "b", "--base-url", "http://graph.example"}, "plain http://"},
      {{"--topic", "T", "--body", "b", "--base-url", "https://x.example", "--cloud", "usgov"},
       "--base-url and --cloud"},
      {{"--topic", "T", "--body", "b", "--token-file", "/nonexistent"}, "--token-file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fragment);
    AppHarness h;
    CHECK(h.run(create_args(c.extra)) == 2);
    CHECK(h.err.str().find(c.fragment) != std::string::npos);
    CHECK(h.transports_made == 0);
    CHECK(h.transport.requests.empty());
    CHECK(h.out.str().empty());
  }
}

TEST_CASE("--dry-run prints the exact request with the token redacted and needs no token") {
  AppHarness h;
  const int code = h.run({"create", "--group", "a/../b", "--topic", "T", "--body", "B", "--dry-run",
                          "--token", "super-secret-token"});
  CHECK(code == 0);
  CHECK(h.transports_made == 0);
  const std::string out = h.out.str();
  CHECK(out.find("POST https://graph.microsoft.com/v1.0/groups/a%2F..%2Fb/threads HTTP/1.1\n") ==
        0);
  CHECK(out.find("Authorization: Bearer [redacted]\n") != std::string::npos);
  CHECK(out.find("super-secret-token") == std::string::npos);
  CHECK(h.err.str().find("super-secret-token") == std::string::npos);
  CHECK(out.find(R"({"topic":"T","posts":[{"body":{"contentType":"text","content":"B"}}]})") !=
        std::string::npos);

  AppHarness n;
  CHECK(n.run({"create", "--group", kGroup, "--topic", "T", "--body", "B", "--dry-run"}) == 0);
  CHECK(n.out.str().find("Authorization: Bearer [none]") != std::string::npos);
  CHECK(n.err.str().find("no token configured") != std::string::npos);
}

TEST_CASE("tokens come from --token, --token-file or GRAPH_TOKEN") {
  TempFile token_file("file-token\n");
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const char* bearer;
  };
  const Case cases[] = {
      {{"--token", "flag-token"}, {{"GRAPH_TOKEN", "env-token"}}, "Bearer flag-token"},
      {{"--token-file", token_file.path()}, {{"GRAPH_TOKEN", "env-token"}}, "Bearer file-token"},
      {{}, {{"GRAPH_TOKEN", "env-token"}}, "Bearer env-token"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bearer);
    AppHarness h;
    for (const auto& [k, v] : c.env) h.env.set(k, v);
    h.transport.respond(201, kCreated);
    std::vector<std::string> args = {"create", "--group", kGroup, "--topic", "T", "--body", "B"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    REQUIRE(h.run(args) == 0);
    CHECK(h.transport.requests[0].header("Authorization") == c.bearer);
  }
}

TEST_CASE("no token, or an app-only token, exits 3 before anything is sent") {
  AppHarness none;
  CHECK(none.run({"create", "--group", kGroup, "--topic", "T", "--body", "B"}) == 3);
  CHECK(none.err.str().find("no access token") != std::string::npos);
  CHECK(none.transports_made == 0);

  AppHarness app_only;
  app_only.env.set("GRAPH_TOKEN", gt::test::make_jwt(R"({"roles":["Group.ReadWrite.All"]})"));
  CHECK(app_only.run({"create", "--group", kGroup, "--topic", "T", "--body", "B"}) == 3);
  CHECK(app_only.err.str().find("app-only") != std::string::npos);
  CHECK(app_only.transport.requests.empty());
}

TEST_CASE("the Graph root comes from --base-url, --cloud, GRAPH_BASE_URL or the default") {
  struct Case {
    std::vector<std::string> args;
    const char* env_base;
    const char* url_prefix;
  };
  const Case cases[] = {
      {{}, nullptr, "https://graph.microsoft.com/v1.0/"},
      {{}, "https://127.0.0.1:8443", "https://127.0.0.1:8443/v1.0/"},
      {{"--cloud", "usgov"}, "https://127.0.0.1:8443", "https://graph.microsoft.us/v1.0/"},
      {{"--cloud", "china", "--api-version", "beta"},
       nullptr,
       "https://microsoftgraph.chinacloudapi.cn/beta/"},
      {{"--base-url", "http://localhost:8080/"},
       "https://x.example",
       "http://localhost:8080/v1.0/"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url_prefix);
    AppHarness h;
    if (c.env_base) h.env.set("GRAPH_BASE_URL", c.env_base);
    h.transport.respond(201, kCreated);
    REQUIRE(h.run(create_args([&] {
      auto a = c.args;
      a.insert(a.end(), {"--topic", "T", "--body", "B"});
      return a;
    }())) == 0);
    CHECK(h.transport.requests[0].url().find(c.url_prefix) == 0);
  }
}

TEST_CASE("--cacert and --timeout reach the transport") {
  AppHarness h;
  h.transport.respond(201, kCreated);
  const auto start = h.clock.now();
  REQUIRE(h.run(create_args(
              {"--topic", "T", "--body", "B", "--cacert", "/etc/ca.pem", "--timeout", "7"})) == 0);
  REQUIRE(h.transport_configs.size() == 1);
  CHECK(h.transport_configs[0].cacert_file == "/etc/ca.pem");
  CHECK(h.transport.deadlines[0] == start + std::chrono::seconds(7));
}

TEST_CASE("--proxy, --no-proxy and the proxy variables reach the transport, redacted in -v") {
  const auto run_with = [](AppHarness& h, std::vector<std::string> extra) {
    h.transport.respond(201, kCreated);
    extra.insert(extra.begin(), {"--topic", "T", "--body", "B"});
    return h.run(create_args(extra));
  };
  AppHarness env;
  env.env.set("HTTPS_PROXY", "http://u:Secr3tPw@env-proxy:3128");
  env.env.set("NO_PROXY", "internal.example");
  REQUIRE(run_with(env, {"-v"}) == 0);
  REQUIRE(env.transport_configs.size() == 1);
  const auto& from_env = env.transport_configs[0].proxy;
  REQUIRE(from_env.https.proxy);
  CHECK(from_env.https.proxy->host == "env-proxy");
  CHECK(from_env.https.proxy->password == "Secr3tPw");
  CHECK(from_env.https.proxy->source == "HTTPS_PROXY");
  CHECK(from_env.no_proxy == "internal.example");
  CHECK(env.err.str().find("* Graph https://graph.microsoft.com via proxy "
                           "http://u:***@env-proxy:3128 (from HTTPS_PROXY)") != std::string::npos);
  CHECK(env.err.str().find("Secr3tPw") == std::string::npos);

  AppHarness flag;
  flag.env.set("HTTPS_PROXY", "http://env-proxy:3128");
  REQUIRE(run_with(flag, {"--proxy", "flag-proxy:8080"}) == 0);
  REQUIRE(flag.transport_configs[0].proxy.https.proxy);
  CHECK(flag.transport_configs[0].proxy.https.proxy->display() == "http://flag-proxy:8080");
  CHECK(flag.transport_configs[0].proxy.https.proxy->source == "--proxy");

  AppHarness off;
  off.env.set("HTTPS_PROXY", "http://env-proxy:3128");
  REQUIRE(run_with(off, {"--no-proxy", "-v"}) == 0);
  CHECK_FALSE(off.transport_configs[0].proxy.https.proxy);
  CHECK(off.err.str().find("via proxy") == std::string::npos);
}

TEST_CASE("unusable proxy settings exit 2 naming the flag or variable, and nothing is sent") {
  struct Case {
    std::vector<std::string> flags;
    const char* var;
    const char* value;
    const char* says;
  };
  const Case cases[] = {
      {{"--proxy", "http://p:1", "--no-proxy"}, "", "", "--proxy and --no-proxy"},
      {{"--proxy", "socks5://p:1080"}, "", "", "--proxy \"socks5://p:1080\": SOCKS"},
      {{}, "HTTPS_PROXY", "https://u:Secr3tPw@p:443", "HTTPS_PROXY \"https://u:***@p:443\""},
      {{}, "all_proxy", "socks5h://p:1080", "all_proxy \"socks5h://p:1080\": SOCKS"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.says);
    AppHarness h;
    if (*c.var) h.env.set(c.var, c.value);
    auto args = create_args({"--topic", "T", "--body", "B"});
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    CHECK(h.run(args) == 2);
    CHECK(h.err.str().find(c.says) != std::string::npos);
    CHECK(h.err.str().find("Secr3tPw") == std::string::npos);
    CHECK(h.transports_made == 0);
    CHECK(h.transport.requests.empty());
  }
  // A variable for the other scheme is not consulted: all_proxy=socks5 is fine when https_proxy
  // is set, since Graph is https.
  AppHarness fine;
  fine.env.set("all_proxy", "socks5://p:1080");
  fine.env.set("https_proxy", "http://p:3128");
  fine.transport.respond(201, kCreated);
  CHECK(fine.run(create_args({"--topic", "T", "--body", "B"})) == 0);
}

TEST_CASE("failures print Graph's details on stderr and exit with their code") {
  constexpr const char* kErrorBody =
      R"({"error":{"code":"ErrorItemNotFound","message":"The group was not found.","innerError":{"date":"2026-11-27T15:00:01","request-id":"rid-42","client-request-id":"crid-1"}}})";
  struct Case {
    int status;
    int exit;
  };
  for (const auto& c : {Case{404, 1}, Case{400, 1}, Case{401, 3}, Case{403, 3}, Case{500, 1}}) {
    CAPTURE(c.status);
    AppHarness h;
    h.transport.respond(c.status, kErrorBody);
    CHECK(h.run(create_args({"--topic", "T", "--body", "B"})) == c.exit);
    const std::string err = h.err.str();
    CHECK(err.find("graph-threads: ") == 0);
    CHECK(err.find(std::to_string(c.status)) != std::string::npos);
    CHECK(err.find("ErrorItemNotFound") != std::string::npos);
    CHECK(err.find("The group was not found.") != std::string::npos);
    CHECK(err.find("rid-42") != std::string::npos);
    CHECK(err.find("crid-1") != std::string::npos);
    CHECK(err.find("2026-11-27T15:00:01") != std::string::npos);
    CHECK(h.out.str().empty());
  }
}

TEST_CASE("transport outcomes map to exit codes 4 and 5") {
  AppHarness refused;
  refused.transport.fail(gt::TransportFailure::kTlsExpired, false, "TLS: certificate expired");
  CHECK(refused.run(create_args({"--topic", "T", "--body", "B"})) == 4);
  CHECK(refused.err.str().find("TLS: certificate expired") != std::string::npos);

  AppHarness lost;
  lost.transport.fail(gt::TransportFailure::kConnectionLost, true, "connection closed");
  CHECK(lost.run(create_args({"--topic", "T", "--body", "B"})) == 5);
  CHECK(lost.err.str().find("outcome unknown") != std::string::npos);
  CHECK(lost.err.str().find("crid-1") != std::string::npos);
  CHECK(lost.transport.requests.size() == 1);
}

TEST_CASE("--verbose logs each attempt on stderr without the token") {
  AppHarness h;
  h.transport.respond(429, {}, {{"Retry-After", "1"}, {"request-id", "r-1"}})
      .respond(201, kCreated, {{"request-id", "r-2"}});
  REQUIRE(h.run(create_args({"--topic", "T", "--body", "B", "-v"})) == 0);
  const std::string err = h.err.str();
  CHECK(err.find("attempt 1/4  client-request-id crid-1") != std::string::npos);
  CHECK(err.find("< 429") != std::string::npos);
  CHECK(err.find("request-id r-1") != std::string::npos);
  CHECK(err.find("attempt 2/4  client-request-id crid-2") != std::string::npos);
  CHECK(err.find("< 201") != std::string::npos);
  CHECK(err.find("token: explicit token (--token)") != std::string::npos);
  CHECK(err.find("tok\n") == std::string::npos);
  CHECK(err.find("Bearer") == std::string::npos);
}

TEST_CASE("a group id that is not a GUID is sent encoded, with a warning") {
  AppHarness h;
  h.transport.respond(201, kCreated);
  REQUIRE(h.run({"create", "--group", "x/../../me?y#z", "--token", "t", "--topic", "T", "--body",
                 "B"}) == 0);
  CHECK(h.transport.requests[0].target == "/v1.0/groups/x%2F..%2F..%2Fme%3Fy%23z/threads");
  CHECK(h.err.str().find("is not a GUID") != std::string::npos);
}

TEST_CASE("create: missing --group and misused bulk flags exit 2 and send nothing") {
  TempFile items("{\"topic\":\"a\"}\n{\"topic\":\"b\"}\n", ".ndjson");
  struct Case {
    std::vector<std::string> args;
    const char* fragment;
  };
  const Case cases[] = {
      {{"create", "--token", "t", "--topic", "T", "--body", "b"}, "--group is required"},
      {{"create", "--token", "t", "--group", "", "--topic", "T"}, "--group: must not be empty"},
      {{"create", "--token", "t", "--group", "g", "--batch"}, "need --input"},
      {{"create", "--token", "t", "--group", "g", "--input", items.path(), "--max-rate", "fast"},
       "--max-rate: expected N, N/s, N/min or N/h"},
      {{"create", "--token", "t", "--group", "g", "--input", items.path(), "--concurrency", "0"},
       "--concurrency"},
      {{"create", "--token", "t", "--group", "g", "--input", items.path(), "--resume",
        "/nonexistent/results.ndjson"},
       "--resume: cannot read /nonexistent/results.ndjson"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fragment);
    AppHarness h;
    CHECK(h.run(c.args) == 2);
    CHECK(h.err.str().find(c.fragment) != std::string::npos);
    CHECK(h.transport.requests.empty());
    CHECK(h.out.str().empty());
  }
}

TEST_CASE("--if-not-exists: a thread with the topic on a later page is printed, nothing created") {
  AppHarness h;
  const std::string base = std::string("https://graph.microsoft.com/v1.0/groups/") + kGroup;
  h.transport
      .respond(200,
               R"({"value":[{"id":"T1","topic":"Maintenance "},{"id":"T2","topic":"maintenance"}],)"
               R"("@odata.nextLink":")" +
                   base + R"(/threads?$skiptoken=2"})")
      .respond(200, R"({"value":[{"id":"T3","topic":"Maintenance","preview":"old"}]})");
  CHECK(h.run(create_args(
            {"--topic", "Maintenance", "--body", "b", "--if-not-exists", "-o", "id"})) == 0);
  REQUIRE(h.transport.requests.size() == 2);  // two pages, no POST
  CHECK(h.transport.requests[0].method == "GET");
  CHECK(h.transport.requests[0].url() == base + "/threads");
  CHECK(h.transport.requests[1].url() == base + "/threads?$skiptoken=2");
  CHECK(h.out.str() == "T3\n");  // exact match only: "Maintenance " and "maintenance" are not it
  CHECK(h.err.str() ==
        "graph-threads: not created: thread T3 already has the topic \"Maintenance\" (found on "
        "page 2 of the group's threads)\n");
}

TEST_CASE("--if-not-exists: no thread with the topic → created as usual after the listing") {
  AppHarness h;
  h.transport.respond(200, R"({"value":[{"id":"T1","topic":"Other"}]})").respond(201, kCreated);
  CHECK(h.run(create_args(
            {"--topic", "Maintenance", "--body", "b", "--if-not-exists", "-o", "id"})) == 0);
  REQUIRE(h.transport.requests.size() == 2);
  CHECK(h.transport.requests[0].method == "GET");
  CHECK(h.transport.requests[1].method == "POST");
  CHECK(h.out.str() == "AAQkAD+/x=\n");
  CHECK(h.err.str().empty());
}

TEST_CASE("--if-not-exists: a failed listing creates nothing and says what failed") {
  AppHarness h;
  h.transport.respond(403,
                      R"({"error":{"code":"ErrorAccessDenied","message":"Access is denied."}})");
  CHECK(h.run(create_args({"--topic", "Maintenance", "--body", "b", "--if-not-exists"})) == 3);
  CHECK(h.transport.requests.size() == 1);
  CHECK(h.out.str().empty());
  CHECK(h.err.str().find("--if-not-exists: could not check for an existing thread") !=
        std::string::npos);
}

TEST_CASE("--if-not-exists: --dry-run shows the listing before the create, bulk input refused") {
  AppHarness h;
  CHECK(h.run({"create", "--group", kGroup, "--topic", "T", "--body", "B", "--if-not-exists",
               "--dry-run"}) == 0);
  CHECK(h.transport.requests.empty());
  const std::string out = h.out.str();
  const auto get = out.find("GET https://graph.microsoft.com/v1.0/groups/");
  const auto post = out.find("POST https://graph.microsoft.com/v1.0/groups/");
  CHECK(get != std::string::npos);
  CHECK(post != std::string::npos);
  CHECK(get < post);

  AppHarness bulk;
  TempFile items(
      "{\"topic\":\"a\",\"posts\":[{\"body\":{\"content\":\"x\"}}]}\n"
      "{\"topic\":\"b\",\"posts\":[{\"body\":{\"content\":\"y\"}}]}\n");
  CHECK(bulk.run(create_args({"--input", items.path(), "--if-not-exists"})) == 2);
  CHECK(bulk.transport.requests.empty());
  CHECK(bulk.err.str().find("--if-not-exists works for one thread") != std::string::npos);
}

namespace {

// Records what has been written at every flush (sync) of the stream it backs.
class FlushRecorder final : public std::streambuf {
 public:
  std::string text;
  std::vector<std::string> at_flush;

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      text.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    text.append(s, static_cast<std::size_t>(n));
    return n;
  }
  int sync() override {
    at_flush.push_back(text);
    return 0;
  }
};

}  // namespace

TEST_CASE("bulk create: result lines go out once per turn of the loop, before it waits") {
  AppHarness h;
  FlushRecorder recorder;
  std::streambuf* const original = static_cast<std::ostream&>(h.out).rdbuf(&recorder);
  // Items 0 and 1 are answered at 10 ms, items 2 and 3 at 30 ms (virtual time).
  h.sim_server = [](const gt::HttpRequest&, std::size_t n) {
    gt::test::SimReply r;
    r.latency = std::chrono::milliseconds(n < 2 ? 10 : 30);
    r.response.status = 201;
    r.response.body = R"({"id":"sim-)" + std::to_string(n) + R"("})";
    return r;
  };
  std::string items;
  for (int i = 0; i < 4; ++i) {
    items +=
        R"({"topic":"t)" + std::to_string(i) + R"(","posts":[{"body":{"content":"x"}}]})" + "\n";
  }
  h.in.str(items);
  REQUIRE(h.run(create_args({"--input", "-", "--concurrency", "4"})) == 0);
  const auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  CHECK(lines(recorder.text) == 4);
  // Flushed whole lines only, and the first two together: the turn at 10 ms ended with one
  // flush of both results (one write), before the loop waited for the answers at 30 ms.
  std::vector<long> flushed;
  for (const std::string& snapshot : recorder.at_flush) {
    CHECK((snapshot.empty() || snapshot.back() == '\n'));
    const long n = lines(snapshot);
    if (n != 0 && (flushed.empty() || n != flushed.back())) flushed.push_back(n);
  }
  CHECK(flushed == std::vector<long>{2, 4});
  static_cast<std::ostream&>(h.out).rdbuf(original);
}
