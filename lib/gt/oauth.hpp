// gt/oauth: the Microsoft identity platform's token endpoint, as a client (GRAPH-API.md 6 and 7).
//
// POST {authority}{prefix}/{tenant}/oauth2/v2.0/devicecode and /token, form-encoded, through the
// same Transport as Graph calls (so TLS checks, --cacert, timeouts and retries are the same).
// Every request carries Accept: application/json, a fresh client-request-id per attempt,
// return-client-request-id: true and the User-Agent.
//
// Every failure becomes an Error whose message says what happened and whose hint says what to do,
// in the user's terms:
//   invalid_grant (expired / revoked / rotated refresh token)  -> kAuth "... run auth login again"
//   invalid_grant + AADSTS50076/50079/50158/53003 (and kin), suberror basic_action,
//     interaction_required       -> kAuth "MFA or Conditional Access needs an interactive sign-in"
//   invalid_grant + AADSTS65001, consent_required            -> kAuth "consent required"
//   authorization_declined / access_denied -> kAuth "the sign-in was declined"
//   expired_token                          -> kAuth "the code expired before it was used"
//   bad_verification_code                  -> kAuth
//   invalid_client / unauthorized_client   -> kAuth naming the client id (AZURE_CLIENT_ID,
//                                             --client-id) and the credential that was refused
//   other errors Entra names (invalid_scope, invalid_request, ...) -> kAuth with Entra's text
//   temporarily_unavailable (any status), 429, 503, 504
//                                          -> retried (RetryPolicy, Retry-After honoured); an
//                                             answer still failing after that is kAuth
//   any other HTTP answer that is not a token -> kAuth quoting at most 200 bytes of an error body
//   transport failure, nothing written     -> retried like Graph's; finally kNetwork
//   transport failure after writing        -> kNetwork, NOT retried: a refresh token may have been
//                                             redeemed (and rotated) or a device code used, so a
//                                             blind repeat could only fail confusingly. Nothing
//                                             user-visible was created; the message says the
//                                             sign-in may need to be repeated
//   SIGINT (in a wait or an exchange)      -> kInterrupted
// The message is "<what happened> (<error>: <Entra's first description line>)"; it does not start
// with the flow's name, so callers can prefix their own ("GRAPH_REFRESH_TOKEN was refused: ").
// Error fields: http_status; code = "AADSTS<n>" (else Entra's error string); request_id = Entra's
// trace_id (else the x-ms-request-id header); client_request_id = Entra's correlation_id (which
// echoes ours), else ours; date = Entra's timestamp (else the Date header).
//
// Secrets — refresh tokens, passwords, client secrets, assertions, device codes — never appear in
// a message, hint or the verbose log: no body is ever logged or quoted from a request, a success
// answer is never quoted, and anything quoted from an error answer has every secret of that
// request (4 bytes or longer) replaced by "[redacted]".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gt/attempts.hpp"
#include "gt/clock.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/retry.hpp"
#include "gt/url.hpp"

namespace gt {

// The login host of a national cloud: https://login.microsoftonline.com (global),
// https://login.microsoftonline.us (usgov, dod), https://login.chinacloudapi.cn (china).
const char* login_host(Cloud cloud);

// The login host to use: AZURE_AUTHORITY_HOST when set and not empty (an absolute https URL, or
// http to a loopback host only; it may carry a path prefix; kUsage naming the variable otherwise),
// else the cloud's.
Result<BaseUrl> authority_host(Cloud cloud, const std::optional<std::string>& azure_authority_host);

// What the token endpoint returned on success.
struct TokenResponse {
  std::string access_token;     // never empty
  std::string refresh_token;    // "" when none was issued
  std::string scope;            // space-separated, as granted; "" when the answer had none
  std::int64_t expires_in = 0;  // seconds (Entra sends a number, older endpoints a string); 0: none
};

// What the devicecode endpoint returned.
struct DeviceCode {
  std::string device_code;  // secret-ish: never logged
  std::string user_code;
  std::string verification_uri;
  std::string message;          // Microsoft's instruction text ("" when none)
  std::int64_t expires_in = 0;  // seconds; 900 (Entra's 15 minutes) when the answer had none
  std::int64_t interval = 5;    // seconds between polls; 5 when the answer had none, never < 0
};

struct OAuthOptions {
  BaseUrl authority;                     // authority_host()
  std::string tenant = "organizations";  // a tenant id or domain, "organizations", "common", ...
  std::string client_id;
  RetryPolicy retry;
  // Each HTTP exchange's deadline, and the longest retry wait that is started (a longer
  // Retry-After ends the retries instead).
  std::chrono::seconds request_timeout{30};
  std::string user_agent = "graph-threads";
};

class OAuthClient {
 public:
  using Deps = ClientDeps;
  OAuthClient(Deps deps, OAuthOptions options);

  // "{authority}{prefix}/{tenant}/oauth2/v2.0/token" (tenant percent-encoded as one path segment)
  // — also the audience of client assertions.
  std::string token_endpoint() const;

  // Every call below fails with kUsage, before sending anything, when options().client_id or
  // tenant is empty or the authority has no host.

  // Device code flow (RFC 8628). start_device_flow asks for a code for `scopes` (space-joined).
  // poll_device_flow waits `interval` seconds before each poll (the first one included), using
  // Clock::sleep_for so Ctrl-C ends it (kInterrupted), until:
  //   tokens                                 -> the TokenResponse
  //   authorization_pending                  -> keep polling
  //   slow_down                              -> interval += 5 s for this and every later poll;
  //                                             on_slow_down(new interval in seconds) is called
  //   authorization_declined / access_denied -> kAuth "the sign-in was declined"
  //   expired_token, or `expires_in` seconds passed on the Clock since polling began (the last
  //     wait is cut to end there, and no poll is made after it) -> kAuth "the code expired ..."
  //   bad_verification_code, anything else   -> kAuth / kNetwork as in the table above.
  Result<DeviceCode> start_device_flow(const std::vector<std::string>& scopes);
  Result<TokenResponse> poll_device_flow(
      const DeviceCode& code, const std::function<void(std::int64_t)>& on_slow_down = {});

  // grant_type=refresh_token. `scopes` may be empty (no scope parameter is sent then). Entra may
  // rotate the refresh token: store the one returned (when not empty) and discard this one.
  Result<TokenResponse> redeem_refresh_token(std::string_view refresh_token,
                                             const std::vector<std::string>& scopes);
  // grant_type=password (ROPC). Stops at MFA / Conditional Access (kAuth saying so).
  Result<TokenResponse> password_grant(std::string_view username, std::string_view password,
                                       const std::vector<std::string>& scopes);
  // client_credentials; `scope` is "{graph root}/.default".
  Result<TokenResponse> client_secret_grant(std::string_view secret, std::string_view scope);
  // client_credentials with client_assertion_type=urn:ietf:params:oauth:client-assertion-type:
  // jwt-bearer; `assertion` is a signed JWT (certificate) or a federated token, sent as given.
  Result<TokenResponse> client_assertion_grant(std::string_view assertion, std::string_view scope);

  const OAuthOptions& options() const { return options_; }

 private:
  Deps deps_;
  OAuthOptions options_;
};

}  // namespace gt
