// App-level tests of `graph-threads list`: argv -> recorded GET requests -> stdout/stderr/exit.
#include <doctest/doctest.h>

#include "support/app_harness.hpp"
#include "support/jwt.hpp"

using gt::test::AppHarness;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

std::string page(const std::vector<std::string>& ids, const std::string& next = {}) {
  std::string body = R"({"value":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    body += (i ? "," : "") + std::string(R"({"id":")") + ids[i] + R"(","topic":"Topic )" + ids[i] +
            R"("})";
  }
  body += "]";
  if (!next.empty()) body += R"(,"@odata.nextLink":")" + next + "\"";
  return body + "}";
}

const std::string kNext =
    std::string("https://graph.microsoft.com/v1.0/groups/") + kGroup + "/threads?$skiptoken=p2";

std::vector<std::string> list_args(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"list", "--group", kGroup, "--token", "tok"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("list prints the first page as a JSON array when piped") {
  AppHarness h;
  h.transport.respond(200, page({"a", "b"}, kNext));
  CHECK(h.run(list_args()) == 0);
  CHECK(h.out.str() ==
        "[\n{\"id\":\"a\",\"topic\":\"Topic a\"},\n{\"id\":\"b\",\"topic\":\"Topic b\"}\n]\n");
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(h.transport.requests[0].method == "GET");
  CHECK(h.transport.requests[0].target == std::string("/v1.0/groups/") + kGroup + "/threads");
  CHECK(h.err.str().empty());  // the "more pages" note is for terminals only
}

TEST_CASE("list --all follows every next link, --top sets the page size") {
  AppHarness h;
  h.transport.respond(200, page({"a", "b"}, kNext)).respond(200, page({"c"}));
  CHECK(h.run(list_args({"--all", "--top", "2", "-o", "id"})) == 0);
  CHECK(h.out.str() == "a\nb\nc\n");
  REQUIRE(h.transport.requests.size() == 2);
  CHECK(h.transport.requests[0].target ==
        std::string("/v1.0/groups/") + kGroup + "/threads?$top=2");
  CHECK(h.transport.requests[1].target ==
        std::string("/v1.0/groups/") + kGroup + "/threads?$skiptoken=p2");
  CHECK(h.transport.requests[0].header("client-request-id") !=
        h.transport.requests[1].header("client-request-id"));
}

TEST_CASE("list on a terminal: a table, and a note when more pages exist") {
  AppHarness h;
  h.out_is_tty = true;
  h.env.set("NO_COLOR", "1");
  h.err_is_tty = true;
  h.transport.respond(200, page({"a"}, kNext));
  CHECK(h.run(list_args()) == 0);
  CHECK(h.out.str().rfind("ID", 0) == 0);
  CHECK(h.out.str().find("Topic a") != std::string::npos);
  CHECK(h.err.str().find("add --all") != std::string::npos);
}

TEST_CASE("list accepts app-only tokens, which Graph allows for reading") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", gt::test::make_jwt(R"({"roles":["Group.Read.All"]})"));
  h.transport.respond(200, page({}));
  CHECK(h.run({"list", "--group", kGroup}) == 0);
  CHECK(h.out.str() == "[]\n");
}

TEST_CASE("a failure on a later page keeps what was printed and says where it stopped") {
  AppHarness h;
  h.transport.respond(200, page({"a"}, kNext))
      .respond(404, R"({"error":{"code":"ErrorItemNotFound","message":"gone"}})");
  CHECK(h.run(list_args({"--all", "-o", "id"})) == 1);
  CHECK(h.out.str() == "a\n");
  CHECK(h.err.str().find("page 2") != std::string::npos);
}

TEST_CASE("list --dry-run prints the GET and sends nothing") {
  AppHarness h;
  CHECK(h.run(list_args({"--dry-run", "--top", "3"})) == 0);
  CHECK(h.transports_made == 0);
  CHECK(h.out.str().rfind(std::string("GET https://graph.microsoft.com/v1.0/groups/") + kGroup +
                              "/threads?$top=3 HTTP/1.1\n",
                          0) == 0);
  CHECK(h.out.str().find("Bearer [redacted]") != std::string::npos);
}

TEST_CASE("list usage errors exit 2") {
  for (const auto& args : std::vector<std::vector<std::string>>{{"list"},
                                                                list_args({"--top", "0"}),
                                                                list_args({"--top", "1000"}),
                                                                list_args({"--body", "x"})}) {
    AppHarness h;
    CHECK(h.run(args) == 2);
    CHECK(h.transports_made == 0);
  }
}

TEST_CASE("--debug and GRAPH_THREADS_DEBUG log every exchange in full on stderr, token redacted") {
  for (const bool by_env : {false, true}) {
    CAPTURE(by_env);
    AppHarness h;
    h.transport.respond(200, page({"a"}), {{"request-id", "rid-1"}});
    std::vector<std::string> args = {"list", "--group", kGroup, "--token", "tok-SECRET-1"};
    if (by_env) {
      h.env.set("GRAPH_THREADS_DEBUG", "1");
    } else {
      args.push_back("--debug");
    }
    CHECK(h.run(args) == 0);
    const std::string err = h.err.str();
    CHECK(err.find(std::string("> GET https://graph.microsoft.com/v1.0/groups/") + kGroup +
                   "/threads HTTP/1.1\n> Authorization: Bearer [redacted]\n") != std::string::npos);
    CHECK(err.find("< HTTP/1.1 200\n< request-id: rid-1\n<\n< {\"value\":[") != std::string::npos);
    // --debug implies --verbose: the attempt lines are there too.
    CHECK(err.find("* Graph root https://graph.microsoft.com") != std::string::npos);
    CHECK(err.find("tok-SECRET-1") == std::string::npos);
    CHECK(h.out.str().find("tok-SECRET-1") == std::string::npos);
  }
  // "0" and "" turn it off.
  for (const std::string off : {"0", ""}) {
    AppHarness h;
    h.env.set("GRAPH_THREADS_DEBUG", off);
    h.transport.respond(200, page({"a"}));
    CHECK(h.run({"list", "--group", kGroup, "--token", "tok"}) == 0);
    CHECK(h.err.str().empty());
  }
}
