// gt/oauth against a recording FakeTransport and a FakeClock: the exact requests each grant sends,
// what every answer of the token endpoint becomes, retries and device code polling (no sleeps).
#include "gt/oauth.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/fakes.hpp"

using namespace std::chrono_literals;
using gt::ErrorKind;
using gt::TransportFailure;
using Form = std::map<std::string, std::string>;
using Sleeps = std::vector<std::chrono::milliseconds>;

namespace {

constexpr const char* kClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
constexpr const char* kTokenUrl =
    "https://login.microsoftonline.com/organizations/oauth2/v2.0/token";
constexpr const char* kGraphDefault = "https://graph.microsoft.com/.default";
constexpr const char* kTokens =
    R"({"token_type":"Bearer","scope":"https://graph.microsoft.com/Group.ReadWrite.All",)"
    R"("expires_in":3599,"ext_expires_in":3599,"access_token":"at-1","refresh_token":"rt-2"})";
constexpr const char* kDeviceCode =
    R"({"user_code":"BPPVYQZMA","device_code":"DAQABIQ-secret-device-code",)"
    R"("verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":5,)"
    R"("message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code BPPVYQZMA to authenticate."})";

// An error answer in Entra's shape (identity_service.hpp shows the real thing).
std::string aad_error(std::string_view error, long code, std::string_view text,
                      std::string_view suberror = {}) {
  std::string body =
      R"({"error":")" + std::string(error) + R"(","error_description":"AADSTS)" +
      std::to_string(code) + ": " + std::string(text) +
      R"(\r\nTrace ID: 0000aaaa-0000-4000-8000-trace0000001\r\nCorrelation ID: )"
      R"(0000bbbb-0000-4000-8000-corr00000001\r\nTimestamp: 2026-11-27 15:12:44Z",)"
      R"("error_codes":[)" +
      std::to_string(code) +
      R"(],"timestamp":"2026-11-27 15:12:44Z","trace_id":"0000aaaa-0000-4000-8000-trace0000001",)"
      R"("correlation_id":"0000bbbb-0000-4000-8000-corr00000001",)"
      R"("error_uri":"https://login.microsoftonline.com/error?code=)" +
      std::to_string(code) + "\"";
  if (!suberror.empty()) body += R"(,"suberror":")" + std::string(suberror) + "\"";
  return body + "}";
}

// application/x-www-form-urlencoded, decoded independently of the code under test.
std::optional<Form> decode_form(std::string_view body) {
  auto decode = [](std::string_view s) -> std::optional<std::string> {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%') {
        if (i + 2 >= s.size()) return std::nullopt;
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  Form form;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto name = decode(pair.substr(0, eq));
    const auto value = decode(pair.substr(eq + 1));
    if (!name || !value || !form.emplace(*name, *value).second) return std::nullopt;
  }
  return form;
}

