// The token chain with a recording transport, a clock that never sleeps and a real cache in a
// temporary directory: which source wins, what is sent to the token endpoint, what is cached.
#include "gt/token_chain.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "gt/token_cache.hpp"
#include "support/fakes.hpp"
#include "support/jwt.hpp"
#include "support/temp_dir.hpp"

using gt::TokenSourceKind;
using gt::TokenUse;
using gt::test::make_jwt;

namespace {

constexpr std::int64_t kNow = 1795791600;  // the FakeClock's wall time

// A delegated access token for `who`, valid for `lifetime` seconds from kNow.
std::string user_token(const std::string& who, std::int64_t lifetime = 3600) {
  return make_jwt(R"({"scp":"Group-Conversation.ReadWrite.All","upn":")" + who +
                  R"(","tid":"t-1","exp":)" + std::to_string(kNow + lifetime) + "}");
}

std::string token_body(const std::string& access, const std::string& refresh = {},
                       int expires_in = 3600) {
  std::string body = R"({"token_type":"Bearer","access_token":")" + access + R"(","expires_in":)" +
                     std::to_string(expires_in);
  if (!refresh.empty()) body += R"(,"refresh_token":")" + refresh + "\"";
  return body + "}";
}

std::map<std::string, std::string> form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  auto decode = [](std::string_view s) {
    std::string r;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '+') {
        r += ' ';
      } else if (s[k] == '%' && k + 2 < s.size()) {
        r += static_cast<char>(std::stoi(std::string(s.substr(k + 1, 2)), nullptr, 16));
        k += 2;
      } else {
        r += s[k];
      }
    }
    return r;
  };
  while (i <= body.size()) {
    const auto amp = body.find('&', i);
    const std::string_view pair =
        std::string_view(body).substr(i, amp == std::string::npos ? std::string::npos : amp - i);
    const auto eq = pair.find('=');
    out[decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    i = amp + 1;
  }
  return out;
}

struct Fixture {
  gt::test::FakeTransport transport;
  gt::test::FakeClock clock;
  std::ostringstream log;
  gt::test::TempDir dir;
  gt::ChainConfig config;
  std::map<std::string, std::string> files;
  std::optional<std::string> az_output;
  int ids = 0;

  Fixture() {
    config.authority = *gt::parse_base_url("https://login.microsoftonline.com", "test");
    config.cache_dir = dir.str();
    config.oauth.retry.max_retries = 0;
  }

  gt::TokenChain chain() {
    return gt::TokenChain(
        config, gt::ChainDeps{
                    .clock = clock,
                    .transport = [this]() -> gt::Result<gt::Transport*> { return &transport; },
                    .new_request_id = [this] { return "crid-" + std::to_string(++ids); },
                    .jitter = [] { return 0.5; },
                    .verbose = &log,
                    .read_file = [this](const std::string& path,
                                        std::string_view what) -> gt::Result<std::string> {
                      if (!files.count(path))
                        return gt::Error::usage(std::string(what) + ": missing");
                      return files[path];
                    },
                    .run_command =
                        [this](const std::vector<std::string>& argv) -> std::optional<std::string> {
                      if (argv[0] != "az" || !az_output) return std::nullopt;
                      return argv[1] == "--version" ? std::optional<std::string>("azure-cli 2.0")
                                                    : az_output;
                    }});
  }
  std::vector<gt::CachedAccount> cached() {
    auto entries = gt::TokenCache(dir.str()).load();
    REQUIRE(entries);
    return *entries;
  }
};

}  // namespace

TEST_CASE("token chain: an explicit token wins over every other source") {
  Fixture f;
  f.config.explicit_token = gt::AccessToken{"explicit", "--token"};
  f.config.refresh_token = "rt";
  f.config.client_secret = "s";
  auto t = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(t);
  CHECK(t->token.value == "explicit");
  CHECK(t->kind == TokenSourceKind::kExplicit);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("token chain: GRAPH_REFRESH_TOKEN is redeemed once, then the access token is reused") {
  Fixture f;
  f.config.refresh_token = "seed-refresh-token";
  f.transport.respond(200, token_body(user_token("ada@contoso.example"), "rotated-1"));
  auto first = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(first);
  CHECK(first->kind == TokenSourceKind::kRefreshToken);
  CHECK(first->token.source == "GRAPH_REFRESH_TOKEN");
  REQUIRE(f.transport.requests.size() == 1);
  const auto sent = form(f.transport.requests[0].body);
  CHECK(sent.at("grant_type") == "refresh_token");
  CHECK(sent.at("refresh_token") == "seed-refresh-token");
  CHECK(sent.at("client_id") == gt::kDefaultClientId);
  CHECK(f.transport.requests[0].target == "/organizations/oauth2/v2.0/token");

  const auto entries = f.cached();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].origin.rfind("refresh:", 0) == 0);
  CHECK(entries[0].origin.find("seed-refresh-token") == std::string::npos);
  CHECK(entries[0].refresh_token == "rotated-1");
  CHECK(entries[0].account == "ada@contoso.example");

  auto again = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(again);
  CHECK(again->token.value == first->token.value);
  CHECK(f.transport.requests.size() == 1);  // no second redemption
  // The secret never reaches the log.
  CHECK(f.log.str().find("seed-refresh-token") == std::string::npos);
}

