#include "gt/proxy.hpp"

#include <doctest/doctest.h>

#include <map>

namespace {

gt::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The display string of the proxy chosen for scheme://host:port, or "direct".
std::string chosen(const gt::ProxySettings& s, std::string_view scheme, std::string_view host,
                   std::uint16_t port = 443) {
  const auto p = gt::choose_proxy(scheme, host, port, s);
  return p ? p->display() + " (" + p->source + ")" : "direct";
}

}  // namespace

TEST_CASE("proxy URLs: scheme, userinfo, host and port") {
  struct Case {
    const char* text;
    const char* host;
    int port;
    const char* user;  // nullptr: no userinfo
    const char* password;
    const char* display;
  };
  const Case cases[] = {
      {"http://proxy.corp:3128", "proxy.corp", 3128, nullptr, "", "http://proxy.corp:3128"},
      {"proxy.corp:8080", "proxy.corp", 8080, nullptr, "", "http://proxy.corp:8080"},
      {"proxy.corp", "proxy.corp", 1080, nullptr, "", "http://proxy.corp:1080"},
      {"http://proxy.corp", "proxy.corp", 1080, nullptr, "", "http://proxy.corp:1080"},
      {"HTTP://Proxy.Corp:3128/", "proxy.corp", 3128, nullptr, "", "http://proxy.corp:3128"},
      {"http://10.1.2.3:3128", "10.1.2.3", 3128, nullptr, "", "http://10.1.2.3:3128"},
      {"http://[fd00::1]:3128", "fd00::1", 3128, nullptr, "", "http://[fd00::1]:3128"},
      {"[::1]:8888", "::1", 8888, nullptr, "", "http://[::1]:8888"},
      {"http://alice:s3cret@proxy:3128", "proxy", 3128, "alice", "s3cret",
       "http://alice:***@proxy:3128"},
      {"http://dom%5Calice:p%40ss%3Aw%25rd@proxy:3128", "proxy", 3128, "dom\\alice", "p@ss:w%rd",
       "http://dom\\alice:***@proxy:3128"},
      {"http://alice@proxy:3128", "proxy", 3128, "alice", "", "http://alice@proxy:3128"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto p = gt::parse_proxy_url(c.text, "HTTPS_PROXY");
    REQUIRE(p);
    CHECK(p->host == c.host);
    CHECK(p->port == c.port);
    CHECK(p->source == "HTTPS_PROXY");
    CHECK(p->username.has_value() == (c.user != nullptr));
    if (c.user) CHECK(*p->username == c.user);
    CHECK(p->password == c.password);
    CHECK(p->display() == c.display);
  }
}

TEST_CASE("unusable proxy URLs are usage errors naming the source, never echoing the password") {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"https://alice:hunter2@proxy:443", "https:// proxies (TLS to the proxy) are not supported"},
      {"socks5://alice:hunter2@proxy:1080", "SOCKS proxies are not supported"},
      {"socks5h://proxy:1080", "SOCKS proxies are not supported"},
      {"socks4://proxy:1080", "SOCKS proxies are not supported"},
      {"ftp://proxy:21", "unsupported proxy scheme \"ftp\""},
      {"http://alice:hunter2@proxy:99999", "port must be a number from 1 to 65535"},
      {"http://proxy:0", "port must be a number from 1 to 65535"},
      {"http://proxy:3128?x=1", "query"},
      {"http://proxy:3128#frag", "fragment"},
      {"http://", "missing host"},
      {"http://pro%0axy:3128", "the host may contain only"},
      {"http://alice:hun%0Dter2@proxy:3128", "control character"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto p = gt::parse_proxy_url(c.text, "https_proxy");
    REQUIRE_FALSE(p);
    CHECK(p.error().kind == gt::ErrorKind::kUsage);
    CHECK(p.error().message.starts_with("https_proxy \""));
    CHECK(p.error().message.find(c.says) != std::string::npos);
    CHECK(p.error().message.find("hunter2") == std::string::npos);
    CHECK(p.error().message.find("hun%0Dter2") == std::string::npos);
  }
}

TEST_CASE("redact_proxy_url hides only the password") {
  CHECK(gt::redact_proxy_url("http://alice:pw@proxy:3128/") == "http://alice:***@proxy:3128/");
  CHECK(gt::redact_proxy_url("alice:pw@proxy:3128") == "alice:***@proxy:3128");
  CHECK(gt::redact_proxy_url("http://alice@proxy:3128") == "http://alice@proxy:3128");
  CHECK(gt::redact_proxy_url("http://proxy:3128/a@b") == "http://proxy:3128/a@b");
  CHECK(gt::redact_proxy_url("http://a:p@ss@proxy") == "http://a:***@proxy");
}