struct Fixture {
  gt::test::FakeTransport transport;
  gt::test::FakeClock clock;
  std::ostringstream log;
  int ids = 0;
  gt::OAuthOptions options{
      .authority = *gt::parse_base_url("https://login.microsoftonline.com", "test"),
      .tenant = "organizations",
      .client_id = kClient,
      .retry = gt::RetryPolicy{.max_retries = 3},
      .request_timeout = 30s,
      .user_agent = "graph-threads/test",
  };
  gt::OAuthClient client() {
    return gt::OAuthClient({.transport = transport,
                            .clock = clock,
                            .new_request_id = [this] { return "crid-" + std::to_string(++ids); },
                            .jitter = [] { return 0.5; },
                            .verbose = &log},
                           options);
  }
  Form sent_form(std::size_t i = 0) const {
    REQUIRE(transport.requests.size() > i);
    auto form = decode_form(transport.requests[i].body);
    REQUIRE(form);
    return *form;
  }
  gt::DeviceCode code(std::int64_t expires_in = 900, std::int64_t interval = 5) const {
    return {.device_code = "DAQABIQ-secret-device-code",
            .user_code = "BPPVYQZMA",
            .verification_uri = "https://microsoft.com/devicelogin",
            .message = "",
            .expires_in = expires_in,
            .interval = interval};
  }
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

// ---- login hosts --------------------------------------------------------------------------------

TEST_CASE("each cloud has its login host") {
  CHECK(std::string(gt::login_host(gt::Cloud::kGlobal)) == "https://login.microsoftonline.com");
  CHECK(std::string(gt::login_host(gt::Cloud::kUsGov)) == "https://login.microsoftonline.us");
  CHECK(std::string(gt::login_host(gt::Cloud::kDod)) == "https://login.microsoftonline.us");
  CHECK(std::string(gt::login_host(gt::Cloud::kChina)) == "https://login.chinacloudapi.cn");
}

TEST_CASE("authority_host: the cloud's unless AZURE_AUTHORITY_HOST says otherwise") {
  SUBCASE("unset or empty: the cloud's") {
    for (const std::optional<std::string>& v : {std::optional<std::string>(), {""}}) {
      auto a = gt::authority_host(gt::Cloud::kUsGov, v);
      REQUIRE(a);
      CHECK(a->origin() == "https://login.microsoftonline.us");
      CHECK(a->path_prefix.empty());
    }
  }
  SUBCASE("https with a port, a path prefix and a trailing slash") {
    auto a = gt::authority_host(gt::Cloud::kGlobal, "https://login.example:8443/adfs/");
    REQUIRE(a);
    CHECK(a->origin() == "https://login.example:8443");
    CHECK(a->path_prefix == "/adfs");
  }
  SUBCASE("plain http only to loopback") {
    auto ok = gt::authority_host(gt::Cloud::kGlobal, "http://127.0.0.1:8080");
    REQUIRE(ok);
    CHECK(ok->origin() == "http://127.0.0.1:8080");
    auto bad = gt::authority_host(gt::Cloud::kGlobal, "http://login.example");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::kUsage);
    CHECK(contains(bad.error().message, "AZURE_AUTHORITY_HOST"));
    CHECK(contains(bad.error().message, "loopback"));
  }
  SUBCASE("not a URL: names the variable and the cloud's login host as the example") {
    auto bad = gt::authority_host(gt::Cloud::kChina, "login.chinacloudapi.cn");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::kUsage);
    CHECK(contains(bad.error().message, "AZURE_AUTHORITY_HOST"));
    CHECK(contains(bad.error().message, "https://login.chinacloudapi.cn"));
  }
  SUBCASE("other schemes, queries and user info are refused naming the variable") {
    for (const char* v :
         {"ftp://login.example", "https://login.example/?x=1", "https://user:pw@login.example"}) {
      CAPTURE(v);
      auto bad = gt::authority_host(gt::Cloud::kGlobal, std::string(v));
      REQUIRE_FALSE(bad);
      CHECK(bad.error().kind == ErrorKind::kUsage);
      CHECK(contains(bad.error().message, "AZURE_AUTHORITY_HOST"));
    }
  }
}

// ---- requests -----------------------------------------------------------------------------------

