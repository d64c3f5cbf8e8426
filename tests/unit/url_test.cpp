#include "gt/url.hpp"

#include <doctest/doctest.h>

TEST_CASE("a group id is always exactly one encoded path segment") {
  struct Case {
    const char* id;
    const char* encoded;
  };
  const Case cases[] = {
      {"02bd9fd6-8f93-4758-87c3-1fb73740a315", "02bd9fd6-8f93-4758-87c3-1fb73740a315"},
      {"a/b", "a%2Fb"},
      {"../../me", "..%2F..%2Fme"},
      {"..", "%2E%2E"},
      {".", "%2E"},
      {"a.b", "a.b"},
      {"x?y=1#z", "x%3Fy%3D1%23z"},
      {"100%", "100%25"},
      {"AAQk+/==", "AAQk%2B%2F%3D%3D"},
      {"space here", "space%20here"},
      {"é", "%C3%A9"},
      {"a\r\nb", "a%0D%0Ab"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.id);
    CHECK(gt::encode_path_segment(c.id) == c.encoded);
  }
}

TEST_CASE("threads_path joins prefix, version and encoded group") {
  auto base = gt::parse_base_url("https://gw.example/graph/", "--base-url");
  REQUIRE(base);
  CHECK(gt::threads_path(*base, "beta", "g/../x") == "/graph/beta/groups/g%2F..%2Fx/threads");
  auto root = gt::parse_base_url("https://graph.microsoft.com", "--base-url");
  REQUIRE(root);
  CHECK(gt::threads_path(*root, "v1.0", "abc") == "/v1.0/groups/abc/threads");
}

TEST_CASE("thread_path encodes the thread id as one more segment") {
  auto base = gt::parse_base_url("https://gw.example/graph/", "--base-url");
  REQUIRE(base);
  CHECK(gt::thread_path(*base, "v1.0", "g", "AAQk/x+y==") ==
        "/graph/v1.0/groups/g/threads/AAQk%2Fx%2By%3D%3D");
  CHECK(gt::thread_path(*base, "v1.0", "g", "..") == "/graph/v1.0/groups/g/threads/%2E%2E");
}

TEST_CASE("base URLs parse into scheme, host, port and prefix") {
  struct Case {
    const char* text;
    const char* scheme;
    const char* host;
    int port;
    const char* prefix;
  };
  const Case cases[] = {
      {"https://graph.microsoft.com", "https", "graph.microsoft.com", 443, ""},
      {"https://Graph.Microsoft.com/", "https", "graph.microsoft.com", 443, ""},
      {"https://127.0.0.1:8443", "https", "127.0.0.1", 8443, ""},
      {"http://localhost:8080/api/", "http", "localhost", 8080, "/api"},
      {"http://[::1]:9000", "http", "::1", 9000, ""},
      {"http://127.5.6.7", "http", "127.5.6.7", 80, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto u = gt::parse_base_url(c.text, "--base-url");
    REQUIRE(u);
    CHECK(u->scheme == c.scheme);
    CHECK(u->host == c.host);
    CHECK(u->port == c.port);
    CHECK(u->path_prefix == c.prefix);
  }
}

TEST_CASE("bad base URLs are usage errors naming the source and the problem") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"graph.microsoft.com", "not an absolute URL"},
      {"ftp://graph.microsoft.com", "scheme must be https"},
      {"http://graph.microsoft.com", "plain http:// is only allowed for loopback"},
      {"http://10.0.0.1:8080", "plain http:// is only allowed for loopback"},
      {"http://127.0.0.1.evil.example", "unexpected text \".evil.example\" after the host"},
      {"https://1.2.3.4x", "unexpected text"},
      {"https://user:pw@graph.microsoft.com", "must not contain user:password@"},
      {"https://graph.microsoft.com/?x=1", "must not contain a query"},
      {"https://graph.microsoft.com/#top", "must not contain a query"},
      {"https://graph.microsoft.com:0", "port must be a number"},
      {"https://graph.microsoft.com:99999", "port must be a number"},
      {"https:///v1.0", "missing host"},
      {"https://gw.example/a/../b", "must not contain . or .."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto u = gt::parse_base_url(c.text, "GRAPH_BASE_URL");
    REQUIRE_FALSE(u);
    CHECK(u.error().kind == gt::ErrorKind::kUsage);
    CHECK(u.error().message.find("GRAPH_BASE_URL") == 0);
    CHECK(u.error().message.find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("loopback hosts") {
  for (const char* h :
       {"localhost", "LOCALHOST", "api.localhost", "127.0.0.1", "127.255.0.9", "::1", "[::1]"}) {
    CAPTURE(h);
    CHECK(gt::is_loopback_host(h));
  }
  for (const char* h : {"example.com", "localhost.example.com", "128.0.0.1", "127.0.0",
                        "127.0.0.256", "127.0.0.1.nip.io", "::2", "0.0.0.0", ""}) {
    CAPTURE(h);
    CHECK_FALSE(gt::is_loopback_host(h));
  }
}

TEST_CASE("national clouds map to their Graph roots") {
  CHECK(std::string(gt::graph_root(*gt::parse_cloud("global"))) == "https://graph.microsoft.com");
  CHECK(std::string(gt::graph_root(*gt::parse_cloud("usgov"))) == "https://graph.microsoft.us");
  CHECK(std::string(gt::graph_root(*gt::parse_cloud("dod"))) == "https://dod-graph.microsoft.us");
  CHECK(std::string(gt::graph_root(*gt::parse_cloud("china"))) ==
        "https://microsoftgraph.chinacloudapi.cn");
  CHECK_FALSE(gt::parse_cloud("mars"));
}

TEST_CASE("parse_base_url: a host with %-escapes or other characters is refused (found by fuzzing)") {
  for (const char* text :
       {"http://%00.localhost", "https://gmpl%8843/raph/", "https://a%20b.example",
        "https://graph.microsoft.com%2F.evil.example", "https://evil.example%0d%0aX-Injected%201",
        "https://gr!aph.example", "https://graph.microsoft.com%2e"}) {
    CAPTURE(text);
    auto r = gt::parse_base_url(text, "--base-url");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == gt::ErrorKind::kUsage);
    CHECK(r.error().message.find("--base-url") != std::string::npos);
  }
  // Ordinary hosts, IPv4 and IPv6 literals are unaffected.
  CHECK(gt::parse_base_url("https://graph.microsoft.com", "t"));
  CHECK(gt::parse_base_url("https://my_gw.corp-1.example:8443/graph", "t"));
  CHECK(gt::parse_base_url("http://127.0.0.1:8080", "t"));
  CHECK(gt::parse_base_url("http://[::1]:8080", "t"));
}
