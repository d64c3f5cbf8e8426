// gt::OAuthClient against the emulator's identity service over loopback TLS, in process: every
// grant end to end (form encoding, TLS with the test CA, Entra's answers and refusals as the
// client reads them), with a real clock and the device code approved from another thread.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emulator/identity_service.hpp"
#include "emulator/router.hpp"
#include "emulator/server.hpp"
#include "gt/auth.hpp"
#include "gt/beast_transport.hpp"
#include "gt/oauth.hpp"
#include "gt/uuid.hpp"
#include "support/rsa_assertion.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::ErrorKind;
using gt::emulator::IdentityApp;
using gt::emulator::IdentityOptions;
using gt::emulator::IdentityUser;
using gt::test::TestPki;

namespace {

constexpr const char* kPublicClient = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
constexpr const char* kSecretApp = "535fb089-9ff3-47b6-9bfb-4f1264799865";
constexpr const char* kSecret = "s3cr3t~+/= &x%";
constexpr const char* kCertApp = "6731de76-14a6-49ae-97bc-6eba6914391e";
constexpr const char* kTenant = "contoso.onmicrosoft.com";
constexpr const char* kAdele = "adele@contoso.com";
constexpr const char* kAdelePassword = "p@ss w+rd&=%";
constexpr const char* kMfaUser = "mfa@contoso.com";
constexpr const char* kGraphDefault = "https://graph.microsoft.com/.default";
const std::vector<std::string> kDelegated = {
    "https://graph.microsoft.com/Group-Conversation.ReadWrite.All", "offline_access"};

const gt::test::RsaCredential& certificate() {
  static const auto cert =
      gt::test::make_rsa_credential("cert app", std::chrono::system_clock::now() - 24h,
                                    std::chrono::system_clock::now() + 24h * 365);
  return cert;
}

IdentityOptions identity_options() {
  IdentityOptions o;
  o.users = {{kAdele, IdentityUser{.password = kAdelePassword}},
             {kMfaUser, IdentityUser{.password = "mfa-password", .needs_mfa = true}}};
  o.apps = {{kSecretApp, IdentityApp{.secret = kSecret}},
            {kCertApp, IdentityApp{.certificate_pem = certificate().cert_pem}}};
  // Tests poll as fast as the emulator answers.
  o.device_poll_interval = 0s;
  return o;
}

// The emulator's identity service behind its router, served over TLS with the test CA, and a
// BeastTransport that trusts that CA.
struct Login {
  explicit Login(IdentityOptions options = identity_options()) {
    auto created = gt::emulator::IdentityService::create(std::move(options));
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    identity = std::move(created).value();
    router = std::make_unique<gt::emulator::Router>(
        gt::emulator::Routes{.graph = nullptr, .identity = identity.get(), .control = nullptr});
    server = std::make_unique<gt::emulator::Server>(
        gt::emulator::ServerOptions{.host = "127.0.0.1", .port = 0, .tls = TestPki::get().server},
        *router, faults);
    auto st = server->start();
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
    auto t = gt::BeastTransport::create({.cacert_file = TestPki::get().ca_file->path()});
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    transport = std::move(t).value();
  }

  gt::OAuthClient client(std::string client_id, std::string tenant = "organizations") {
    auto authority = gt::authority_host(gt::Cloud::kGlobal, server->url());
    REQUIRE(authority);
    return gt::OAuthClient({.transport = *transport,
                            .clock = clock,
                            .new_request_id = gt::new_uuid,
                            .jitter = [] { return 0.5; },
                            .verbose = &log},
                           {.authority = *authority,
                            .tenant = std::move(tenant),
                            .client_id = std::move(client_id),
                            .retry = {},
                            .request_timeout = 10s,
                            .user_agent = "graph-threads/test"});
  }

  void check_token(const std::string& access_token) {
    const auto st = identity->verify_access_token(access_token);
    CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  }