TEST_CASE("the token endpoint is {authority}{prefix}/{tenant}/oauth2/v2.0/token") {
  Fixture f;
  CHECK(f.client().token_endpoint() == kTokenUrl);
  f.options.tenant = "contoso.onmicrosoft.com";
  CHECK(f.client().token_endpoint() ==
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  f.options.tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  f.options.authority = *gt::authority_host(gt::Cloud::kGlobal, "https://login.example:8443/adfs");
  CHECK(f.client().token_endpoint() ==
        "https://login.example:8443/adfs/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
  // A tenant is one path segment, whatever it contains.
  f.options.tenant = "../x/y?z";
  CHECK(f.client().token_endpoint() ==
        "https://login.example:8443/adfs/..%2Fx%2Fy%3Fz/oauth2/v2.0/token");
}

TEST_CASE("a token request is a form POST with JSON accepted and our ids") {
  Fixture f;
  f.options.tenant = "contoso.onmicrosoft.com";
  f.transport.respond(200, kTokens);
  REQUIRE(f.client().client_secret_grant("s3cret", kGraphDefault));
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.scheme == "https");
  CHECK(req.host == "login.microsoftonline.com");
  CHECK(req.port == 443);
  CHECK(req.target == "/contoso.onmicrosoft.com/oauth2/v2.0/token");
  CHECK(req.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(req.header("Accept") == "application/json");
  CHECK(req.header("client-request-id") == "crid-1");
  CHECK(req.header("return-client-request-id") == "true");
  CHECK(req.header("User-Agent") == "graph-threads/test");
  CHECK(req.header("Authorization").empty());
  // Each exchange gets request_timeout.
  CHECK(f.transport.deadlines[0] == f.clock.now() + 30s);
}

TEST_CASE("each grant sends exactly its documented fields, every value percent-encoded") {
  Fixture f;
  const std::string graph = "https://graph.microsoft.com/Group-Conversation.ReadWrite.All";
  SUBCASE("refresh_token") {
    f.transport.respond(200, kTokens);
    REQUIRE(f.client().redeem_refresh_token("1.A+b/c=d&e f%", {graph, "offline_access"}));
    CHECK(f.sent_form() == Form{{"grant_type", "refresh_token"},
                                {"client_id", kClient},
                                {"refresh_token", "1.A+b/c=d&e f%"},
                                {"scope", graph + " offline_access"}});
    CHECK(contains(f.transport.requests[0].body, "refresh_token=1.A%2Bb%2Fc%3Dd%26e+f%25"));
  }
  SUBCASE("refresh_token without scopes sends no scope") {
    f.transport.respond(200, kTokens);
    REQUIRE(f.client().redeem_refresh_token("rt", {}));
    CHECK(f.sent_form() ==
          Form{{"grant_type", "refresh_token"}, {"client_id", kClient}, {"refresh_token", "rt"}});
  }
  SUBCASE("password") {
    f.transport.respond(200, kTokens);
    REQUIRE(f.client().password_grant("adele@contoso.com", "p@ss w+rd&=%", {graph}));
    CHECK(f.sent_form() == Form{{"grant_type", "password"},
                                {"client_id", kClient},
                                {"username", "adele@contoso.com"},
                                {"password", "p@ss w+rd&=%"},
                                {"scope", graph}});
  }
  SUBCASE("client_credentials with a secret") {
    f.transport.respond(200, kTokens);
    REQUIRE(f.client().client_secret_grant("s3cr3t~+/= &x", kGraphDefault));
    CHECK(f.sent_form() == Form{{"grant_type", "client_credentials"},
                                {"client_id", kClient},
                                {"client_secret", "s3cr3t~+/= &x"},
                                {"scope", kGraphDefault}});
    CHECK(contains(f.transport.requests[0].body,
                   "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"));
  }
  SUBCASE("client_credentials with an assertion") {
    f.transport.respond(200, kTokens);
    REQUIRE(f.client().client_assertion_grant("eyJh.eyJi.c2ln-_", kGraphDefault));
    CHECK(f.sent_form() ==
          Form{{"grant_type", "client_credentials"},
               {"client_id", kClient},
               {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
               {"client_assertion", "eyJh.eyJi.c2ln-_"},
               {"scope", kGraphDefault}});
  }
  SUBCASE("devicecode, then the device_code grant") {
    f.transport.respond(200, kDeviceCode).respond(200, kTokens);
    auto code = f.client().start_device_flow({graph, "offline_access"});
    REQUIRE(code);
    CHECK(f.transport.requests[0].target == "/organizations/oauth2/v2.0/devicecode");
    CHECK(f.sent_form(0) == Form{{"client_id", kClient}, {"scope", graph + " offline_access"}});
    REQUIRE(f.client().poll_device_flow(*code));
    CHECK(f.transport.requests[1].target == "/organizations/oauth2/v2.0/token");
    CHECK(f.sent_form(1) == Form{{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                                 {"client_id", kClient},
                                 {"device_code", "DAQABIQ-secret-device-code"}});
  }
}

TEST_CASE("an empty client id or tenant fails before anything is sent") {
  Fixture f;
  f.options.client_id = "";
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kUsage);
  f.options.client_id = kClient;
  f.options.tenant = "";
  auto d = f.client().start_device_flow({"User.Read"});
  REQUIRE_FALSE(d);
  CHECK(d.error().kind == ErrorKind::kUsage);
  CHECK(f.transport.requests.empty());
}

// ---- answers ------------------------------------------------------------------------------------

TEST_CASE("a token answer is read, expires_in as a number or a string") {
  Fixture f;
  f.transport.respond(200, kTokens)
      .respond(200, R"({"token_type":"Bearer","expires_in":"3600","access_token":"at-x"})");
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE(r);
  CHECK(r->access_token == "at-1");
  CHECK(r->refresh_token == "rt-2");
  CHECK(r->scope == "https://graph.microsoft.com/Group.ReadWrite.All");
  CHECK(r->expires_in == 3599);
  auto app = f.client().client_secret_grant("s3cret", kGraphDefault);
  REQUIRE(app);
  CHECK(app->access_token == "at-x");
  CHECK(app->refresh_token.empty());
  CHECK(app->scope.empty());
  CHECK(app->expires_in == 3600);
}

TEST_CASE("a success answer without an access token is kAuth and is not quoted") {
  Fixture f;
  f.transport.respond(200, R"({"refresh_token":"rt-leak-me"})").respond(200, "<html>portal</html>");
  for (int i = 0; i < 2; ++i) {
    auto r = f.client().redeem_refresh_token("rt", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kAuth);
    CHECK(contains(r.error().message, "without an access token"));
    CHECK_FALSE(contains(r.error().message, "rt-leak-me"));
    CHECK_FALSE(contains(r.error().message, "portal"));
  }
}

TEST_CASE("a device code answer is read, missing interval and expiry take RFC/Entra defaults") {
  Fixture f;
  f.transport.respond(200, kDeviceCode)
      .respond(200, R"({"user_code":"U","device_code":"D","verification_url":"https://v"})")
      .respond(200, R"({"user_code":"U","verification_uri":"https://v"})");
  auto c = f.client().start_device_flow({"User.Read"});
  REQUIRE(c);
  CHECK(c->user_code == "BPPVYQZMA");
  CHECK(c->device_code == "DAQABIQ-secret-device-code");
  CHECK(c->verification_uri == "https://microsoft.com/devicelogin");
  CHECK(c->expires_in == 900);
  CHECK(c->interval == 5);
  CHECK(contains(c->message, "BPPVYQZMA"));
  auto d = f.client().start_device_flow({"User.Read"});
  REQUIRE(d);
  CHECK(d->verification_uri == "https://v");
  CHECK(d->expires_in == 900);
  CHECK(d->interval == 5);
  auto bad = f.client().start_device_flow({"User.Read"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::kAuth);
  CHECK(contains(bad.error().message, "device_code"));
}

TEST_CASE("an Entra error keeps its status, AADSTS code, trace id, correlation id and time") {
  Fixture f;
  f.transport.respond(400,
                      aad_error("invalid_grant", 70000,
                                "The provided value for the input parameter 'refresh_token' is "
                                "not valid."),
                      {{"x-ms-request-id", "header-trace"}, {"Date", "Fri, 27 Nov 2026"}});
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE_FALSE(r);
  const gt::Error& e = r.error();
  CHECK(e.kind == ErrorKind::kAuth);
  CHECK(e.http_status == 400);
  CHECK(e.code == "AADSTS70000");
  CHECK(e.request_id == "0000aaaa-0000-4000-8000-trace0000001");
  CHECK(e.client_request_id == "0000bbbb-0000-4000-8000-corr00000001");
  CHECK(e.date == "2026-11-27 15:12:44Z");
  CHECK(contains(e.message, "refresh token is no longer valid"));
  // Entra's first description line, not the Trace ID / Timestamp lines after it.
  CHECK(contains(e.message, "(invalid_grant: AADSTS70000: The provided value"));
  CHECK_FALSE(contains(e.message, "Trace ID"));
  CHECK(contains(e.hint, "graph-threads auth login"));
  CHECK(f.transport.requests.size() == 1);  // a refusal is final
}

TEST_CASE("an error without Entra's ids falls back to the headers and our id") {
  Fixture f;
  f.transport.respond(400, R"({"error":"invalid_grant","error_description":"AADSTS50126: bad"})",
                      {{"x-ms-request-id", "header-trace"}, {"Date", "Fri, 27 Nov 2026"}});
  auto r = f.client().password_grant("u@x", "pw", {"User.Read"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "AADSTS50126");  // from the description
  CHECK(r.error().request_id == "header-trace");
  CHECK(r.error().client_request_id == "crid-1");
  CHECK(r.error().date == "Fri, 27 Nov 2026");
}

namespace {

enum class Grant { kRefresh, kPassword, kSecret, kAssertion, kDeviceStart, kDevicePoll };

gt::Result<gt::TokenResponse> run(Fixture& f, Grant g) {
  auto c = f.client();
  switch (g) {
    case Grant::kRefresh:
      return c.redeem_refresh_token("rt", {"User.Read"});
    case Grant::kPassword:
      return c.password_grant("adele@contoso.com", "pw", {"User.Read"});
    case Grant::kSecret:
      return c.client_secret_grant("s3cret", kGraphDefault);
    case Grant::kAssertion:
      return c.client_assertion_grant("a.b.c", kGraphDefault);
    case Grant::kDeviceStart: {
      auto d = c.start_device_flow({"User.Read"});
      if (!d) return std::move(d).error();
      return gt::TokenResponse{};
    }
    case Grant::kDevicePoll:
      return c.poll_device_flow(f.code());
  }
  return gt::Error::usage("unreachable");
}

}  // namespace

TEST_CASE("every refusal becomes kAuth in the user's terms, with what to do") {
  struct Row {
    const char* name;
    Grant grant;
    int status;
    std::string body;
    std::string message;  // in the message
    std::string hint;     // in the hint
    std::string code;
  };
  const std::vector<Row> rows = {
      {"rotated refresh token", Grant::kRefresh, 400,
       aad_error("invalid_grant", 70000, "The refresh token has already been redeemed"),
       "refresh token is no longer valid", "auth login", "AADSTS70000"},
      {"inactive refresh token", Grant::kRefresh, 400,
       aad_error("invalid_grant", 700082, "expired due to inactivity"), "expired", "auth login",
       "AADSTS700082"},
      {"revoked refresh token", Grant::kRefresh, 400,
       aad_error("invalid_grant", 50173, "grant has expired due to it being revoked"), "revoked",
       "auth login", "AADSTS50173"},
      {"MFA as Entra sends it for a password", Grant::kPassword, 400,
       aad_error("invalid_grant", 50076, "you must use multi-factor authentication",
                 "basic_action"),
       "multi-factor authentication (MFA) or Conditional Access", "auth login", "AADSTS50076"},
      {"MFA on a refresh token", Grant::kRefresh, 400,
       aad_error("interaction_required", 50079, "must enroll in MFA"), "interactive sign-in",
       "auth login", "AADSTS50079"},
      {"Conditional Access", Grant::kRefresh, 400,
       aad_error("invalid_grant", 53003, "Access has been blocked by Conditional Access policies"),
       "Conditional Access", "auth login", "AADSTS53003"},
      {"consent", Grant::kRefresh, 400,
       aad_error("invalid_grant", 65001, "The user or administrator has not consented",
                 "consent_required"),
       "consented", "administrator", "AADSTS65001"},
      {"wrong password", Grant::kPassword, 400,
       aad_error("invalid_grant", 50126, "Error validating credentials"),
       "username or password is wrong", "AZURE_PASSWORD", "AADSTS50126"},
      {"unknown user", Grant::kPassword, 400,
       aad_error("invalid_grant", 50034, "The user account does not exist"), "does not exist",
       "AZURE_USERNAME", "AADSTS50034"},
      {"wrong secret", Grant::kSecret, 401,
       aad_error("invalid_client", 7000215, "Invalid client secret provided."),
       std::string("client secret of app ") + kClient, "AZURE_CLIENT_SECRET", "AADSTS7000215"},
      {"confidential app in a public flow", Grant::kDevicePoll, 401,
       aad_error("invalid_client", 7000218,
                 "The request body must contain the following parameter: 'client_assertion' or "
                 "'client_secret'."),
       "confidential client", "Allow public client flows", "AADSTS7000218"},
      {"public client with a secret", Grant::kSecret, 401,
       aad_error("invalid_client", 700025, "Client is public"), "public client", "register",
       "AADSTS700025"},
      {"assertion with an unknown certificate", Grant::kAssertion, 401,
       aad_error("invalid_client", 700027, "The certificate with identifier ... not registered"),
       "client assertion", "AZURE_CLIENT_CERTIFICATE_PATH", "AADSTS700027"},
      {"assertion audience", Grant::kAssertion, 401,
       aad_error("invalid_client", 700023, "Client assertion audience claim does not match"),
       "client assertion", "clock", "AADSTS700023"},
      {"unknown client", Grant::kSecret, 400,
       aad_error("unauthorized_client", 700016, "Application with identifier was not found"),
       std::string("no application with client id ") + kClient + " exists in tenant organizations",
       "AZURE_CLIENT_ID", "AADSTS700016"},
      {"unknown client at devicecode", Grant::kDeviceStart, 400,
       aad_error("unauthorized_client", 700016, "Application with identifier was not found"),
       "no application with client id", "--client-id", "AADSTS700016"},
      {"declined", Grant::kDevicePoll, 400,
       aad_error("authorization_declined", 65004, "User declined to consent to access the app."),
       "the sign-in was declined", "approve", "AADSTS65004"},
      {"access_denied (RFC 8628's name)", Grant::kDevicePoll, 400, R"({"error":"access_denied"})",
       "the sign-in was declined", "auth login", "access_denied"},
      {"expired code", Grant::kDevicePoll, 400,
       aad_error("expired_token", 70020, "This device code has expired."),
       "the code expired before it was used", "auth login", "AADSTS70020"},
      {"bad device code", Grant::kDevicePoll, 400,
       aad_error("bad_verification_code", 70018, "Invalid verification code."),
       "does not know this device code", "auth login", "AADSTS70018"},
      {"device code used twice", Grant::kDevicePoll, 400,
       aad_error("invalid_grant", 70000, "This device code has already been redeemed."),
       "already used", "auth login", "AADSTS70000"},
      {"scope", Grant::kSecret, 400,
       aad_error("invalid_scope", 1002012, "Client credential flows must have /.default"), "scope",
       ".default", "AADSTS1002012"},
      {"app-only at /common", Grant::kSecret, 400,
       aad_error("invalid_request", 9001023, "isn't supported over the /common"),
       "needs a specific tenant", "AZURE_TENANT_ID", "AADSTS9001023"},
      {"an error nobody documented", Grant::kPassword, 400, R"({"error":"weird_thing"})",
       "the sign-in was refused (weird_thing)", "", "weird_thing"},
      {"not JSON", Grant::kRefresh, 404, "<html>Not Found</html>",
       "the sign-in server answered HTTP 404: <html>Not Found</html>", "AZURE_AUTHORITY_HOST", ""},
      {"a 500 that is not retried", Grant::kSecret, 500, "oops", "HTTP 500: oops", "try again", ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    Fixture f;
    f.transport.respond(row.status, row.body);
    auto r = run(f, row.grant);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kAuth);
    CHECK(r.error().http_status == row.status);
    CHECK(r.error().code == row.code);
    CHECK_MESSAGE(contains(r.error().message, row.message), r.error().message);
    CHECK_MESSAGE(contains(r.error().hint, row.hint), r.error().hint);
    CHECK(f.transport.requests.size() == 1);
  }
}

// ---- retries ------------------------------------------------------------------------------------

TEST_CASE("temporarily_unavailable is retried whatever its status, with a fresh request id") {
  Fixture f;
  f.transport
      .respond(400, aad_error("temporarily_unavailable", 90033, "Service is temporarily busy"))
      .respond(200, kTokens);
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE(r);
  CHECK(r->access_token == "at-1");
  CHECK(f.clock.sleeps == Sleeps{750ms});  // backoff: 1 s * (0.5 + 0.5 / 2)
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(f.transport.requests[0].header("client-request-id") == "crid-1");
  CHECK(f.transport.requests[1].header("client-request-id") == "crid-2");
  CHECK(f.transport.requests[0].body == f.transport.requests[1].body);
  CHECK(contains(f.log.str(), "temporarily_unavailable AADSTS90033  retry in 750 ms"));
}

TEST_CASE("429 waits for Retry-After on the clock, 503 and 504 are retried too") {
  Fixture f;
  f.transport.respond(429, "", {{"Retry-After", "2"}})
      .respond(503, "", {{"Retry-After", "1"}})
      .respond(504)
      .respond(200, kTokens);
  REQUIRE(f.client().password_grant("u@x", "pw", {"User.Read"}));
  CHECK(f.clock.sleeps == Sleeps{2000ms, 1000ms, 3000ms});
  CHECK(f.transport.requests.size() == 4);
  CHECK(contains(f.log.str(), "retry in 2 s (Retry-After 2 s)"));
}

TEST_CASE("an outage that outlasts the retries is kAuth saying how often it was tried") {
  Fixture f;
  f.options.retry.max_retries = 2;
  for (int i = 0; i < 3; ++i) {
    f.transport.respond(503, aad_error("temporarily_unavailable", 90033, "busy"),
                        {{"Retry-After", "1"}});
  }
  auto r = f.client().client_secret_grant("s3cret", kGraphDefault);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kAuth);
  CHECK(r.error().http_status == 503);
  CHECK(contains(r.error().message, "temporarily unavailable (after 3 attempts)"));
  CHECK(contains(r.error().hint, "--retries"));
  CHECK(f.transport.requests.size() == 3);
}

TEST_CASE("a Retry-After longer than the request timeout is not waited for") {
  Fixture f;
  f.transport.respond(429, "", {{"Retry-After", "120"}});
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kAuth);
  CHECK(contains(r.error().message, "would outlast the timeout"));
  CHECK(f.clock.sleeps.empty());
}

TEST_CASE("connection failures before anything was written are retried") {
  Fixture f;
  f.transport.fail(TransportFailure::kConnectRefused, false, "connection refused")
      .respond(200, kTokens);
  REQUIRE(f.client().redeem_refresh_token("rt", {}));
  CHECK(f.transport.requests.size() == 2);
  CHECK(f.clock.sleeps == Sleeps{750ms});
}

TEST_CASE("a failure that persists is kNetwork saying nothing was sent") {
  Fixture f;
  f.options.retry.max_retries = 1;
  f.transport.fail(TransportFailure::kConnectRefused, false, "connection refused")
      .fail(TransportFailure::kConnectRefused, false, "connection refused");
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(contains(r.error().message, "could not reach the sign-in server"));
  CHECK(contains(r.error().message, "nothing was sent (after 2 attempts)"));
  CHECK(r.error().client_request_id == "crid-2");
}

TEST_CASE("a request written without a complete answer is not repeated") {
  Fixture f;
  f.transport.fail(TransportFailure::kConnectionLost, true, "connection reset")
      .respond(200, kTokens);
  auto r = f.client().redeem_refresh_token("rt", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kNetwork);
  CHECK(contains(r.error().message, "the sign-in may need to be repeated"));
  CHECK(r.error().client_request_id == "crid-1");
  CHECK(f.transport.requests.size() == 1);
  CHECK(f.clock.sleeps.empty());
}

TEST_CASE("Ctrl-C in a retry wait or during an exchange is kInterrupted") {
  SUBCASE("in the wait") {
    Fixture f;
    f.clock.interrupt_sleeps = true;
    f.transport.respond(503);
    auto r = f.client().redeem_refresh_token("rt", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kInterrupted);
    CHECK(f.transport.requests.size() == 1);
  }
  SUBCASE("in the exchange") {
    Fixture f;
    f.transport.fail(TransportFailure::kInterrupted, true, "interrupted");
    auto r = f.client().redeem_refresh_token("rt", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kInterrupted);
    CHECK(contains(r.error().message, "may need to be repeated"));
  }
}

TEST_CASE("the verbose log has graph_client's attempt and status lines") {
  Fixture f;
  f.transport.respond(400, aad_error("invalid_grant", 50126, "bad"), {{"x-ms-request-id", "tr-1"}});
  (void)f.client().password_grant("u@x", "pw", {"User.Read"});
  const std::string log = f.log.str();
  CHECK(contains(log,
                 std::string("> POST ") + kTokenUrl + "  attempt 1/4  client-request-id crid-1\n"));
  CHECK(contains(log, "< 400  0 ms  x-ms-request-id tr-1  invalid_grant AADSTS50126\n"));
}

// ---- device code polling ------------------------------------------------------------------------

TEST_CASE("device flow: pending, slow_down, then tokens, the interval grows by 5 s from then on") {
  Fixture f;
  std::vector<std::int64_t> slow_downs;
  SUBCASE("pending -> slow_down -> tokens") {
    f.transport.respond(400, aad_error("authorization_pending", 70016, "pending"))
        .respond(400, aad_error("slow_down", 70016, "slow"))
        .respond(200, kTokens);
    auto r =
        f.client().poll_device_flow(f.code(), [&](std::int64_t i) { slow_downs.push_back(i); });
    REQUIRE(r);
    CHECK(r->access_token == "at-1");
    // The first poll waits the interval too.
    CHECK(f.clock.sleeps == Sleeps{5s, 5s, 10s});
  }
  SUBCASE("slow_down -> pending -> tokens") {
    f.transport.respond(400, aad_error("slow_down", 70016, "slow"))
        .respond(400, aad_error("authorization_pending", 70016, "pending"))
        .respond(200, kTokens);
    auto r =
        f.client().poll_device_flow(f.code(), [&](std::int64_t i) { slow_downs.push_back(i); });
    REQUIRE(r);
    CHECK(f.clock.sleeps == Sleeps{5s, 10s, 10s});
  }
  CHECK(slow_downs == std::vector<std::int64_t>{10});
  CHECK(f.transport.requests.size() == 3);
  // Each poll is its own exchange with its own id; the device code never reaches the log.
  CHECK(f.transport.requests[2].header("client-request-id") == "crid-3");
  CHECK_FALSE(contains(f.log.str(), "DAQABIQ"));
}

TEST_CASE("device flow: the code's lifetime is measured on the clock") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    f.transport.respond(400, aad_error("authorization_pending", 70016, "pending"));
  }
  auto r = f.client().poll_device_flow(f.code(/*expires_in=*/12, /*interval=*/5));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kAuth);
  CHECK(contains(r.error().message, "the code expired before it was used"));
  CHECK(contains(r.error().hint, "auth login"));
  // Polls at 5 s and 10 s; the last wait ends at 12 s and no poll follows it.
  CHECK(f.clock.sleeps == Sleeps{5s, 5s, 2s});
  CHECK(f.transport.requests.size() == 2);
}

TEST_CASE("device flow: declined, expired_token and a bad code end the polling") {
  for (const auto& [error, text] : std::vector<std::pair<std::string, std::string>>{
           {"authorization_declined", "the sign-in was declined"},
           {"access_denied", "the sign-in was declined"},
           {"expired_token", "the code expired before it was used"},
           {"bad_verification_code", "device code"}}) {
    CAPTURE(error);
    Fixture f;
    f.transport.respond(400, aad_error("authorization_pending", 70016, "pending"))
        .respond(400, aad_error(error, 70000, "x"));
    auto r = f.client().poll_device_flow(f.code());
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kAuth);
    CHECK(contains(r.error().message, text));
    CHECK(f.transport.requests.size() == 2);
  }
}

TEST_CASE("device flow: Ctrl-C during the wait is kInterrupted before any poll") {
  Fixture f;
  f.clock.interrupt_sleeps = true;
  auto r = f.client().poll_device_flow(f.code());
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kInterrupted);
  CHECK(f.transport.requests.empty());
  CHECK(f.clock.sleeps == Sleeps{5s});
}