TEST_CASE("Basic proxy credentials are standard base64 of user:password") {
  auto p = gt::parse_proxy_url("http://Aladdin:open%20sesame@proxy:3128", "--proxy");
  REQUIRE(p);
  CHECK(p->basic_authorization() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  auto q = gt::parse_proxy_url("http://u:%3E%3F%3E@proxy:3128", "--proxy");  // ">?>": + and /
  REQUIRE(q);
  CHECK(q->basic_authorization() == "Basic dTo+Pz4=");
  auto none = gt::parse_proxy_url("http://proxy:3128", "--proxy");
  REQUIRE(none);
  CHECK(none->basic_authorization().empty());
}

TEST_CASE("which variable applies: lower case first, http_proxy only in lower case") {
  struct Case {
    std::map<std::string, std::string> env;
    const char* https;  // chosen for https://graph.example
    const char* http;   // chosen for http://graph.example
  };
  const Case cases[] = {
      {{}, "direct", "direct"},
      {{{"https_proxy", "http://lo:1"}, {"HTTPS_PROXY", "http://up:2"}},
       "http://lo:1 (https_proxy)",
       "direct"},
      {{{"HTTPS_PROXY", "http://up:2"}}, "http://up:2 (HTTPS_PROXY)", "direct"},
      // HTTP_PROXY (upper case) is never honoured.
      {{{"HTTP_PROXY", "http://up:2"}}, "direct", "direct"},
      {{{"http_proxy", "http://lo:1"}}, "direct", "http://lo:1 (http_proxy)"},
      {{{"all_proxy", "http://all:3"}, {"ALL_PROXY", "http://ALL:4"}},
       "http://all:3 (all_proxy)",
       "http://all:3 (all_proxy)"},
      {{{"ALL_PROXY", "http://ALL:4"}}, "http://all:4 (ALL_PROXY)", "http://all:4 (ALL_PROXY)"},
      {{{"https_proxy", "http://s:1"}, {"all_proxy", "http://all:3"}},
       "http://s:1 (https_proxy)",
       "http://all:3 (all_proxy)"},
      // Set but empty stops the search: no proxy (as curl).
      {{{"https_proxy", ""}, {"HTTPS_PROXY", "http://up:2"}, {"all_proxy", "http://all:3"}},
       "direct",
       "http://all:3 (all_proxy)"},
      {{{"HTTPS_PROXY", ""}, {"ALL_PROXY", "http://ALL:4"}}, "direct", "http://all:4 (ALL_PROXY)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.https);
    CAPTURE(c.http);
    auto s = gt::resolve_proxy_settings({}, env_of(c.env));
    REQUIRE(s);
    CHECK(chosen(*s, "https", "graph.example") == c.https);
    CHECK(chosen(*s, "http", "graph.example", 80) == c.http);
  }
}

TEST_CASE("--proxy replaces the variables, --no-proxy ignores them, both is a usage error") {
  const auto env = env_of({{"https_proxy", "http://env:1"},
                           {"http_proxy", "http://env:1"},
                           {"no_proxy", "bypass.example"}});
  auto flag = gt::resolve_proxy_settings({.proxy = "http://u:pw@flag:8080"}, env);
  REQUIRE(flag);
  CHECK(chosen(*flag, "https", "graph.example") == "http://u:***@flag:8080 (--proxy)");
  CHECK(chosen(*flag, "http", "graph.example") == "http://u:***@flag:8080 (--proxy)");
  // NO_PROXY still applies to --proxy, as in curl.
  CHECK(chosen(*flag, "https", "bypass.example") == "direct");

  auto off = gt::resolve_proxy_settings({.proxy = std::nullopt, .no_proxy = true}, env);
  REQUIRE(off);
  CHECK(chosen(*off, "https", "graph.example") == "direct");
  CHECK(chosen(*off, "http", "graph.example") == "direct");

  auto both = gt::resolve_proxy_settings({.proxy = "http://flag:8080", .no_proxy = true}, env);
  REQUIRE_FALSE(both);
  CHECK(both.error().kind == gt::ErrorKind::kUsage);
  CHECK(both.error().message.find("--proxy and --no-proxy") != std::string::npos);

  auto bad = gt::resolve_proxy_settings({.proxy = "socks5://u:pw@flag:1080"}, env);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.starts_with("--proxy \"socks5://u:***@flag:1080\""));

  auto empty = gt::resolve_proxy_settings({.proxy = ""}, env);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message.starts_with("--proxy:"));
}

TEST_CASE("an unusable variable is reported only for the scheme it applies to") {
  auto s = gt::resolve_proxy_settings(
      {}, env_of({{"https_proxy", "http://ok:3128"}, {"all_proxy", "socks5://s:1080"}}));
  REQUIRE(s);
  CHECK(gt::check_proxy(*s, "https"));
  auto http = gt::check_proxy(*s, "http");
  REQUIRE_FALSE(http);
  CHECK(http.error().kind == gt::ErrorKind::kUsage);
  CHECK(http.error().message.starts_with("all_proxy \"socks5://s:1080\": SOCKS"));

  auto t = gt::resolve_proxy_settings({}, env_of({{"HTTPS_PROXY", "https://p:443"}}));
  REQUIRE(t);
  auto https = gt::check_proxy(*t, "https");
  REQUIRE_FALSE(https);
  CHECK(https.error().message.starts_with("HTTPS_PROXY \"https://p:443\": https:// proxies"));
  CHECK(gt::choose_proxy("https", "graph.example", 443, *t) == std::nullopt);
}

