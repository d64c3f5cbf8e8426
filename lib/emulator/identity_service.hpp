// emulator/identity_service: the Microsoft identity platform stand-in (login.microsoftonline.com),
// as a pure function from an HTTP request to an HTTP response (std types only, no sockets). The
// router sends it every "/{tenant}/oauth2/v2.0/..." target; unit tests call it directly.
//
// Serves, for any tenant segment (a GUID, a domain, "common", "organizations", ...):
//   POST /{tenant}/oauth2/v2.0/devicecode   start the device code flow
//   POST /{tenant}/oauth2/v2.0/token        redeem a grant (see "Grants" below)
// Bodies are application/x-www-form-urlencoded ('+' and %XX decoded; a body with another
// Content-Type is read as empty, as Entra does, so it fails for its missing parameters). Every
// answer is JSON (application/json; charset=utf-8) with Cache-Control "no-store, no-cache",
// Pragma "no-cache", x-ms-request-id (the trace id), client-request-id (when one was sent) and
// Date. Other methods answer 400 AADSTS900561; other endpoints 404.
//
// Errors (400 unless said otherwise) have Entra's shape and key order:
//   {"error":"invalid_grant",
//    "error_description":"AADSTS50126: <text>\r\nTrace ID: <guid>\r\nCorrelation ID: <guid>\r\n"
//                        "Timestamp: 2026-11-27 15:12:44Z",
//    "error_codes":[50126],"timestamp":"2026-11-27 15:12:44Z","trace_id":"<guid>",
//    "correlation_id":"<guid>","error_uri":"https://login.microsoftonline.com/error?code=50126"}
// The correlation id is the request's client-request-id header when that is a GUID (Entra echoes
// it), else a fresh GUID. Missing parameters are named one at a time, the first missing one, as
// Entra does: invalid_request AADSTS900144 "The request body must contain the following
// parameter: '<name>'." A parameter given twice is invalid_request AADSTS9000411; a bad %-escape
// is invalid_request AADSTS9002313. grant_type missing: AADSTS900144 'grant_type' (what Entra
// answers); unknown: unsupported_grant_type AADSTS70003.
//
// Grants (grant_type=...) and what each can answer:
//   urn:ietf:params:oauth:grant-type:device_code   (client_id, device_code)
//     authorization_pending AADSTS70016  not approved yet;
//     slow_down AADSTS70016              polled while pending sooner than the interval after the
//                                        previous poll of this code (the first poll is never too
//                                        soon); per RFC 8628 §3.5 the code's interval then grows
//                                        by 5 s for all later polls. Entra documents no slow_down;
//                                        a client must handle it anyway. Final answers (tokens,
//                                        declined) are never delayed;
//     expired_token AADSTS70020          expires_in seconds have passed;
//     authorization_declined AADSTS65004 deny_device() was called;
//     bad_verification_code AADSTS70018  no such device_code (or it was issued to another
//                                        client_id);
//     invalid_grant AADSTS70000          the code was already redeemed.
//     On approval: tokens for the approving user, once.
//   refresh_token   (client_id, refresh_token; scope optional)
//     Rotation: each redemption answers a new refresh token and invalidates the one redeemed.
//     The new tokens carry the scopes of the original grant (a subset request still gets all of
//     them, as Entra does).
//     invalid_grant AADSTS70000   the refresh token was already redeemed, or was issued to
//                                 another client_id;
//     invalid_grant AADSTS9002313 not a refresh token this service issued;
//     invalid_grant AADSTS700082  older than refresh_token_lifetime;
//     invalid_grant AADSTS50173   revoke_refresh_tokens() was called for the user after issue;
//     invalid_grant AADSTS65001   `scope` names a scope outside the grant (suberror
//                                 "consent_required").
//   password   (client_id, username, password, scope)
//     invalid_grant AADSTS50034   unknown user; invalid_grant AADSTS50126 wrong password;
//     a user with needs_mfa (and the right password) gets exactly what Entra sends when
//     Conditional Access demands MFA:
//       400 {"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration
//       change made by your administrator, or because you moved to a new location, you must use
//       multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.\r\n...",
//       "error_codes":[50076], ..., "error_uri":"...?code=50076","suberror":"basic_action",
//       "claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"<guid>\"]}}}"}
//     i.e. error invalid_grant (NOT interaction_required), AADSTS50076 first in the description,
//     error_codes [50076] and suberror "basic_action". MSAL treats invalid_grant + 50076 /
//     basic_action as "interaction required": a client should say that the account needs MFA and
//     that the device code flow (interactive) must be used instead of a password.
//   client_credentials   (client_id, scope = "{resource}/.default")
//     Client authentication, one of: client_secret (form field), HTTP Basic
//     (Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))), or
//     client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer +
//     client_assertion (below); more than one is invalid_request AADSTS9002313.
//     No refresh token and no "scope" in the answer (as Entra's sample).
//     invalid_request AADSTS9001023  tenant segment "common" or "consumers";
//     invalid_scope AADSTS1002012    a scope that does not end in "/.default";
//     invalid_scope AADSTS70011      more than one scope;
//     invalid_resource AADSTS500011  a resource other than Microsoft Graph
//                                    (https://graph.microsoft.com or its app id);
//     400 unauthorized_client AADSTS700016  unknown client_id (Entra answers 400 and
//                                           unauthorized_client here, not 401 invalid_client);
//     401 invalid_client AADSTS7000218 no credentials; AADSTS7000215 wrong or unregistered
//                                      secret; client assertion failures below.
//   Public flows (device code, refresh token, password): a client_id registered in `apps` must
//   authenticate as above unless `public_clients` lists it (Entra's "Allow public client flows";
//   a listed app may still authenticate, and then must do so correctly), else 401 invalid_client
//   AADSTS7000218. An unregistered client_id that presents a secret or an assertion gets 401
//   invalid_client AADSTS700025. With a non-empty `public_clients`, unregistered client_ids it
//   does not list get 400 unauthorized_client AADSTS700016 (also at devicecode).
//
// Client assertions (all failures 401 invalid_client), checked in this order:
//   AADSTS50027   not a JWT: three base64url segments, JSON objects for header and payload;
//   AADSTS5002738 header alg other than RS256 or PS256;
//   AADSTS700027  no x5t#S256 / x5t header, or a thumbprint that matches no certificate of the
//                 app ("The certificate with identifier used to sign the client assertion is not
//                 registered on application. [Reason - The key was not found., Thumbprint of key
//                 used by client: '<HEX>', ...]"); the certificate outside its validity period
//                 ("[Reason - The key used is expired., ...]"); or a signature that does not
//                 verify: RS256 = RSASSA-PKCS1-v1_5 SHA-256, PS256 = RSASSA-PSS SHA-256, MGF1
//                 SHA-256, salt length 32 (RFC 7518 §3.5: the salt is as long as the hash; note
//                 that OpenSSL signs with the longest salt unless told
//                 RSA_PSS_SALTLEN_DIGEST, and such a signature is refused, as Entra's verifier
//                 does). x5t#S256 (SHA-256 of the DER) is looked up first, then x5t (SHA-1);
//   AADSTS50048   sub != iss; AADSTS700021 iss != client_id;
//   AADSTS700023  aud is not this token endpoint: "https://{host}/{tenant}/oauth2/v2.0/token",
//                 host = issuer_host, else the request's Host header; tenant = the request's
//                 tenant segment or the tenant id it stands for;
//   AADSTS700024  exp missing or not in the future, or nbf in the future (no skew allowance);
//   AADSTS50027   jti missing.
// Assertions may be reused while valid (MSAL caches them), so jti is not checked for replay.
//
// Issued tokens:
//   {"token_type":"Bearer","scope":...,"expires_in":N,"ext_expires_in":N,"access_token":...,
//    "refresh_token":... (only if offline_access was requested), "id_token":... (only if openid)}
//   "scope" lists the granted Graph scopes with the "https://graph.microsoft.com/" prefix, then
//   the requested openid/profile/email in request order (offline_access is not echoed).
//   Access tokens are JWTs: header {"typ":"JWT","alg":"HS256","kid":...}, signed with HMAC-SHA256
//   under a random per-process key (verify_access_token() checks them). Payload, in this order:
//     aud "https://graph.microsoft.com", iss "https://sts.windows.net/{tid}/", iat, nbf, exp,
//     appid, appidacr ("0" public, "1" secret, "2" certificate), idtyp ("user" / "app"), then
//     delegated: name, oid, preferred_username, scp, sub, tid, upn, uti, ver "1.0"
//     app-only:  oid, roles, sub, tid, uti, ver "1.0"  (no scp)
//   scp: the requested Graph scopes, space-separated, without the "https://graph.microsoft.com/"
//   (or "00000003-0000-0000-c000-000000000000/") prefix, openid/profile/email/offline_access
//   dropped, duplicates removed; ".default" expands to default_delegated_scopes; a request with
//   only OIDC scopes gets "User.Read" (as Entra gives a Graph token). A scope of another
//   resource (e.g. "api://x/read") is invalid_resource AADSTS500011; an empty scope is
//   AADSTS900144 'scope'.
//   tid: the tenant segment when it is a GUID, else tenant_id. oid: a name-based UUID of the
//   lower-cased username (stable across flows and restarts); app-only oid: of the client_id.
//   id_token: same key; aud client_id, iss "https://{host}/{tid}/v2.0", iat, nbf, exp, name, oid,
//   preferred_username, sub, tid, ver "2.0".
//
// Thread-safe: one mutex guards the device codes and refresh tokens; the clock is called outside
// it. Nothing is persisted: a restart forgets every device code and refresh token.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/handler.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"

