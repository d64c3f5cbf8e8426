// The Microsoft identity platform stand-in (emulator/identity_service) as a pure function: every
// grant and every refusal, on a fake clock (nothing sleeps), and what gt::decode_token_claims
// reads from the tokens it issues.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "emulator/certs.hpp"
#include "emulator/identity_service.hpp"
#include "gt/auth.hpp"
#include "gt/http.hpp"
#include "gt/uuid.hpp"
#include "support/jwt.hpp"
#include "support/rsa_assertion.hpp"

namespace {

namespace json = boost::json;
using gt::HttpRequest;
using gt::HttpResponse;
using gt::emulator::IdentityApp;
using gt::emulator::IdentityOptions;
using gt::emulator::IdentityService;
using gt::emulator::IdentityUser;
using gt::emulator::kEmulatorTenantId;
using gt::test::RsaCredential;
using std::chrono::hours;
using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

// 2026-11-27T15:00:00Z
const TimePoint kStart = TimePoint(seconds(1795791600));
constexpr std::int64_t kStartEpoch = 1795791600;
constexpr const char* kStartStamp = "2026-11-27 15:00:00Z";

constexpr const char* kPublicClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
constexpr const char* kSecretApp = "535fb089-9ff3-47b6-9bfb-4f1264799865";
constexpr const char* kSecret = "s3cr3t~+/= &x";
constexpr const char* kCertApp = "6731de76-14a6-49ae-97bc-6eba6914391e";
constexpr const char* kExpiredCertApp = "2a1b0e5c-3f6d-4c8e-9a7b-1d2e3f405162";
constexpr const char* kTenantDomain = "contoso.onmicrosoft.com";
constexpr const char* kTenantGuid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr const char* kAdele = "adele@contoso.com";
constexpr const char* kAdelePassword = "p@ss w+rd&=%";
constexpr const char* kMfaUser = "mfa@contoso.com";
constexpr const char* kDelegatedScope =
    "https://graph.microsoft.com/Group.ReadWrite.All offline_access openid profile";
constexpr const char* kGraphDefault = "https://graph.microsoft.com/.default";
constexpr const char* kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// The RSA certificates of the tests, generated once: the one registered for kCertApp, one that
// nobody registered, and one registered for kExpiredCertApp whose validity ended before kStart.
struct Pki {
  RsaCredential registered, stranger, expired;
  static const Pki& get() {
    static const Pki pki = [] {
      Pki p;
      p.registered =
          gt::test::make_rsa_credential("cert app", kStart - hours(24), kStart + hours(24 * 365));
      p.stranger =
          gt::test::make_rsa_credential("stranger", kStart - hours(24), kStart + hours(24 * 365));
      p.expired = gt::test::make_rsa_credential("expired", kStart - hours(24 * 400),
                                                kStart - hours(24 * 35));
      return p;
    }();
    return pki;
  }
};

IdentityOptions default_options() {
  IdentityOptions o;
  o.users[kAdele] = IdentityUser{.password = kAdelePassword, .display_name = "Adele Vance"};
  o.users[kMfaUser] = IdentityUser{.password = "pw", .needs_mfa = true};
  o.apps[kSecretApp] = IdentityApp{.secret = kSecret};
  o.apps[kCertApp] = IdentityApp{.certificate_pem = Pki::get().registered.cert_pem,
                                 .roles = {"Group.Read.All", "Sites.Read.All"}};
  o.apps[kExpiredCertApp] = IdentityApp{.certificate_pem = Pki::get().expired.cert_pem};
  return o;
}

// application/x-www-form-urlencoded, as a careful client writes it.
std::string form(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    for (const unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  }
  return out;
}

HttpRequest post(std::string target, std::string body, std::vector<gt::Header> extra = {}) {
  HttpRequest r;
  r.method = "POST";
  r.scheme = "https";
  r.host = "127.0.0.1";
  r.port = 8443;
  r.target = std::move(target);
  r.headers = {{"Host", "127.0.0.1:8443"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.body = std::move(body);
  return r;
}

std::string token_path(std::string_view tenant = "organizations") {
  return "/" + std::string(tenant) + "/oauth2/v2.0/token";
}

json::object body_of(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  REQUIRE_MESSAGE(!ec, r.body);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::vector<std::string> keys(const json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o) out.emplace_back(kv.key());
  return out;
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One segment of a JWT, decoded as a JSON object (0 header, 1 payload).
json::object jwt_part(std::string_view token, int index) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const std::string_view segment = token.substr(start, token.find('.', start) - start);
  REQUIRE_MESSAGE(segment.find_first_not_of(kAlphabet) == std::string_view::npos, segment);
  std::string text;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : segment) {
    buffer = (buffer << 6) | static_cast<unsigned>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      text += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  const json::value v = json::parse(text);
  REQUIRE(v.is_object());
  return v.as_object();
}

// An Entra error answer, with the envelope checked on the way.
struct AadAnswer {
  int status = 0;
  std::string error;
  std::int64_t code = 0;
  std::string description;
  json::object body;
};

AadAnswer error_of(const HttpResponse& r) {
  AadAnswer a;
  a.status = r.status;
  a.body = body_of(r);
  a.error = str(a.body, "error");
  a.description = str(a.body, "error_description");
  const json::value* codes = a.body.if_contains("error_codes");
  REQUIRE_MESSAGE(codes, r.body);
  REQUIRE(codes->is_array());
  REQUIRE(codes->as_array().size() == 1);
  a.code = codes->as_array()[0].to_number<std::int64_t>();
  CHECK_MESSAGE(a.description.starts_with("AADSTS" + std::to_string(a.code) + ": "), a.description);
  return a;
}

// The service on a fake clock that only moves when a test says so.
struct Identity {
  TimePoint now = kStart;
  std::unique_ptr<IdentityService> service;

  explicit Identity(IdentityOptions options = default_options()) {
    options.clock = [this] { return now; };
    auto created = IdentityService::create(std::move(options));
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    service = std::move(created).value();
  }
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  void advance(seconds s) { now += s; }

  HttpResponse call(HttpRequest r) { return service->handle(r); }

  HttpResponse token(std::string body, std::string_view tenant = "organizations",
                     std::vector<gt::Header> extra = {}) {
    return call(post(token_path(tenant), std::move(body), std::move(extra)));
  }

  // Starts a device code flow; returns the devicecode answer.
  json::object devicecode(std::string_view client_id = kPublicClient,
                          std::string_view scope = kDelegatedScope) {
    const auto r = call(post("/organizations/oauth2/v2.0/devicecode",
                             form({{"client_id", client_id}, {"scope", scope}})));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  HttpResponse poll(std::string_view device_code, std::string_view client_id = kPublicClient) {
    return token(form(
        {{"grant_type", kDeviceGrant}, {"client_id", client_id}, {"device_code", device_code}}));
  }

  HttpResponse password(std::string_view username, std::string_view password,
                        std::string_view scope = kDelegatedScope,
                        std::string_view client_id = kPublicClient) {
    return token(form({{"grant_type", "password"},
                       {"client_id", client_id},
                       {"username", username},
                       {"password", password},
                       {"scope", scope}}));
  }

  HttpResponse refresh(std::string_view refresh_token, std::string_view scope = {},
                       std::string_view client_id = kPublicClient) {
    if (scope.empty()) {
      return token(form({{"grant_type", "refresh_token"},
                         {"client_id", client_id},
                         {"refresh_token", refresh_token}}));
    }
    return token(form({{"grant_type", "refresh_token"},
                       {"client_id", client_id},
                       {"refresh_token", refresh_token},
                       {"scope", scope}}));
  }

  // A successful token answer (200, parsed).
  json::object tokens(const HttpResponse& r) {
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }
};

// ---- client assertions -------------------------------------------------------------------------

std::string default_aud(std::string_view tenant = kTenantDomain) {
  return "https://127.0.0.1:8443/" + std::string(tenant) + "/oauth2/v2.0/token";
}

struct AssertionSpec {
  std::string alg = "RS256";
  std::string thumbprint_header = "x5t";  // or "x5t#S256" or "" (none)
  const RsaCredential* signer = &Pki::get().registered;
  std::string iss = kCertApp;
  std::string sub = kCertApp;
  std::string aud = default_aud();
  std::optional<std::int64_t> nbf = kStartEpoch;
  std::optional<std::int64_t> exp = kStartEpoch + 600;
  std::string jti = "8f1c3a44-3c1d-4b1e-9c52-5f6a7b8c9d0e";
  int pss_salt_length = RSA_PSS_SALTLEN_DIGEST;
};

std::string assertion(const AssertionSpec& s) {
  json::object header;
  header["alg"] = s.alg;
  header["typ"] = "JWT";
  if (s.thumbprint_header == "x5t") header["x5t"] = gt::test::x5t(*s.signer);
  if (s.thumbprint_header == "x5t#S256") header["x5t#S256"] = gt::test::x5t_s256(*s.signer);
  json::object payload;
  payload["aud"] = s.aud;
  payload["iss"] = s.iss;
  payload["sub"] = s.sub;
  if (!s.jti.empty()) payload["jti"] = s.jti;
  if (s.nbf) payload["nbf"] = *s.nbf;
  if (s.exp) payload["exp"] = *s.exp;
  return gt::test::sign_jws(json::serialize(header), json::serialize(payload), s.signer->key.get(),
                            s.alg, s.pss_salt_length);
}

std::string assertion_request(std::string_view client_assertion,
                              std::string_view client_id = kCertApp) {
  return form({{"grant_type", "client_credentials"},
               {"client_id", client_id},
               {"scope", kGraphDefault},
               {"client_assertion_type", kJwtBearer},
               {"client_assertion", client_assertion}});
}

std::string secret_request(std::string_view secret, std::string_view scope = kGraphDefault,
                           std::string_view client_id = kSecretApp) {
  return form({{"grant_type", "client_credentials"},
               {"client_id", client_id},
               {"scope", scope},
               {"client_secret", secret}});
}

}  // namespace

// ================================================================================================

TEST_SUITE("emulator: identity device code") {
  TEST_CASE("devicecode answers Entra's fields, in Entra's order") {
    Identity id;
    const auto r = id.call(post("/organizations/oauth2/v2.0/devicecode",
                                form({{"client_id", kPublicClient}, {"scope", kDelegatedScope}})));
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json; charset=utf-8");
    CHECK(r.header("Cache-Control") == "no-store, no-cache");
    CHECK(r.header("Pragma") == "no-cache");
    CHECK(r.header("Date") == "Fri, 27 Nov 2026 15:00:00 GMT");
    const auto body = body_of(r);
    CHECK(keys(body) == std::vector<std::string>{"user_code", "device_code", "verification_uri",
                                                 "expires_in", "interval", "message"});
    const std::string user_code = str(body, "user_code");
    CHECK(std::regex_match(user_code, std::regex("[A-HJ-NP-Z]{9}")));
    CHECK(str(body, "device_code").size() > 40);
    CHECK(str(body, "verification_uri") == "https://microsoft.com/devicelogin");
    CHECK(body.at("expires_in").as_int64() == 900);
    CHECK(body.at("interval").as_int64() == 5);
    CHECK(str(body, "message") ==
          "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and "
          "enter the code " +
              user_code + " to authenticate.");

    const auto listed = id.service->device_codes();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].user_code == user_code);
    CHECK(listed[0].client_id == kPublicClient);
    CHECK(listed[0].scope == kDelegatedScope);
    CHECK(listed[0].state == "pending");
    CHECK(listed[0].expires_at == kStart + seconds(900));
  }

  TEST_CASE("devicecode honours the configured lifetime and interval") {
    IdentityOptions o = default_options();
    o.device_code_lifetime = seconds(120);
    o.device_poll_interval = seconds(2);
    Identity id(std::move(o));
    const auto body = id.devicecode();
    CHECK(body.at("expires_in").as_int64() == 120);
    CHECK(body.at("interval").as_int64() == 2);
  }

  TEST_CASE("devicecode names the first missing parameter") {
    Identity id;
    struct Case {
      std::string body;
      const char* missing;
    };
    const Case cases[] = {
        {form({{"scope", kDelegatedScope}}), "client_id"},
        {form({{"client_id", kPublicClient}}), "scope"},
        {form({{"client_id", kPublicClient}, {"scope", "   "}}), "scope"},
        {"", "client_id"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.body);
      const auto e = error_of(id.call(post("/common/oauth2/v2.0/devicecode", c.body)));
      CHECK(e.status == 400);
      CHECK(e.error == "invalid_request");
      CHECK(e.code == 900144);
      CHECK(e.description.starts_with(
          std::string("AADSTS900144: The request body must contain the following parameter: '") +
          c.missing + "'.\r\nTrace ID: "));
    }
  }

  TEST_CASE("pending, slow_down, approval, tokens") {
    Identity id;
    const auto dc = id.devicecode();
    const std::string device_code = str(dc, "device_code");
    const std::string user_code = str(dc, "user_code");

    auto e = error_of(id.poll(device_code));
    CHECK(e.status == 400);
    CHECK(e.error == "authorization_pending");
    CHECK(e.code == 70016);

    id.advance(seconds(2));  // sooner than the 5 s interval
    e = error_of(id.poll(device_code));
    CHECK(e.error == "slow_down");
    CHECK(e.code == 70016);
    CHECK(e.description.find("at least 10 seconds") != std::string::npos);

    id.advance(seconds(10));  // the interval is now 10 s
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");

    // The control API approves with what the user typed: any case, with a dash.
    const std::string typed = "  " + user_code.substr(0, 4) + "-" + user_code.substr(4);
    std::string lower = typed;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    REQUIRE(id.service->approve_device(lower, "ADELE@contoso.com").ok());

    id.advance(seconds(1));  // a final answer is never delayed by slow_down
    const auto t = id.tokens(id.poll(device_code));
    CHECK(keys(t) == std::vector<std::string>{"token_type", "scope", "expires_in", "ext_expires_in",
                                              "access_token", "refresh_token", "id_token"});
    CHECK(str(t, "token_type") == "Bearer");
    CHECK(str(t, "scope") == "https://graph.microsoft.com/Group.ReadWrite.All openid profile");
    CHECK(t.at("expires_in").as_int64() == 3600);
    CHECK(t.at("ext_expires_in").as_int64() == 3600);

    const auto claims = gt::decode_token_claims(str(t, "access_token"));
    REQUIRE(claims);
    CHECK(claims->scopes == std::vector<std::string>{"Group.ReadWrite.All"});
    CHECK(claims->roles.empty());
    CHECK_FALSE(claims->app_only());
    CHECK(claims->account == kAdele);  // the registered spelling
    CHECK(claims->tenant == kEmulatorTenantId);
    CHECK(claims->audience == "https://graph.microsoft.com");
    REQUIRE(claims->expires_at);
    CHECK(*claims->expires_at == kStartEpoch + 13 + 3600);
    CHECK(id.service->verify_access_token(str(t, "access_token")).ok());

    // Redeemed once only.
    e = error_of(id.poll(device_code));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 70000);
    const auto listed = id.service->device_codes();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].state == "redeemed");
    CHECK(listed[0].user == kAdele);
  }

  TEST_CASE(
      "an enforced interval longer than the advertised one makes obedient clients slow down") {
    IdentityOptions options = default_options();
    options.device_poll_interval = seconds(1);
    options.enforced_poll_interval = seconds(3);
    Identity id(options);
    const auto dc = id.devicecode();
    CHECK(dc.at("interval").as_int64() == 1);  // what clients are told
    const std::string device_code = str(dc, "device_code");
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
    id.advance(seconds(1));  // as advertised, but sooner than enforced
    CHECK(error_of(id.poll(device_code)).error == "slow_down");  // interval 3 + 5
    id.advance(seconds(8));
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
  }

  TEST_CASE("each slow_down adds 5 s to the interval, as RFC 8628 says") {
    Identity id;
    const std::string device_code = str(id.devicecode(), "device_code");
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
    id.advance(seconds(1));
    CHECK(error_of(id.poll(device_code)).error == "slow_down");  // interval 10
    id.advance(seconds(9));
    CHECK(error_of(id.poll(device_code)).error == "slow_down");  // interval 15
    id.advance(seconds(14));
    CHECK(error_of(id.poll(device_code)).error == "slow_down");  // interval 20
    id.advance(seconds(20));
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
    id.advance(seconds(20));
    CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
  }

  TEST_CASE("polling exactly at the interval is not too soon") {
    Identity id;
    const std::string device_code = str(id.devicecode(), "device_code");
    for (int i = 0; i < 4; ++i) {
      CHECK(error_of(id.poll(device_code)).error == "authorization_pending");
      id.advance(seconds(5));
    }
  }

  TEST_CASE("a declined code answers authorization_declined and cannot be approved") {
    Identity id;
    const auto dc = id.devicecode();
    REQUIRE(id.service->deny_device(str(dc, "user_code")).ok());
    const auto e = error_of(id.poll(str(dc, "device_code")));
    CHECK(e.status == 400);
    CHECK(e.error == "authorization_declined");
    CHECK(e.code == 65004);
    const auto again = id.service->approve_device(str(dc, "user_code"), kAdele);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().kind == gt::ErrorKind::kUsage);
    CHECK(again.error().message.find("already declined") != std::string::npos);
    CHECK(id.service->device_codes()[0].state == "declined");
  }

  TEST_CASE("approve and deny refuse unknown codes and empty usernames") {
    Identity id;
    const auto unknown = id.service->approve_device("ABCDEFGHJ", kAdele);
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "unknown user code 'ABCDEFGHJ'");
    CHECK_FALSE(id.service->deny_device("nope").ok());
    const auto dc = id.devicecode();
    CHECK_FALSE(id.service->approve_device(str(dc, "user_code"), " ").ok());
    REQUIRE(id.service->approve_device(str(dc, "user_code"), kAdele).ok());
    const auto twice = id.service->approve_device(str(dc, "user_code"), kAdele);
    REQUIRE_FALSE(twice.ok());
    CHECK(twice.error().message.find("already approved") != std::string::npos);
  }

  TEST_CASE("a code expires after expires_in, approved or not") {
    Identity id;
    const auto pending = id.devicecode();
    const auto approved = id.devicecode();
    REQUIRE(id.service->approve_device(str(approved, "user_code"), kAdele).ok());
    id.advance(seconds(899));
    CHECK(error_of(id.poll(str(pending, "device_code"))).error == "authorization_pending");
    id.advance(seconds(1));
    for (const auto* dc : {&pending, &approved}) {
      const auto e = error_of(id.poll(str(*dc, "device_code")));
      CHECK(e.error == "expired_token");
      CHECK(e.code == 70020);
    }
    const auto late = id.service->approve_device(str(pending, "user_code"), kAdele);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().message.find("expired at 2026-11-27T15:15:00Z") != std::string::npos);
    CHECK(id.service->device_codes()[0].state == "expired");
  }

  TEST_CASE("an unknown device code, or another client's, is bad_verification_code") {
    Identity id;
    const std::string device_code = str(id.devicecode(), "device_code");
    for (const auto& [code, client] :
         {std::pair<std::string, std::string>{"DAQABIQEAAADnot-a-code", kPublicClient},
          {device_code, "11111111-2222-4333-8444-555555555555"}}) {
      const auto e = error_of(id.poll(code, client));
      CHECK(e.status == 400);
      CHECK(e.error == "bad_verification_code");
      CHECK(e.code == 70018);
    }
  }

  TEST_CASE("polls name their missing parameters") {
    Identity id;
    auto e = error_of(id.token(form({{"grant_type", kDeviceGrant}, {"device_code", "x"}})));
    CHECK(e.code == 900144);
    CHECK(e.description.find("'client_id'") != std::string::npos);
    e = error_of(id.token(form({{"grant_type", kDeviceGrant}, {"client_id", kPublicClient}})));
    CHECK(e.code == 900144);
    CHECK(e.description.find("'device_code'") != std::string::npos);
  }

  TEST_CASE("auto_approve_device answers the first poll with tokens for the demo user") {
    IdentityOptions o = default_options();
    o.auto_approve_device = true;
    Identity id(std::move(o));
    const auto t = id.tokens(id.poll(str(id.devicecode(), "device_code")));
    const auto claims = gt::decode_token_claims(str(t, "access_token"));
    REQUIRE(claims);
    CHECK(claims->account == "demo@graph-threads.test");
    CHECK(str(jwt_part(str(t, "access_token"), 1), "name") == "demo");
    CHECK(id.service->device_codes()[0].user == "demo@graph-threads.test");
  }

  TEST_CASE("a device code without offline_access or openid gets only an access token") {
    Identity id;
    const auto dc = id.devicecode(kPublicClient, "Group-Conversation.ReadWrite.All");
    REQUIRE(id.service->approve_device(str(dc, "user_code"), "someone@fabrikam.com").ok());
    const auto t = id.tokens(id.poll(str(dc, "device_code")));
    CHECK(keys(t) == std::vector<std::string>{"token_type", "scope", "expires_in", "ext_expires_in",
                                              "access_token"});
    CHECK(str(t, "scope") == "https://graph.microsoft.com/Group-Conversation.ReadWrite.All");
    const auto payload = jwt_part(str(t, "access_token"), 1);
    CHECK(str(payload, "upn") == "someone@fabrikam.com");  // unregistered users may approve
    CHECK(str(payload, "name") == "someone");
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity refresh token") {
  TEST_CASE("each redemption rotates the refresh token, reusing one is invalid_grant") {
    Identity id;
    const auto first =
        id.tokens(id.password(kAdele, kAdelePassword, "Group.ReadWrite.All offline_access"));
    const std::string rt1 = str(first, "refresh_token");
    REQUIRE_FALSE(rt1.empty());

    id.advance(seconds(60));
    const auto second = id.tokens(id.refresh(rt1));
    const std::string rt2 = str(second, "refresh_token");
    REQUIRE_FALSE(rt2.empty());
    CHECK(rt2 != rt1);
    CHECK(str(second, "access_token") != str(first, "access_token"));
    CHECK(str(second, "scope") == "https://graph.microsoft.com/Group.ReadWrite.All");
    const auto claims = gt::decode_token_claims(str(second, "access_token"));
    REQUIRE(claims);
    CHECK(claims->scopes == std::vector<std::string>{"Group.ReadWrite.All"});
    CHECK(claims->account == kAdele);
    CHECK(*claims->expires_at == kStartEpoch + 60 + 3600);

    const auto reuse = error_of(id.refresh(rt1));
    CHECK(reuse.status == 400);
    CHECK(reuse.error == "invalid_grant");
    CHECK(reuse.code == 70000);
    CHECK(reuse.description.find("already been redeemed") != std::string::npos);

    // The newest one still works, with the scope sent again the way MSAL does.
    const auto third = id.tokens(
        id.refresh(rt2, "https://graph.microsoft.com/Group.ReadWrite.All offline_access"));
    CHECK(str(third, "refresh_token") != rt2);
  }

  TEST_CASE("the scopes stay those granted") {
    Identity id;
    const auto first = id.tokens(
        id.password(kAdele, kAdelePassword, "Group.ReadWrite.All User.Read offline_access"));
    // A subset request still gets every granted scope, as Entra does.
    const auto subset = id.tokens(id.refresh(str(first, "refresh_token"), "User.Read"));
    CHECK(gt::decode_token_claims(str(subset, "access_token"))->scopes ==
          std::vector<std::string>{"Group.ReadWrite.All", "User.Read"});
    // A scope outside the grant needs consent; the refresh token survives the refusal.
    const std::string rt = str(subset, "refresh_token");
    const auto e = error_of(id.refresh(rt, "https://graph.microsoft.com/Mail.Read"));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 65001);
    CHECK(str(e.body, "suberror") == "consent_required");
    CHECK(e.description.find("'Mail.Read'") != std::string::npos);
    CHECK(id.refresh(rt).status == 200);
  }

  TEST_CASE("a refresh token that was never issued is invalid_grant AADSTS9002313") {
    Identity id;
    const auto e = error_of(id.refresh("1.AnotOneOfOurs"));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 9002313);
  }

  TEST_CASE("a refresh token works only for the client it was issued to") {
    Identity id;
    const auto t = id.tokens(id.password(kAdele, kAdelePassword));
    const auto e =
        error_of(id.refresh(str(t, "refresh_token"), {}, "11111111-2222-4333-8444-555555555555"));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 70000);
    CHECK(e.description.find("different client") != std::string::npos);
  }

  TEST_CASE("refresh tokens expire after refresh_token_lifetime") {
    IdentityOptions o = default_options();
    o.refresh_token_lifetime = hours(24);
    Identity id(std::move(o));
    const auto t = id.tokens(id.password(kAdele, kAdelePassword));
    id.advance(hours(24) - seconds(1));
    const auto fresh = id.tokens(id.refresh(str(t, "refresh_token")));
    id.advance(hours(24));  // the new one counts from its own issue
    const auto e = error_of(id.refresh(str(fresh, "refresh_token")));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 700082);
  }

  TEST_CASE("revoke_refresh_tokens refuses every earlier refresh token of that user") {
    Identity id;
    const auto adele = id.tokens(id.password(kAdele, kAdelePassword));
    const auto dc = id.devicecode();
    REQUIRE(id.service->approve_device(str(dc, "user_code"), "other@contoso.com").ok());
    const auto other = id.tokens(id.poll(str(dc, "device_code")));

    REQUIRE(id.service->revoke_refresh_tokens("Adele@Contoso.com").ok());
    const auto e = error_of(id.refresh(str(adele, "refresh_token")));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 50173);
    CHECK(e.description.find("revoked") != std::string::npos);
    CHECK(id.refresh(str(other, "refresh_token")).status == 200);
    // A sign-in after the revocation works again.
    const auto again = id.tokens(id.password(kAdele, kAdelePassword));
    CHECK(id.refresh(str(again, "refresh_token")).status == 200);
    CHECK_FALSE(id.service->revoke_refresh_tokens("").ok());
  }

  TEST_CASE("without offline_access there is no refresh token") {
    Identity id;
    const auto t = id.tokens(id.password(kAdele, kAdelePassword, "Group.ReadWrite.All openid"));
    CHECK_FALSE(t.contains("refresh_token"));
    CHECK(t.contains("id_token"));
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity password") {
  TEST_CASE("the right password gets delegated tokens for that user") {
    Identity id;
    const auto t = id.tokens(id.password("ADELE@CONTOSO.COM", kAdelePassword));
    const std::string access = str(t, "access_token");

    const auto header = jwt_part(access, 0);
    CHECK(keys(header) == std::vector<std::string>{"typ", "alg", "kid"});
    CHECK(str(header, "typ") == "JWT");
    CHECK(str(header, "alg") == "HS256");
    CHECK(str(header, "kid").starts_with("emulator-"));

    const auto p = jwt_part(access, 1);
    CHECK(keys(p) == std::vector<std::string>{
                         "aud", "iss", "iat", "nbf", "exp", "appid", "appidacr", "idtyp", "name",
                         "oid", "preferred_username", "scp", "sub", "tid", "upn", "uti", "ver"});
    CHECK(str(p, "aud") == "https://graph.microsoft.com");
    CHECK(str(p, "iss") == std::string("https://sts.windows.net/") + kEmulatorTenantId + "/");
    CHECK(p.at("iat").as_int64() == kStartEpoch);
    CHECK(p.at("nbf").as_int64() == kStartEpoch);
    CHECK(p.at("exp").as_int64() == kStartEpoch + 3600);
    CHECK(str(p, "appid") == kPublicClient);
    CHECK(str(p, "appidacr") == "0");
    CHECK(str(p, "idtyp") == "user");
    CHECK(str(p, "name") == "Adele Vance");
    CHECK(gt::looks_like_guid(str(p, "oid")));
    CHECK(str(p, "preferred_username") == kAdele);
    CHECK(str(p, "scp") == "Group.ReadWrite.All");
    CHECK(str(p, "upn") == kAdele);
    CHECK(str(p, "tid") == kEmulatorTenantId);
    CHECK(str(p, "ver") == "1.0");

    const auto claims = gt::decode_token_claims(access);
    REQUIRE(claims);
    CHECK(claims->scopes == std::vector<std::string>{"Group.ReadWrite.All"});
    CHECK(claims->account == kAdele);
    CHECK(claims->tenant == kEmulatorTenantId);
    CHECK_FALSE(claims->app_only());

    const auto idt = jwt_part(str(t, "id_token"), 1);
    CHECK(str(idt, "aud") == kPublicClient);
    CHECK(str(idt, "iss") == std::string("https://127.0.0.1:8443/") + kEmulatorTenantId + "/v2.0");
    CHECK(str(idt, "oid") == str(p, "oid"));
    CHECK(str(idt, "preferred_username") == kAdele);
    CHECK(str(idt, "ver") == "2.0");
  }

  TEST_CASE("a user's oid is the same in every flow and differs between users") {
    Identity id;
    const auto by_password =
        jwt_part(str(id.tokens(id.password(kAdele, kAdelePassword)), "access_token"), 1);
    const auto dc = id.devicecode();
    REQUIRE(id.service->approve_device(str(dc, "user_code"), kAdele).ok());
    const auto by_device =
        jwt_part(str(id.tokens(id.poll(str(dc, "device_code"))), "access_token"), 1);
    CHECK(str(by_password, "oid") == str(by_device, "oid"));
    CHECK(str(by_password, "uti") != str(by_device, "uti"));
    const auto narrower = jwt_part(
        str(id.tokens(id.password(kAdele, kAdelePassword, "User.Read")), "access_token"), 1);
    CHECK(str(narrower, "oid") == str(by_password, "oid"));
    const auto dc2 = id.devicecode();
    REQUIRE(id.service->approve_device(str(dc2, "user_code"), "bob@contoso.com").ok());
    const auto bob = jwt_part(str(id.tokens(id.poll(str(dc2, "device_code"))), "access_token"), 1);
    CHECK(str(bob, "oid") != str(by_password, "oid"));
  }

  TEST_CASE("a wrong password is AADSTS50126, an unknown user AADSTS50034") {
    Identity id;
    auto e = error_of(id.password(kAdele, "wrong"));
    CHECK(e.status == 400);
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 50126);
    CHECK(e.description.starts_with(
        "AADSTS50126: Error validating credentials due to invalid username or password.\r\n"));
    e = error_of(id.password("nobody@contoso.com", kAdelePassword));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 50034);
    // Credentials are checked before MFA.
    e = error_of(id.password(kMfaUser, "wrong"));
    CHECK(e.code == 50126);
  }

  TEST_CASE("a user who needs MFA gets exactly Entra's AADSTS50076 answer") {
    Identity id;
    const auto r = id.password(kMfaUser, "pw");
    const auto e = error_of(r);
    CHECK(e.status == 400);
    CHECK(keys(e.body) == std::vector<std::string>{"error", "error_description", "error_codes",
                                                   "timestamp", "trace_id", "correlation_id",
                                                   "error_uri", "suberror", "claims"});
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 50076);
    CHECK(e.description.starts_with(
        "AADSTS50076: Due to a configuration change made by your administrator, or because you "
        "moved to a new location, you must use multi-factor authentication to access "
        "'00000003-0000-0000-c000-000000000000'.\r\nTrace ID: "));
    CHECK(str(e.body, "suberror") == "basic_action");
    CHECK(str(e.body, "error_uri") == "https://login.microsoftonline.com/error?code=50076");
    const json::value claims = json::parse(str(e.body, "claims"));
    CHECK(claims.at("access_token").at("capolids").at("essential").as_bool());
  }

  TEST_CASE("password sign-in names its missing parameters in order") {
    Identity id;
    auto e = error_of(id.token(form({{"grant_type", "password"},
                                     {"client_id", kPublicClient},
                                     {"password", "x"},
                                     {"scope", "User.Read"}})));
    CHECK(e.description.find("'username'") != std::string::npos);
    e = error_of(id.token(form({{"grant_type", "password"},
                                {"client_id", kPublicClient},
                                {"username", kAdele},
                                {"password", kAdelePassword}})));
    CHECK(e.code == 900144);
    CHECK(e.description.find("'scope'") != std::string::npos);
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity scopes") {
  TEST_CASE("delegated scopes become scp the way Entra writes it") {
    struct Case {
      const char* requested;
      const char* scp;
      const char* answer;
    };
    const Case cases[] = {
        {"https://graph.microsoft.com/Group.ReadWrite.All offline_access", "Group.ReadWrite.All",
         "https://graph.microsoft.com/Group.ReadWrite.All"},
        {"Group.ReadWrite.All  User.Read Group.ReadWrite.All", "Group.ReadWrite.All User.Read",
         "https://graph.microsoft.com/Group.ReadWrite.All https://graph.microsoft.com/User.Read"},
        {"00000003-0000-0000-c000-000000000000/Mail.Read email", "Mail.Read",
         "https://graph.microsoft.com/Mail.Read email"},
        {"https://graph.microsoft.com/.default offline_access",
         "Group-Conversation.ReadWrite.All User.Read",
         "https://graph.microsoft.com/Group-Conversation.ReadWrite.All "
         "https://graph.microsoft.com/User.Read"},
        {"openid profile offline_access", "User.Read",
         "https://graph.microsoft.com/User.Read openid profile"},
    };
    Identity id;
    for (const auto& c : cases) {
      CAPTURE(c.requested);
      const auto t = id.tokens(id.password(kAdele, kAdelePassword, c.requested));
      CHECK(str(jwt_part(str(t, "access_token"), 1), "scp") == c.scp);
      CHECK(str(t, "scope") == c.answer);
    }
  }

  TEST_CASE("another resource's scope is invalid_resource AADSTS500011") {
    Identity id;
    const auto e =
        error_of(id.password(kAdele, kAdelePassword, "api://contoso-api/read offline_access"));
    CHECK(e.error == "invalid_resource");
    CHECK(e.code == 500011);
    CHECK(e.description.find("api://contoso-api") != std::string::npos);
  }

  TEST_CASE("default_delegated_scopes is what .default grants") {
    IdentityOptions o = default_options();
    o.default_delegated_scopes = {"Group.ReadWrite.All"};
    Identity id(std::move(o));
    const auto t = id.tokens(id.password(kAdele, kAdelePassword, kGraphDefault));
    CHECK(gt::decode_token_claims(str(t, "access_token"))->scopes ==
          std::vector<std::string>{"Group.ReadWrite.All"});
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity client secret") {
  TEST_CASE("a client secret in the form gets an app-only token") {
    Identity id;
    const auto r = id.token(secret_request(kSecret), kTenantGuid);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const auto t = body_of(r);
    CHECK(keys(t) ==
          std::vector<std::string>{"token_type", "expires_in", "ext_expires_in", "access_token"});
    const std::string access = str(t, "access_token");
    const auto p = jwt_part(access, 1);
    CHECK(keys(p) == std::vector<std::string>{"aud", "iss", "iat", "nbf", "exp", "appid",
                                              "appidacr", "idtyp", "oid", "roles", "sub", "tid",
                                              "uti", "ver"});
    CHECK(str(p, "appid") == kSecretApp);
    CHECK(str(p, "appidacr") == "1");
    CHECK(str(p, "idtyp") == "app");
    CHECK(str(p, "tid") == kTenantGuid);
    CHECK(str(p, "iss") == std::string("https://sts.windows.net/") + kTenantGuid + "/");

    const auto claims = gt::decode_token_claims(access);
    REQUIRE(claims);
    CHECK(claims->scopes.empty());
    CHECK(claims->roles == std::vector<std::string>{"Group.ReadWrite.All"});
    CHECK(claims->app_only());
    CHECK(claims->account.empty());
    CHECK(claims->tenant == kTenantGuid);
    CHECK(*claims->expires_at == kStartEpoch + 3600);
    CHECK(id.service->verify_access_token(access).ok());
  }

  TEST_CASE("HTTP Basic client authentication works like the form field") {
    Identity id;
    // RFC 6749 §2.3.1: form-encode each part, then base64 "id:secret".
    const std::string basic =
        gt::test::base64url(std::string(kSecretApp) + ":" + form({{"", kSecret}}).substr(1));
    // base64url and base64 differ only in two letters; make it standard base64 with padding.
    std::string standard = basic;
    for (char& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (standard.size() % 4 != 0) standard += '=';
    const std::string body = form({{"grant_type", "client_credentials"}, {"scope", kGraphDefault}});
    auto r = id.token(body, kTenantDomain, {{"Authorization", "Basic " + standard}});
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(str(jwt_part(str(body_of(r), "access_token"), 1), "appid") == kSecretApp);

    const std::string wrong = gt::test::base64url(std::string(kSecretApp) + ":nope");
    const auto e = error_of(id.token(body, kTenantDomain, {{"Authorization", "Basic " + wrong}}));
    CHECK(e.status == 401);
    CHECK(e.code == 7000215);
  }

  TEST_CASE("client credential refusals") {
    struct Case {
      const char* name;
      std::string body;
      std::string tenant;
      int status;
      const char* error;
      std::int64_t code;
    };
    const Case cases[] = {
        {"wrong secret", secret_request("nope"), kTenantDomain, 401, "invalid_client", 7000215},
        {"secret of an app with a certificate only",
         secret_request(kSecret, kGraphDefault, kCertApp), kTenantDomain, 401, "invalid_client",
         7000215},
        {"unknown client",
         secret_request(kSecret, kGraphDefault, "99999999-9999-4999-8999-999999999999"),
         kTenantDomain, 400, "unauthorized_client", 700016},
        {"no credentials",
         form({{"grant_type", "client_credentials"},
               {"client_id", kSecretApp},
               {"scope", kGraphDefault}}),
         kTenantDomain, 401, "invalid_client", 7000218},
        {"a delegated scope", secret_request(kSecret, "https://graph.microsoft.com/Group.Read.All"),
         kTenantDomain, 400, "invalid_scope", 1002012},
        {"two resources",
         secret_request(kSecret, "https://graph.microsoft.com/.default api://other/.default"),
         kTenantDomain, 400, "invalid_scope", 70011},
        {"another resource", secret_request(kSecret, "api://other/.default"), kTenantDomain, 400,
         "invalid_resource", 500011},
        {"no scope",
         form({{"grant_type", "client_credentials"},
               {"client_id", kSecretApp},
               {"client_secret", kSecret}}),
         kTenantDomain, 400, "invalid_request", 900144},
        {"the common endpoint", secret_request(kSecret), "common", 400, "invalid_request", 9001023},
        {"a secret and an assertion",
         form({{"grant_type", "client_credentials"},
               {"client_id", kSecretApp},
               {"scope", kGraphDefault},
               {"client_secret", kSecret},
               {"client_assertion_type", kJwtBearer},
               {"client_assertion", "a.b.c"}}),
         kTenantDomain, 400, "invalid_request", 9002313},
    };
    Identity id;
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto e = error_of(id.token(c.body, c.tenant));
      CHECK(e.status == c.status);
      CHECK(e.error == c.error);
      CHECK(e.code == c.code);
    }
  }

  TEST_CASE("refusal descriptions say what Entra says") {
    Identity id;
    auto e = error_of(
        id.token(secret_request(kSecret, kGraphDefault, "99999999-9999-4999-8999-999999999999"),
                 kTenantDomain));
    CHECK(e.description.starts_with(
        "AADSTS700016: Application with identifier '99999999-9999-4999-8999-999999999999' was "
        "not found in the directory 'contoso.onmicrosoft.com'."));
    e = error_of(id.token(secret_request("nope"), kTenantDomain));
    CHECK(e.description.starts_with("AADSTS7000215: Invalid client secret provided."));
    e = error_of(id.token(secret_request(kSecret, "https://graph.microsoft.com/Group.Read.All"),
                          kTenantDomain));
    CHECK(e.description.starts_with(
        "AADSTS1002012: The provided value for scope https://graph.microsoft.com/Group.Read.All "
        "is not valid. Client credential flows must have a scope value with /.default suffixed "
        "to the resource identifier (application ID URI).\r\n"));
  }

  TEST_CASE("roles are configured per app") {
    IdentityOptions o = default_options();
    o.apps[kSecretApp].roles = {"Group.Read.All", "Sites.Read.All"};
    Identity id(std::move(o));
    const auto t = id.tokens(id.token(secret_request(kSecret), kTenantDomain));
    CHECK(gt::decode_token_claims(str(t, "access_token"))->roles ==
          std::vector<std::string>{"Group.Read.All", "Sites.Read.All"});
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity client assertion") {
  TEST_CASE("RS256 + x5t and PS256 + x5t#S256 assertions are accepted") {
    struct Case {
      const char* alg;
      const char* header;
    };
    for (const Case c : {Case{"RS256", "x5t"}, Case{"PS256", "x5t#S256"}, Case{"PS256", "x5t"},
                         Case{"RS256", "x5t#S256"}}) {
      CAPTURE(c.alg);
      CAPTURE(c.header);
      Identity id;
      AssertionSpec spec;
      spec.alg = c.alg;
      spec.thumbprint_header = c.header;
      const auto r = id.token(assertion_request(assertion(spec)), kTenantDomain);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      const auto t = body_of(r);
      CHECK_FALSE(t.contains("refresh_token"));
      const auto p = jwt_part(str(t, "access_token"), 1);
      CHECK(str(p, "appid") == kCertApp);
      CHECK(str(p, "appidacr") == "2");
      const auto claims = gt::decode_token_claims(str(t, "access_token"));
      REQUIRE(claims);
      CHECK(claims->app_only());
      CHECK(claims->roles == std::vector<std::string>{"Group.Read.All", "Sites.Read.All"});
      CHECK(claims->tenant == kEmulatorTenantId);
    }
  }

  TEST_CASE("the audience may name the tenant by its id, and issuer_host replaces Host") {
    {
      Identity id;
      AssertionSpec spec;
      spec.aud = default_aud(kEmulatorTenantId);
      CHECK(id.token(assertion_request(assertion(spec)), kTenantDomain).status == 200);
    }
    IdentityOptions o = default_options();
    o.issuer_host = "login.microsoftonline.com";
    Identity id(std::move(o));
    AssertionSpec spec;
    spec.aud = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    CHECK(id.token(assertion_request(assertion(spec)), kTenantDomain).status == 200);
    spec.aud = default_aud();  // the Host header no longer counts
    CHECK(error_of(id.token(assertion_request(assertion(spec)), kTenantDomain)).code == 700023);
  }

  TEST_CASE("a tampered assertion fails signature validation") {
    Identity id;
    const std::string good = assertion(AssertionSpec{});
    // Swap the payload for another one (the signature stays the old one).
    AssertionSpec other;
    other.exp = kStartEpoch + 3600;
    const std::string forged_payload = assertion(other);
    const auto dot1 = good.find('.');
    const auto dot2 = good.rfind('.');
    const std::string tampered =
        good.substr(0, dot1) +
        forged_payload.substr(forged_payload.find('.'),
                              forged_payload.rfind('.') - forged_payload.find('.')) +
        good.substr(dot2);
    REQUIRE(tampered != good);
    auto e = error_of(id.token(assertion_request(tampered), kTenantDomain));
    CHECK(e.status == 401);
    CHECK(e.error == "invalid_client");
    CHECK(e.code == 700027);
    CHECK(e.description.find("did not match the expected signature value") != std::string::npos);

    // And one changed character in the middle of the signature (the last character of a
    // 256-byte signature carries padding bits only, so it would prove nothing).
    std::string flipped = good;
    char& c = flipped[dot2 + 100];
    c = c == 'A' ? 'B' : 'A';
    e = error_of(id.token(assertion_request(flipped), kTenantDomain));
    CHECK(e.code == 700027);
  }

  TEST_CASE("PS256 with OpenSSL's default (maximum) salt length is refused") {
    Identity id;
    AssertionSpec spec;
    spec.alg = "PS256";
    spec.thumbprint_header = "x5t#S256";
    spec.pss_salt_length = RSA_PSS_SALTLEN_MAX;
    const auto e = error_of(id.token(assertion_request(assertion(spec)), kTenantDomain));
    CHECK(e.status == 401);
    CHECK(e.code == 700027);
  }

  TEST_CASE("a certificate nobody registered is AADSTS700027 naming its thumbprint") {
    Identity id;
    AssertionSpec spec;
    spec.signer = &Pki::get().stranger;
    const auto e = error_of(id.token(assertion_request(assertion(spec)), kTenantDomain));
    CHECK(e.status == 401);
    CHECK(e.error == "invalid_client");
    CHECK(e.code == 700027);
    CHECK(e.description.starts_with(
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not "
        "registered on application. [Reason - The key was not found., Thumbprint of key used by "
        "client: '" +
        gt::test::thumbprint_hex(Pki::get().stranger) + "'"));
    CHECK(e.description.find(kCertApp) != std::string::npos);

    // No thumbprint header at all.
    spec.signer = &Pki::get().registered;
    spec.thumbprint_header = "";
    CHECK(error_of(id.token(assertion_request(assertion(spec)), kTenantDomain)).code == 700027);
  }

  TEST_CASE("an app with only a secret has no key for an assertion") {
    Identity id;
    AssertionSpec spec;
    spec.iss = spec.sub = kSecretApp;
    const auto e =
        error_of(id.token(assertion_request(assertion(spec), kSecretApp), kTenantDomain));
    CHECK(e.code == 700027);
    CHECK(e.description.find("The key was not found") != std::string::npos);
  }

  TEST_CASE("a registered certificate outside its validity is 'The key used is expired'") {
    Identity id;
    AssertionSpec spec;
    spec.signer = &Pki::get().expired;
    spec.iss = spec.sub = kExpiredCertApp;
    const auto e =
        error_of(id.token(assertion_request(assertion(spec), kExpiredCertApp), kTenantDomain));
    CHECK(e.status == 401);
    CHECK(e.code == 700027);
    CHECK(e.description.find("The key used is expired.") != std::string::npos);
  }

  TEST_CASE("claim refusals") {
    struct Case {
      const char* name;
      std::function<void(AssertionSpec&)> change;
      std::int64_t code;
      const char* says;
    };
    const Case cases[] = {
        {"wrong aud",
         [](AssertionSpec& s) {
           s.aud = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
         },
         700023, "Client assertion audience claim does not match Realm issuer."},
        {"v1 token endpoint as aud",
         [](AssertionSpec& s) {
           s.aud = "https://127.0.0.1:8443/contoso.onmicrosoft.com/oauth2/token";
         },
         700023, "audience"},
        {"expired", [](AssertionSpec& s) { s.exp = kStartEpoch - 1; }, 700024,
         "Client assertion is not within its valid time range. Current time: "
         "2026-11-27T15:00:00Z"},
        {"expiring now", [](AssertionSpec& s) { s.exp = kStartEpoch; }, 700024, "valid time range"},
        {"no exp", [](AssertionSpec& s) { s.exp.reset(); }, 700024, "valid time range"},
        {"nbf in the future", [](AssertionSpec& s) { s.nbf = kStartEpoch + 60; }, 700024,
         "assertion valid from 2026-11-27T15:01:00Z"},
        {"iss is another app",
         [](AssertionSpec& s) { s.iss = s.sub = "11111111-2222-4333-8444-555555555555"; }, 700021,
         "doesn't match 'client_id'"},
        {"sub differs from iss", [](AssertionSpec& s) { s.sub = "someone-else"; }, 50048,
         "Subject mismatches Issuer"},
        {"no jti", [](AssertionSpec& s) { s.jti.clear(); }, 50027, "'jti'"},
    };
    Identity id;
    for (const auto& c : cases) {
      CAPTURE(c.name);
      AssertionSpec spec;
      c.change(spec);
      const auto e = error_of(id.token(assertion_request(assertion(spec)), kTenantDomain));
      CHECK(e.status == 401);
      CHECK(e.error == "invalid_client");
      CHECK(e.code == c.code);
      CHECK_MESSAGE(e.description.find(c.says) != std::string::npos, e.description);
    }
  }

  TEST_CASE("an assertion that is no RS256/PS256 JWT is refused") {
    Identity id;
    auto e = error_of(id.token(assertion_request("not-a-jwt"), kTenantDomain));
    CHECK(e.code == 50027);
    e = error_of(id.token(assertion_request("a.b.c.d"), kTenantDomain));
    CHECK(e.code == 50027);
    const std::string hs256 = gt::test::make_jwt(R"({"iss":"x"})");  // header says RS256
    const std::string header = gt::test::base64url(R"({"alg":"HS256","typ":"JWT"})");
    const std::string other_alg = header + hs256.substr(hs256.find('.'));
    e = error_of(id.token(assertion_request(other_alg), kTenantDomain));
    CHECK(e.status == 401);
    CHECK(e.code == 5002738);
    CHECK(e.description.find("'HS256' is not a supported signature algorithm") !=
          std::string::npos);
  }

  TEST_CASE("assertion parameters must come as a pair of the right type") {
    Identity id;
    auto e = error_of(id.token(form({{"grant_type", "client_credentials"},
                                     {"client_id", kCertApp},
                                     {"scope", kGraphDefault},
                                     {"client_assertion_type", kJwtBearer}}),
                               kTenantDomain));
    CHECK(e.code == 900144);
    CHECK(e.description.find("'client_assertion'") != std::string::npos);
    e = error_of(id.token(form({{"grant_type", "client_credentials"},
                                {"client_id", kCertApp},
                                {"scope", kGraphDefault},
                                {"client_assertion_type", "urn:example:saml"},
                                {"client_assertion", assertion(AssertionSpec{})}}),
                          kTenantDomain));
    CHECK(e.code == 9002313);
  }
}

// ================================================================================================

TEST_SUITE("emulator: identity protocol") {
  TEST_CASE("every error has Entra's envelope, ids and headers") {
    Identity id;
    const std::string correlation = "5e4c9a3d-1b2c-4d5e-8f90-a1b2c3d4e5f6";
    const auto r = id.token(form({{"grant_type", "password"}}), "organizations",
                            {{"client-request-id", correlation}});
    const auto e = error_of(r);
    CHECK(keys(e.body) == std::vector<std::string>{"error", "error_description", "error_codes",
                                                   "timestamp", "trace_id", "correlation_id",
                                                   "error_uri"});
    const std::string trace = str(e.body, "trace_id");
    CHECK(gt::looks_like_guid(trace));
    CHECK(str(e.body, "correlation_id") == correlation);
    CHECK(str(e.body, "timestamp") == kStartStamp);
    CHECK(e.description ==
          "AADSTS900144: The request body must contain the following parameter: 'client_id'."
          "\r\nTrace ID: " +
              trace + "\r\nCorrelation ID: " + correlation + "\r\nTimestamp: " + kStartStamp);
    CHECK(str(e.body, "error_uri") == "https://login.microsoftonline.com/error?code=900144");
    CHECK(r.reason == "Bad Request");
    CHECK(r.header("x-ms-request-id") == trace);
    CHECK(r.header("client-request-id") == correlation);
    CHECK(r.header("Cache-Control") == "no-store, no-cache");
    CHECK(r.header("Content-Type") == "application/json; charset=utf-8");

    // A client-request-id that is no GUID is not used as the correlation id.
    const auto other = error_of(id.token("", "organizations", {{"client-request-id", "abc"}}));
    CHECK(gt::looks_like_guid(str(other.body, "correlation_id")));
    CHECK(str(other.body, "trace_id") != trace);
  }

  TEST_CASE("grant types: missing, unknown") {
    Identity id;
    auto e = error_of(id.token(form({{"client_id", kPublicClient}})));
    CHECK(e.error == "invalid_request");
    CHECK(e.code == 900144);
    CHECK(e.description.find("'grant_type'") != std::string::npos);
    e = error_of(id.token(
        form({{"grant_type", "authorization_code"}, {"client_id", kPublicClient}, {"code", "x"}})));
    CHECK(e.status == 400);
    CHECK(e.error == "unsupported_grant_type");
    CHECK(e.code == 70003);
    CHECK(e.description.find("'authorization_code'") != std::string::npos);
  }

  TEST_CASE("form bodies are decoded: '+' is a space, %XX a byte") {
    Identity id;
    // kAdelePassword is "p@ss w+rd&=%": every character that needs escaping.
    const std::string body = form({{"grant_type", "password"},
                                   {"client_id", kPublicClient},
                                   {"username", kAdele},
                                   {"password", kAdelePassword},
                                   {"scope", "Group.ReadWrite.All offline_access"}});
    REQUIRE(body.find("p%40ss+w%2Brd%26%3D%25") != std::string::npos);
    CHECK(id.token(body).status == 200);
    // Unescaped, '+' would be a space and '&' would end the field.
    const std::string raw = "grant_type=password&client_id=" + std::string(kPublicClient) +
                            "&username=adele%40contoso.com&password=p@ss w+rd&=%25&scope=User.Read";
    const auto e = error_of(id.token(raw));
    CHECK(e.error == "invalid_grant");
    CHECK(e.code == 50126);
  }

  TEST_CASE("malformed forms are invalid_request") {
    Identity id;
    auto e = error_of(id.token("grant_type=password&password=%zz"));
    CHECK(e.code == 9002313);
    e = error_of(id.token("grant_type=password&grant_type=client_credentials"));
    CHECK(e.code == 9000411);
    CHECK(e.description.find("'grant_type' is duplicated") != std::string::npos);
  }

  TEST_CASE("a body that is not form-encoded is read as empty") {
    Identity id;
    auto r = post(token_path(), R"({"grant_type":"password"})");
    r.headers[1].value = "application/json";
    const auto e = error_of(id.call(r));
    CHECK(e.code == 900144);
    CHECK(e.description.find("'grant_type'") != std::string::npos);
    // A charset parameter is fine.
    r = post(token_path(), "grant_type=nope");
    r.headers[1].value = "application/x-www-form-urlencoded; charset=utf-8";
    CHECK(error_of(id.call(r)).error == "unsupported_grant_type");
  }

  TEST_CASE("only POST, only devicecode and token") {
    Identity id;
    auto r = post(token_path(), "");
    r.method = "GET";
    auto e = error_of(id.call(r));
    CHECK(e.status == 400);
    CHECK(e.code == 900561);
    CHECK(e.description.find("Received a GET request") != std::string::npos);
    for (const char* target :
         {"/organizations/oauth2/v2.0/authorize", "/organizations/oauth2/token",
          "/organizations/oauth2/v2.0/token/extra", "/oauth2/v2.0/token"}) {
      CAPTURE(target);
      CHECK(error_of(id.call(post(target, ""))).status == 404);
    }
  }

  TEST_CASE("tid: a GUID tenant segment as given, anything else the emulator's tenant") {
    IdentityOptions o = default_options();
    o.tenant_id = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    Identity id(std::move(o));
    struct Case {
      const char* segment;
      const char* tid;
    };
    for (const Case c : {Case{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", kTenantGuid},
                         Case{"contoso.onmicrosoft.com", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"},
                         Case{"common", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"}}) {
      CAPTURE(c.segment);
      const auto t = id.tokens(id.token(form({{"grant_type", "password"},
                                              {"client_id", kPublicClient},
                                              {"username", kAdele},
                                              {"password", kAdelePassword},
                                              {"scope", "User.Read"}}),
                                        c.segment));
      CHECK(gt::decode_token_claims(str(t, "access_token"))->tenant == c.tid);
    }
  }

  TEST_CASE("public and confidential clients in public flows") {
    IdentityOptions o = default_options();
    Identity id(std::move(o));
    // A confidential app without its secret: "Allow public client flows" is off.
    auto e = error_of(id.password(kAdele, kAdelePassword, "User.Read", kSecretApp));
    CHECK(e.status == 401);
    CHECK(e.error == "invalid_client");
    CHECK(e.code == 7000218);
    // With its secret it may.
    const auto t = id.tokens(id.token(form({{"grant_type", "password"},
                                            {"client_id", kSecretApp},
                                            {"client_secret", kSecret},
                                            {"username", kAdele},
                                            {"password", kAdelePassword},
                                            {"scope", "User.Read"}})));
    CHECK(str(jwt_part(str(t, "access_token"), 1), "appidacr") == "1");
    // A public client must not present a secret.
    e = error_of(id.token(form({{"grant_type", "password"},
                                {"client_id", kPublicClient},
                                {"client_secret", "x"},
                                {"username", kAdele},
                                {"password", kAdelePassword},
                                {"scope", "User.Read"}})));
    CHECK(e.status == 401);
    CHECK(e.code == 700025);
  }

  TEST_CASE("public_clients restricts which client ids may sign users in") {
    IdentityOptions o = default_options();
    o.public_clients = {kPublicClient};
    Identity id(std::move(o));
    CHECK(id.password(kAdele, kAdelePassword).status == 200);
    const char* stranger = "11111111-2222-4333-8444-555555555555";
    auto e = error_of(id.password(kAdele, kAdelePassword, "User.Read", stranger));
    CHECK(e.status == 400);
    CHECK(e.error == "unauthorized_client");
    CHECK(e.code == 700016);
    e = error_of(id.call(post("/organizations/oauth2/v2.0/devicecode",
                              form({{"client_id", stranger}, {"scope", "User.Read"}}))));
    CHECK(e.code == 700016);
  }

  TEST_CASE(
      "a confidential app listed in public_clients may sign users in with or without "
      "its secret") {
    IdentityOptions o = default_options();
    o.public_clients = {kPublicClient, kSecretApp};
    Identity id(std::move(o));
    auto with_secret = [&](std::string_view secret) {
      return id.token(form({{"grant_type", "password"},
                            {"client_id", kSecretApp},
                            {"client_secret", secret},
                            {"username", kAdele},
                            {"password", kAdelePassword},
                            {"scope", "User.Read"}}));
    };
    const auto bare = id.tokens(id.password(kAdele, kAdelePassword, "User.Read", kSecretApp));
    CHECK(str(jwt_part(str(bare, "access_token"), 1), "appidacr") == "0");
    const auto proved = id.tokens(with_secret(kSecret));
    CHECK(str(jwt_part(str(proved, "access_token"), 1), "appidacr") == "1");
    const auto e = error_of(with_secret("wrong"));
    CHECK(e.status == 401);
    CHECK(e.code == 7000215);
  }

  TEST_CASE("verify_access_token accepts only this process's unexpired tokens") {
    Identity id;
    const std::string access = str(id.tokens(id.password(kAdele, kAdelePassword)), "access_token");
    CHECK(id.service->verify_access_token(access).ok());

    // Another instance shares the per-process key.
    Identity other;
    CHECK(other.service->verify_access_token(access).ok());

    std::string tampered = access;
    tampered[tampered.find('.') + 5] ^= 1;
    auto s = id.service->verify_access_token(tampered);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind == gt::ErrorKind::kAuth);

    s = id.service->verify_access_token(gt::test::make_jwt(R"({"exp":9999999999})"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("HS256") != std::string::npos);
    CHECK_FALSE(id.service->verify_access_token("opaque").ok());

    id.advance(seconds(3600));
    s = id.service->verify_access_token(access);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "the access token expired at 2026-11-27T16:00:00Z");
  }

  TEST_CASE("token_lifetime sets expires_in and exp") {
    IdentityOptions o = default_options();
    o.token_lifetime = seconds(600);
    Identity id(std::move(o));
    const auto t = id.tokens(id.token(secret_request(kSecret), kTenantDomain));
    CHECK(t.at("expires_in").as_int64() == 600);
    CHECK(*gt::decode_token_claims(str(t, "access_token"))->expires_at == kStartEpoch + 600);
  }

  TEST_CASE("create() refuses certificates it cannot use") {
    IdentityOptions bad_pem = default_options();
    bad_pem.apps["app-with-junk"] = IdentityApp{.certificate_pem = "not a certificate"};
    auto r = IdentityService::create(std::move(bad_pem));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == gt::ErrorKind::kUsage);
    CHECK(r.error().message ==
          "identity app app-with-junk: certificate_pem is not a PEM certificate");

    // The emulator's own throwaway certificates are ECDSA: no use for RS256/PS256.
    const auto ec = gt::emulator::make_self_signed(gt::emulator::loopback_spec());
    REQUIRE(ec.ok());
    IdentityOptions ec_cert = default_options();
    ec_cert.apps["ec-app"] = IdentityApp{.certificate_pem = ec->cert};
    r = IdentityService::create(std::move(ec_cert));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("ec-app") != std::string::npos);
    CHECK(r.error().message.find("not RSA") != std::string::npos);
  }

  TEST_CASE("concurrent device code requests get distinct codes") {
    Identity id;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&id] {
        for (int i = 0; i < 25; ++i) {
          id.call(post("/organizations/oauth2/v2.0/devicecode",
                       form({{"client_id", kPublicClient}, {"scope", "User.Read"}})));
        }
      });
    }
    for (auto& t : threads) t.join();
    const auto codes = id.service->device_codes();
    CHECK(codes.size() == 100);
    std::set<std::string> unique;
    for (const auto& c : codes) unique.insert(c.user_code);
    CHECK(unique.size() == 100);
  }
}
