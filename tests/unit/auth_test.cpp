#include "gt/auth.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "support/jwt.hpp"

using gt::test::make_jwt;

TEST_CASE("tokens are cleaned the way users paste them") {
  struct Case {
    const char* raw;
    const char* value;
  };
  const Case cases[] = {
      {"abc.def.ghi", "abc.def.ghi"},
      {"  abc.def.ghi\n", "abc.def.ghi"},
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer   abc\r\n", "abc"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.raw);
    auto t = gt::normalize_token(c.raw, "--token");
    REQUIRE(t);
    CHECK(t->value == c.value);
    CHECK(t->source == "--token");
  }
}

TEST_CASE("tokens that would corrupt the Authorization header are refused") {
  for (const char* raw : {"", "   \n", "abc\ndef", "abc def", "abc\x01"}) {
    CAPTURE(raw);
    auto t = gt::normalize_token(raw, "GRAPH_TOKEN");
    REQUIRE_FALSE(t);
    CHECK(t.error().kind == gt::ErrorKind::kUsage);
    CHECK(t.error().message.find("GRAPH_TOKEN: ") == 0);
  }
}

TEST_CASE("JWT claims are read without checking the signature") {
  const auto token = make_jwt(
      R"({"aud":"https://graph.microsoft.com","scp":"Group.ReadWrite.All User.Read","exp":1795795200,"upn":"ada@contoso.example","tid":"t-1"})");
  auto c = gt::decode_token_claims(token);
  REQUIRE(c);
  CHECK(c->scopes == std::vector<std::string>{"Group.ReadWrite.All", "User.Read"});
  CHECK(c->roles.empty());
  CHECK(c->expires_at == 1795795200);
  CHECK(c->account == "ada@contoso.example");
  CHECK(c->tenant == "t-1");
  CHECK_FALSE(c->app_only());

  CHECK_FALSE(gt::decode_token_claims("opaque-token"));
  CHECK_FALSE(gt::decode_token_claims("a.!!!.c"));
  CHECK_FALSE(gt::decode_token_claims(make_jwt("[1,2]")));
}

TEST_CASE("an exp beyond int64 is clamped, never cast (fuzz/token_claims)") {
  // The input fuzz/token_claims found: its payload has "exp":177472e600, a double that is inf.
  const auto found = gt::decode_token_claims(
      "JJ9.eyJhdWQiOiJodHRvbSIsInNjcCI6Iktyb3VSZWFkIiwiZXhwIjoxNzc0NzJlNjAwfQ.c8ln");
  REQUIRE(found);
  CHECK(found->expires_at == std::numeric_limits<std::int64_t>::max());

  struct Case {
    const char* exp;
    std::optional<std::int64_t> expected;
  };
  const Case cases[] = {
      {"1e400", std::numeric_limits<std::int64_t>::max()},
      {"-1e400", std::numeric_limits<std::int64_t>::min()},
      {"18446744073709551615", std::numeric_limits<std::int64_t>::max()},
      {"1795795200.5", 1795795200},
  };
  for (const auto& c : cases) {
    CAPTURE(c.exp);
    const auto claims = gt::decode_token_claims(make_jwt(std::string(R"({"exp":)") + c.exp + "}"));
    REQUIRE(claims);
    CHECK(claims->expires_at == c.expected);
  }
  // A far-future exp is not "expired".
  const gt::AccessToken far{make_jwt(R"({"scp":"Group.ReadWrite.All","exp":18446744073709551615})"),
                            "x"};
  CHECK(gt::check_token(far, "create a thread", gt::TokenUse::kDelegatedOnly, 1795791600).ok());
}

TEST_CASE("an app-only token is refused before sending, with the reason") {
  const gt::AccessToken t{make_jwt(R"({"roles":["Group.ReadWrite.All"],"exp":1895795200})"),
                          "GRAPH_TOKEN"};
  auto st = gt::check_token(t, "create a thread", gt::TokenUse::kDelegatedOnly, 1795791600);
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == gt::ErrorKind::kAuth);
  CHECK(st.error().message.find("app-only") != std::string::npos);
  CHECK(st.error().message.find("GRAPH_TOKEN") != std::string::npos);
  CHECK(st.error().hint.find("Group-Conversation.ReadWrite.All") != std::string::npos);
}

TEST_CASE("an app-only token is accepted where Graph takes application permissions") {
  const gt::AccessToken t{make_jwt(R"({"roles":["Group.Read.All"],"exp":1895795200})"), "x"};
  CHECK(gt::check_token(t, "list threads", gt::TokenUse::kDelegatedOrApp, 1795791600).ok());
  const gt::AccessToken expired{make_jwt(R"({"roles":["Group.Read.All"],"exp":1795788000})"), "x"};
  CHECK_FALSE(
      gt::check_token(expired, "list threads", gt::TokenUse::kDelegatedOrApp, 1795791600).ok());
}

TEST_CASE("an expired token is refused before sending") {
  const gt::AccessToken t{make_jwt(R"({"scp":"Group.ReadWrite.All","exp":1795788000})"), "--token"};
  auto st = gt::check_token(t, "create a thread", gt::TokenUse::kDelegatedOnly, 1795791600);
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == gt::ErrorKind::kAuth);
  CHECK(st.error().message ==
        "the token from --token expired at 2026-11-27T14:00:00Z (60 minutes ago)");
}

TEST_CASE("delegated, unexpired and opaque tokens pass") {
  for (const std::string& value :
       {make_jwt(R"({"scp":"Group-Conversation.ReadWrite.All","exp":1795795200})"),
        std::string("opaque")}) {
    auto st = gt::check_token({value, "--token"}, "create a thread", gt::TokenUse::kDelegatedOnly,
                              1795791600);
    CHECK(st.ok());
  }
}

TEST_CASE("warnings for tokens Graph will probably refuse") {
  auto w = gt::token_warnings(
      {make_jwt(R"({"scp":"User.Read","aud":"https://graph.microsoft.com"})"), "x"});
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("(User.Read)") != std::string::npos);
  w = gt::token_warnings(
      {make_jwt(R"({"scp":"Group.ReadWrite.All","aud":"https://management.azure.com"})"), "x"});
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("management.azure.com") != std::string::npos);
  CHECK(gt::token_warnings(
            {make_jwt(
                 R"({"scp":"Group.ReadWrite.All","aud":"00000003-0000-0000-c000-000000000000"})"),
             "x"})
            .empty());
}

TEST_CASE("redaction shows nothing of the token") {
  CHECK(gt::redact_token("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.sig") == "[redacted]");
  CHECK(gt::redact_token("") == "[none]");
}

TEST_CASE("without a token the source explains every way to provide one") {
  gt::StaticTokenSource none(std::nullopt);
  auto t = none.token();
  REQUIRE_FALSE(t);
  CHECK(t.error().kind == gt::ErrorKind::kAuth);
  CHECK(t.error().message.find("--token-file") != std::string::npos);
  CHECK(t.error().message.find("GRAPH_TOKEN") != std::string::npos);
}