namespace gt::emulator {

// The tenant id tokens carry when the tenant segment is not a GUID (a domain, "common", ...).
inline constexpr const char* kEmulatorTenantId = "c0ffee00-0000-4000-8000-000000000001";

// A user who can sign in (password grant) or approve device codes.
struct IdentityUser {
  std::string password;
  // The password grant then answers AADSTS50076 (see the header comment) even with the right
  // password. Device code approval is not affected (the browser step would do the MFA).
  bool needs_mfa = false;
  // The "name" claim; empty: the part of the username before '@'.
  std::string display_name;
};

// A confidential client (app registration with credentials).
struct IdentityApp {
  std::string secret;  // the client secret; empty: no secret registered
  // PEM "CERTIFICATE" whose public key is RSA (client assertions are RS256 / PS256); empty: no
  // certificate registered. Its validity period is enforced against the clock.
  std::string certificate_pem;
  // The app-only "roles" claim (application permissions an admin consented to).
  std::vector<std::string> roles = {"Group.ReadWrite.All"};
};

struct IdentityOptions {
  // Access and id token lifetime: "expires_in" / "ext_expires_in" and exp - iat.
  std::chrono::seconds token_lifetime{3600};
  // After this a refresh token is refused (AADSTS700082). Entra's default is 90 days.
  std::chrono::seconds refresh_token_lifetime{std::chrono::hours(24 * 90)};
  // Device code "expires_in" (Entra: 15 minutes) and "interval" (Entra: 5 s).
  std::chrono::seconds device_code_lifetime{900};
  std::chrono::seconds device_poll_interval{5};
  // The interval the server enforces. When longer than the advertised device_poll_interval, a
  // client that polls as told gets slow_down (as a busy Entra may answer), which is how tests make
  // a real server say it. 0: the advertised interval.
  std::chrono::seconds enforced_poll_interval{0};