  std::unique_ptr<gt::emulator::IdentityService> identity;
  std::unique_ptr<gt::emulator::Router> router;
  gt::emulator::FaultPlan faults;
  std::unique_ptr<gt::emulator::Server> server;
  std::unique_ptr<gt::BeastTransport> transport;
  gt::SystemClock clock;
  std::ostringstream log;
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST_CASE("oauth/emulator: device code approved from another thread") {
  Login login;
  auto oauth = login.client(kPublicClient);
  auto code = oauth.start_device_flow(kDelegated);
  REQUIRE_MESSAGE(code.ok(), (code.ok() ? "" : code.error().message));
  CHECK(code->interval == 0);
  CHECK(code->expires_in == 900);
  CHECK(contains(code->message, code->user_code));

  std::thread browser([&] {
    std::this_thread::sleep_for(50ms);
    const auto st = login.identity->approve_device(code->user_code, kAdele);
    CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  });
  auto tokens = oauth.poll_device_flow(*code);
  browser.join();
  REQUIRE_MESSAGE(tokens.ok(), (tokens.ok() ? "" : tokens.error().message));
  login.check_token(tokens->access_token);
  CHECK_FALSE(tokens->refresh_token.empty());
  CHECK(tokens->expires_in == 3600);
  CHECK(contains(tokens->scope, "Group-Conversation.ReadWrite.All"));
  const auto claims = gt::decode_token_claims(tokens->access_token);
  REQUIRE(claims);
  CHECK(claims->account == kAdele);

  // Polled while pending (authorization_pending answers), every attempt with its own id.
  const auto received = login.server->received();
  REQUIRE(received.size() >= 2);
  std::set<std::string> ids;
  for (const auto& r : received) {
    CHECK(r.header("return-client-request-id") == "true");
    ids.insert(std::string(r.header("client-request-id")));
  }
  CHECK(ids.size() == received.size());
  CHECK_FALSE(contains(login.log.str(), code->device_code));

  // A device code is good for one sign-in.
  auto again = oauth.poll_device_flow(*code);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == ErrorKind::kAuth);
  CHECK(again.error().code == "AADSTS70000");
}

TEST_CASE("oauth/emulator: a declined device code ends the polling") {
  Login login;
  auto oauth = login.client(kPublicClient);
  auto code = oauth.start_device_flow(kDelegated);
  REQUIRE(code);
  REQUIRE(login.identity->deny_device(code->user_code));
  auto tokens = oauth.poll_device_flow(*code);
  REQUIRE_FALSE(tokens);
  CHECK(tokens.error().kind == ErrorKind::kAuth);
  CHECK(contains(tokens.error().message, "the sign-in was declined"));
  CHECK(tokens.error().code == "AADSTS65004");
}

TEST_CASE("oauth/emulator: refresh tokens rotate, the old one is then refused") {
  Login login;
  auto oauth = login.client(kPublicClient, kTenant);
  auto first = oauth.password_grant(kAdele, kAdelePassword, kDelegated);
  REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  REQUIRE_FALSE(first->refresh_token.empty());

  auto second = oauth.redeem_refresh_token(first->refresh_token, kDelegated);
  REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().message));
  login.check_token(second->access_token);
  REQUIRE_FALSE(second->refresh_token.empty());
  CHECK(second->refresh_token != first->refresh_token);

  auto reused = oauth.redeem_refresh_token(first->refresh_token, kDelegated);
  REQUIRE_FALSE(reused);
  const gt::Error& e = reused.error();
  CHECK(e.kind == ErrorKind::kAuth);
  CHECK(e.http_status == 400);
  CHECK(e.code == "AADSTS70000");
  CHECK(contains(e.message, "the refresh token is no longer valid"));
  CHECK(contains(e.message, "already been redeemed"));  // Entra's (the emulator's) own words
  CHECK(contains(e.hint, "graph-threads auth login"));
  CHECK_FALSE(e.request_id.empty());  // the trace id
  // Entra echoes our client-request-id as the correlation id.
  CHECK(gt::looks_like_guid(e.client_request_id));
  CHECK(contains(login.log.str(), "client-request-id " + e.client_request_id));
  CHECK_FALSE(contains(e.message + e.hint, first->refresh_token));
  CHECK_FALSE(contains(login.log.str(), first->refresh_token));

  // The rotated one still works, without scopes too.
  auto third = oauth.redeem_refresh_token(second->refresh_token, {});
  REQUIRE_MESSAGE(third.ok(), (third.ok() ? "" : third.error().message));
  login.check_token(third->access_token);
}