TEST_CASE("device flow: interval 0 polls at once, a server error between polls is retried") {
  Fixture f;
  f.transport.respond(400, aad_error("authorization_pending", 70016, "pending"))
      .respond(503, "", {{"Retry-After", "1"}})
      .respond(200, kTokens);
  REQUIRE(f.client().poll_device_flow(f.code(900, 0)));
  CHECK(f.clock.sleeps == Sleeps{1s});
  CHECK(f.transport.requests.size() == 3);
}

// ---- secrets
// --------------------------------------------------------------------------------------

TEST_CASE("no secret reaches a message, a hint or the log, whatever the server answers") {
  const std::string refresh = "RTsecret-0001-refresh";
  const std::string password = "PWsecret-0002-p@ss w+rd";
  const std::string secret = "CSsecret-0003~client";
  const std::string assertion = "ASsecret.0004.assertion";
  const std::string device = "DCsecret-0005-device";
  const std::vector<std::string> secrets = {refresh, password, secret, assertion, device};

  // Answers that a hostile or broken server might give: each echoes every secret (grant g's
  // secret is secrets[g]).
  std::string echo;
  for (const auto& s : secrets) echo += s + " ";
  const std::vector<std::function<void(gt::test::FakeTransport&)>> answers = {
      [&](auto& t) { t.respond(400, aad_error("invalid_grant", 70000, echo)); },
      [&](auto& t) { t.respond(401, aad_error("invalid_client", 7000215, echo)); },
      [&](auto& t) { t.respond(400, R"({"error":")" + echo + R"("})"); },
      [&](auto& t) { t.respond(502, "<html>" + echo + "</html>"); },
      [&](auto& t) {
        t.respond(200, R"({"access_token":"at","refresh_token":")" + refresh + R"("})");
      },
      [&](auto& t) { t.fail(TransportFailure::kConnectionLost, true, "reset"); },
      [&](auto& t) {
        for (int i = 0; i < 4; ++i) t.fail(TransportFailure::kConnectRefused, false, "refused");
      },
      [&](auto& t) {
        for (int i = 0; i < 4; ++i) {
          t.respond(503, aad_error("temporarily_unavailable", 90033, echo));
        }
      },
  };
  using Run = std::function<gt::Result<gt::TokenResponse>(Fixture&)>;
  const std::vector<Run> grants = {
      [&](Fixture& f) { return f.client().redeem_refresh_token(refresh, {"User.Read"}); },
      [&](Fixture& f) { return f.client().password_grant("adele@x", password, {"User.Read"}); },
      [&](Fixture& f) { return f.client().client_secret_grant(secret, kGraphDefault); },
      [&](Fixture& f) { return f.client().client_assertion_grant(assertion, kGraphDefault); },
      [&](Fixture& f) {
        gt::DeviceCode c = f.code(900, 1);
        c.device_code = device;
        return f.client().poll_device_flow(c);
      },
  };
  int failures = 0;
  for (std::size_t g = 0; g < grants.size(); ++g) {
    for (std::size_t a = 0; a < answers.size(); ++a) {
      CAPTURE(g);
      CAPTURE(a);
      Fixture f;
      answers[a](f.transport);
      auto r = grants[g](f);
      // The request carried this grant's secret; nothing else may show any.
      CHECK(contains(f.transport.requests.at(0).body, "secret"));
      std::string shown = f.log.str();
      if (!r) {
        ++failures;
        const gt::Error& e = r.error();
        shown += e.message + e.hint + e.code + e.request_id + e.client_request_id + e.date;
      }
      // The secret this grant sent, whole or in part (quotes are cut short).
      const std::string& sent = secrets[g];
      CHECK_FALSE(contains(shown, sent));
      CHECK_FALSE(contains(shown, sent.substr(0, 12)));
      CHECK_FALSE(contains(shown, sent.substr(sent.size() - 8)));
    }
  }
  CHECK(failures == 5 * 7);  // every answer but the success fails
}