TEST_CASE("token chain: near expiry, the rotated refresh token is redeemed, not the seed") {
  Fixture f;
  f.config.refresh_token = "seed";
  f.transport.respond(200, token_body(user_token("ada@x.example", 60), "rotated-1", 60))
      .respond(200, token_body(user_token("ada@x.example"), "rotated-2"));
  REQUIRE(f.chain().token("create a thread", TokenUse::kDelegatedOnly));
  REQUIRE(f.chain().token("create a thread", TokenUse::kDelegatedOnly));
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(form(f.transport.requests[1].body).at("refresh_token") == "rotated-1");
  CHECK(f.cached()[0].refresh_token == "rotated-2");
}

TEST_CASE(
    "token chain: a refused rotated token falls back to the seed, a refused seed says what to do") {
  Fixture f;
  f.config.refresh_token = "seed";
  f.transport.respond(200, token_body(user_token("a@x.example", 10), "rotated", 10))
      .respond(400, R"({"error":"invalid_grant","error_description":"AADSTS70000: revoked"})")
      .respond(200, token_body(user_token("a@x.example"), "rotated-2"));
  REQUIRE(f.chain().token("create a thread", TokenUse::kDelegatedOnly));
  REQUIRE(f.chain().token("create a thread", TokenUse::kDelegatedOnly));
  REQUIRE(f.transport.requests.size() == 3);
  CHECK(form(f.transport.requests[2].body).at("refresh_token") == "seed");

  Fixture g;
  g.config.refresh_token = "seed";
  g.transport.respond(400,
                      R"({"error":"invalid_grant","error_description":"AADSTS700082: expired"})");
  auto t = g.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE_FALSE(t);
  CHECK(t.error().kind == gt::ErrorKind::kAuth);
  CHECK(t.error().message.rfind("GRAPH_REFRESH_TOKEN was refused", 0) == 0);
  CHECK(t.error().hint.find("auth login") != std::string::npos);
  CHECK(t.error().message.find("seed") == std::string::npos);
}

TEST_CASE("token chain: the password grant needs both variables and is cached") {
  Fixture half;
  half.config.username = "ada@x.example";
  auto t = half.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE_FALSE(t);
  CHECK(t.error().kind == gt::ErrorKind::kUsage);
  CHECK(t.error().message.find("AZURE_PASSWORD") != std::string::npos);

  Fixture f;
  f.config.username = "Ada@X.example";
  f.config.password = "correct horse";
  f.transport.respond(200, token_body(user_token("ada@x.example"), "rt"));
  auto ok = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(ok);
  CHECK(ok->kind == TokenSourceKind::kPassword);
  const auto sent = form(f.transport.requests[0].body);
  CHECK(sent.at("grant_type") == "password");
  CHECK(sent.at("username") == "Ada@X.example");
  CHECK(sent.at("password") == "correct horse");
  CHECK(f.cached()[0].origin == "password:ada@x.example");
  CHECK(f.log.str().find("correct horse") == std::string::npos);
}

TEST_CASE("token chain: app-only credentials are refused for create before any request") {
  for (const char* which : {"secret", "certificate", "federated"}) {
    CAPTURE(which);
    Fixture f;
    f.config.tenant_id = "t";
    f.config.client_id = "app";
    if (std::string(which) == "secret") f.config.client_secret = "s";
    if (std::string(which) == "certificate") f.config.certificate_path = "/c.pem";
    if (std::string(which) == "federated") f.config.federated_token_file = "/f";
    auto t = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
    REQUIRE_FALSE(t);
    CHECK(t.error().kind == gt::ErrorKind::kAuth);
    CHECK(t.error().message.find("app-only") != std::string::npos);
    CHECK(t.error().message.find("create a thread") != std::string::npos);
    CHECK(t.error().hint.find("GRAPH_REFRESH_TOKEN") != std::string::npos);
    CHECK(f.transport.requests.empty());
  }
}