  // username (UPN, matched case-insensitively) -> user. Empty: no password sign-in succeeds;
  // device codes can still be approved for any username.
  std::map<std::string, IdentityUser> users;
  // client_id -> confidential app. Empty: client_credentials always fails (AADSTS700016).
  std::map<std::string, IdentityApp> apps;
  // client_ids allowed in public flows without credentials. Empty: any client_id not in `apps`.
  std::vector<std::string> public_clients;
  // What "https://graph.microsoft.com/.default" grants in delegated flows (the app's consented
  // delegated permissions).
  std::vector<std::string> default_delegated_scopes = {"Group-Conversation.ReadWrite.All",
                                                       "User.Read"};

  // host[:port] of this token endpoint as clients address it: the host in the client assertion
  // "aud" that is accepted and in the id_token "iss". Empty: the request's Host header (so a
  // client pointed at https://127.0.0.1:8443 must use that in "aud").
  std::string issuer_host;
  // The tenant id of non-GUID tenant segments.
  std::string tenant_id = kEmulatorTenantId;

  // Now. Empty: std::chrono::system_clock::now. Tests inject a fake so nothing sleeps.
  std::function<std::chrono::system_clock::time_point()> clock;

  // For demos: the first poll of a pending device code approves it as demo_user and answers the
  // tokens at once. approve_device()/deny_device() still work before that poll.
  bool auto_approve_device = false;
  std::string demo_user = "demo@graph-threads.test";
};

// A device code as the control API lists it.
struct DeviceCodeInfo {
  std::string user_code;  // what the user types, e.g. "BPPVYQZMA"
  std::string client_id;
  std::string scope;  // as requested
  std::string state;  // "pending", "approved", "declined", "redeemed", "expired"
  std::string user;   // who approved it; empty otherwise
  std::chrono::system_clock::time_point expires_at;
};

class IdentityService final : public Handler {
 public:
  // Fails (kUsage, naming the client_id) when an app's certificate_pem does not parse as an X.509
  // certificate or its key is not RSA. Nothing else in the options can be wrong.
  static Result<std::unique_ptr<IdentityService>> create(IdentityOptions options);
  ~IdentityService() override;
  IdentityService(const IdentityService&) = delete;
  IdentityService& operator=(const IdentityService&) = delete;

  // Thread-safe.
  HttpResponse handle(const HttpRequest& request) override;

  // The user at the browser approved `user_code` as `username` (any non-empty name; registered
  // users get their display_name). The code is matched case-insensitively, ignoring '-' and
  // spaces. Fails (kUsage) for an unknown or expired code, one already approved, declined or
  // redeemed, or an empty username. Thread-safe.
  Status approve_device(std::string_view user_code, std::string_view username);

  // The user declined: the next poll answers authorization_declined. Fails like approve_device.
  Status deny_device(std::string_view user_code);

  // Every refresh token issued to `username` so far is refused from now on (AADSTS50173), as
  // after a password reset or "revoke sessions". Fails (kUsage) for an empty username.
  Status revoke_refresh_tokens(std::string_view username);

  // Every device code issued so far, oldest first.
  std::vector<DeviceCodeInfo> device_codes() const;

  // Checks that `token` is an access token this process issued (HS256 signature under the
  // per-process key) and that it has not expired by the clock. kAuth with the reason otherwise.
  Status verify_access_token(std::string_view token) const;

 private:
  struct Impl;
  explicit IdentityService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gt::emulator