TEST_CASE("NO_PROXY: no_proxy wins over NO_PROXY, even when empty") {
  const auto base = std::map<std::string, std::string>{{"https_proxy", "http://p:1"}};
  auto with = [&](std::map<std::string, std::string> more) {
    auto env = base;
    env.merge(more);
    auto s = gt::resolve_proxy_settings({}, env_of(env));
    REQUIRE(s);
    return chosen(*s, "https", "graph.example");
  };
  CHECK(with({{"NO_PROXY", "graph.example"}}) == "direct");
  CHECK(with({{"no_proxy", "graph.example"}}) == "direct");
  CHECK(with({{"no_proxy", "other.example"}, {"NO_PROXY", "graph.example"}}) ==
        "http://p:1 (https_proxy)");
  CHECK(with({{"no_proxy", ""}, {"NO_PROXY", "*"}}) == "http://p:1 (https_proxy)");
}

TEST_CASE("NO_PROXY matching: names, subdomains, IPs, CIDR, ports, *, case") {
  struct Case {
    const char* list;
    const char* host;
    int port;
    bool bypass;
  };
  const Case cases[] = {
      // Empty list and wildcard.
      {"", "graph.microsoft.com", 443, false},
      {"*", "graph.microsoft.com", 443, true},
      {"*", "10.0.0.1", 443, true},
      {"a.example, *", "graph.microsoft.com", 443, true},
      // A name matches itself and its subdomains, with or without a leading dot.
      {"example.com", "example.com", 443, true},
      {"example.com", "a.example.com", 443, true},
      {"example.com", "a.b.example.com", 443, true},
      {".example.com", "example.com", 443, true},
      {".example.com", "a.example.com", 443, true},
      {"*.example.com", "a.example.com", 443, true},
      {"example.com", "notexample.com", 443, false},
      {"example.com", "example.com.evil", 443, false},
      {"a.example.com", "example.com", 443, false},
      {"microsoft.com", "graph.microsoft.com", 443, true},
      // Case-insensitive, trailing dots ignored.
      {"EXAMPLE.com", "a.Example.COM", 443, true},
      {"example.com.", "a.example.com", 443, true},
      {"example.com", "a.example.com.", 443, true},
      // Separators: commas and/or spaces, empty entries skipped.
      {"one.example, two.example", "two.example", 443, true},
      {"one.example two.example", "two.example", 443, true},
      {",,one.example,, ,two.example,", "two.example", 443, true},
      {"one.example,two.example", "three.example", 443, false},
      // Loopback is not special.
      {"", "localhost", 443, false},
      {"", "127.0.0.1", 443, false},
      {"localhost", "localhost", 443, true},
      {"localhost", "127.0.0.1", 443, false},
      // IPv4 literals match exactly; names never match IPs by suffix.
      {"10.1.2.3", "10.1.2.3", 443, true},
      {"10.1.2.3", "10.1.2.30", 443, false},
      {"2.3", "10.1.2.3", 443, false},
      {"127.0.0.1", "127.0.0.1", 443, true},
      // CIDR.
      {"10.0.0.0/8", "10.200.3.4", 443, true},
      {"10.0.0.0/8", "11.0.0.1", 443, false},
      {"192.168.0.0/16", "192.168.44.1", 443, true},
      {"192.168.0.0/17", "192.168.200.1", 443, false},
      {"10.1.2.3/32", "10.1.2.3", 443, true},
      {"0.0.0.0/0", "8.8.8.8", 443, true},
      {"10.0.0.0/33", "10.0.0.0", 443, false},
      {"10.0.0.0/x", "10.0.0.0", 443, false},
      {"10.0.0.0/8", "ten.example", 443, false},
      // IPv6, brackets optional on either side, CIDR too.
      {"::1", "::1", 443, true},
      {"[::1]", "::1", 443, true},
      {"::1", "[::1]", 443, true},
      {"::1", "::2", 443, false},
      {"fd00::/8", "fd12:3456::1", 443, true},
      {"[fd00::]/8", "fd12:3456::1", 443, true},
      {"fd00::/8", "fe80::1", 443, false},
      {"2001:DB8::1", "2001:db8:0:0::1", 443, true},
      {"10.0.0.0/8", "::ffff:10.0.0.1", 443, false},
      // Ports: an entry with a port matches that port only.
      {"example.com:443", "example.com", 443, true},
      {"example.com:443", "a.example.com", 443, true},
      {"example.com:8443", "example.com", 443, false},
      {"10.1.2.3:8443", "10.1.2.3", 8443, true},
      {"10.1.2.3:8443", "10.1.2.3", 443, false},
      {"10.0.0.0/8:443", "10.9.9.9", 443, true},
      {"[::1]:8443", "::1", 8443, true},
      {"[::1]:8443", "::1", 443, false},
      {"example.com:junk", "example.com", 443, false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.list);
    CAPTURE(c.host);
    CAPTURE(c.port);
    CHECK(gt::no_proxy_matches(c.list, c.host, static_cast<std::uint16_t>(c.port)) == c.bypass);
  }
}