TEST_CASE("token chain: a client secret gets an app-only token for listing") {
  Fixture f;
  f.config.tenant_id = "tenant-1";
  f.config.client_id = "app-1";
  f.config.client_secret = "s3cret";
  f.transport.respond(200,
                      token_body(make_jwt(R"({"roles":["Group.Read.All"],"exp":1895791600})")));
  auto t = f.chain().token("list threads", TokenUse::kDelegatedOrApp);
  REQUIRE(t);
  CHECK(t->kind == TokenSourceKind::kAppOnly);
  CHECK(t->token.source == "AZURE_CLIENT_SECRET");
  CHECK(f.transport.requests[0].target == "/tenant-1/oauth2/v2.0/token");
  const auto sent = form(f.transport.requests[0].body);
  CHECK(sent.at("grant_type") == "client_credentials");
  CHECK(sent.at("client_secret") == "s3cret");
  CHECK(sent.at("scope") == "https://graph.microsoft.com/.default");
  CHECK(f.log.str().find("s3cret") == std::string::npos);

  Fixture missing;
  missing.config.client_secret = "s";
  auto m = missing.chain().token("list threads", TokenUse::kDelegatedOrApp);
  REQUIRE_FALSE(m);
  CHECK(m.error().kind == gt::ErrorKind::kUsage);
  CHECK(m.error().message.find("AZURE_TENANT_ID and AZURE_CLIENT_ID") != std::string::npos);
}

TEST_CASE("token chain: a federated token file is read at every use") {
  Fixture f;
  f.config.cache_dir.reset();  // nothing cached: every call redeems
  f.config.tenant_id = "t";
  f.config.client_id = "app";
  f.config.federated_token_file = "/var/run/token";
  f.files["/var/run/token"] = "assertion-one\n";
  const std::string app_token = make_jwt(R"({"roles":["Group.Read.All"],"exp":1895791600})");
  f.transport.respond(200, token_body(app_token)).respond(200, token_body(app_token));
  REQUIRE(f.chain().token("list threads", TokenUse::kDelegatedOrApp));
  f.files["/var/run/token"] = "assertion-two";
  REQUIRE(f.chain().token("list threads", TokenUse::kDelegatedOrApp));
  CHECK(form(f.transport.requests[0].body).at("client_assertion") == "assertion-one");
  CHECK(form(f.transport.requests[1].body).at("client_assertion") == "assertion-two");
  CHECK(form(f.transport.requests[1].body).at("client_assertion_type") ==
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
}

TEST_CASE(
    "token chain: the auth login cache is used and refreshed, a dead sign-in says to log in") {
  Fixture f;
  REQUIRE(gt::TokenCache(f.dir.str())
              .transact([&](std::vector<gt::CachedAccount>& e) -> gt::Result<bool> {
                e.push_back(
                    {.authority = "https://login.microsoftonline.com",
                     .tenant = "organizations",
                     .client_id = gt::kDefaultClientId,
                     .origin = "login",
                     .account = "ada@x.example",
                     .scopes = {"https://graph.microsoft.com/Group-Conversation.ReadWrite.All",
                                "offline_access"},
                     .refresh_token = "login-rt",
                     .access_token = user_token("ada@x.example", 30),
                     .expires_at = kNow + 30,
                     .updated_at = kNow - 100});
                return true;
              }));
  CHECK(f.chain().configured() == TokenSourceKind::kCache);
  f.transport.respond(200, token_body(user_token("ada@x.example"), "login-rt-2"));
  auto t = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(t);
  CHECK(t->kind == TokenSourceKind::kCache);
  CHECK(t->token.source == "auth login (ada@x.example)");
  CHECK(form(f.transport.requests[0].body).at("refresh_token") == "login-rt");
  CHECK(f.cached()[0].refresh_token == "login-rt-2");

  Fixture g;
  REQUIRE(gt::TokenCache(g.dir.str())
              .transact([&](std::vector<gt::CachedAccount>& e) -> gt::Result<bool> {
                e.push_back({.authority = "https://login.microsoftonline.com",
                             .tenant = "organizations",
                             .client_id = gt::kDefaultClientId,
                             .origin = "login",
                             .account = "bob@x.example",
                             .refresh_token = "dead"});
                return true;
              }));
  g.transport.respond(400,
                      R"({"error":"invalid_grant","error_description":"AADSTS50173: revoked"})");
  auto dead = g.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE_FALSE(dead);
  CHECK(dead.error().kind == gt::ErrorKind::kAuth);
  CHECK(dead.error().message.find("bob@x.example") != std::string::npos);
  CHECK(dead.error().hint == "run `graph-threads auth login` again");
}

TEST_CASE("token chain: az is the last resort, and none at all lists every way") {
  Fixture f;
  f.az_output = R"({"accessToken":")" + user_token("az@x.example") + R"(","tokenType":"Bearer"})";
  auto t = f.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE(t);
  CHECK(t->kind == TokenSourceKind::kAz);
  CHECK(f.chain().configured() == TokenSourceKind::kAz);

  Fixture none;
  CHECK_FALSE(none.chain().configured());
  auto n = none.chain().token("create a thread", TokenUse::kDelegatedOnly);
  REQUIRE_FALSE(n);
  CHECK(n.error().kind == gt::ErrorKind::kAuth);
  for (const char* way : {"auth login", "GRAPH_TOKEN", "GRAPH_REFRESH_TOKEN", "AZURE_USERNAME",
                          "AZURE_CLIENT_SECRET", "az login"}) {
    CAPTURE(way);
    CHECK(n.error().hint.find(way) != std::string::npos);
  }
}