TEST_CASE("oauth/emulator: password grant, wrong password, and MFA") {
  Login login;
  auto oauth = login.client(kPublicClient, kTenant);
  auto ok = oauth.password_grant(kAdele, kAdelePassword, kDelegated);
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  login.check_token(ok->access_token);

  auto wrong = oauth.password_grant(kAdele, "not-the-password", kDelegated);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::kAuth);
  CHECK(wrong.error().code == "AADSTS50126");
  CHECK(contains(wrong.error().message, "the username or password is wrong"));
  CHECK_FALSE(contains(wrong.error().message + wrong.error().hint, "not-the-password"));

  auto mfa = oauth.password_grant(kMfaUser, "mfa-password", kDelegated);
  REQUIRE_FALSE(mfa);
  CHECK(mfa.error().kind == ErrorKind::kAuth);
  CHECK(mfa.error().code == "AADSTS50076");
  CHECK(contains(mfa.error().message, "multi-factor authentication (MFA)"));
  CHECK(contains(mfa.error().hint, "graph-threads auth login"));
  CHECK_FALSE(contains(login.log.str(), "mfa-password"));
  CHECK_FALSE(contains(login.log.str(), "p@ss"));
}

TEST_CASE("oauth/emulator: client secret accepted, wrong secret and unknown app refused") {
  Login login;
  auto oauth = login.client(kSecretApp, kTenant);
  auto ok = oauth.client_secret_grant(kSecret, kGraphDefault);
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  login.check_token(ok->access_token);
  CHECK(ok->refresh_token.empty());
  const auto claims = gt::decode_token_claims(ok->access_token);
  REQUIRE(claims);
  CHECK(claims->app_only());

  auto wrong = oauth.client_secret_grant("wrong-secret-value", kGraphDefault);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::kAuth);
  CHECK(wrong.error().http_status == 401);
  CHECK(wrong.error().code == "AADSTS7000215");
  CHECK(contains(wrong.error().hint, "AZURE_CLIENT_SECRET"));
  CHECK_FALSE(contains(wrong.error().message + wrong.error().hint, "wrong-secret-value"));

  auto unknown = login.client("99999999-9999-4999-8999-999999999999", kTenant)
                     .client_secret_grant(kSecret, kGraphDefault);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == "AADSTS700016");
  CHECK(contains(unknown.error().message, "no application with client id"));
  CHECK_FALSE(contains(login.log.str(), "s3cr3t"));
  CHECK_FALSE(contains(login.log.str(), "wrong-secret-value"));
}

TEST_CASE("oauth/emulator: client assertions signed RS256 and PS256 are accepted") {
  Login login;
  auto oauth = login.client(kCertApp, kTenant);
  const auto& cert = certificate();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto assertion = [&](const std::string& alg, const std::string& audience) {
    const std::string header =
        alg == "PS256"
            ? R"({"alg":"PS256","typ":"JWT","x5t#S256":")" + gt::test::x5t_s256(cert) + R"("})"
            : R"({"alg":"RS256","typ":"JWT","x5t":")" + gt::test::x5t(cert) + R"("})";
    const std::string payload =
        R"({"aud":")" + audience + R"(","iss":")" + kCertApp + R"(","sub":")" + kCertApp +
        R"(","jti":")" + gt::new_uuid() + R"(","nbf":)" + std::to_string(now - 1) + R"(,"iat":)" +
        std::to_string(now - 1) + R"(,"exp":)" + std::to_string(now + 600) + "}";
    return gt::test::sign_jws(header, payload, cert.key.get(), alg);
  };
  // The audience is the token endpoint as this client addresses it.
  CHECK(oauth.token_endpoint() == login.server->url() + "/" + kTenant + "/oauth2/v2.0/token");
  for (const std::string alg : {"RS256", "PS256"}) {
    CAPTURE(alg);
    auto ok = oauth.client_assertion_grant(assertion(alg, oauth.token_endpoint()), kGraphDefault);
    REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
    login.check_token(ok->access_token);
  }
  const std::string elsewhere = assertion("RS256", "https://login.microsoftonline.com/x/token");
  auto refused = oauth.client_assertion_grant(elsewhere, kGraphDefault);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::kAuth);
  CHECK(refused.error().code == "AADSTS700023");
  CHECK(contains(refused.error().message, "client assertion"));
  CHECK_FALSE(contains(refused.error().message + refused.error().hint, elsewhere));
  CHECK_FALSE(contains(login.log.str(), elsewhere.substr(0, 40)));
}
