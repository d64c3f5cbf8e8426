#include "gt/oauth.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <utility>

#include "gt/attempts.hpp"
#include "gt/auth.hpp"
#include "gt/uuid.hpp"

namespace gt {

namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr std::string_view kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// RFC 8628 §3.5: after slow_down "the interval MUST be increased by 5 seconds for this and all
// subsequent requests".
constexpr std::int64_t kSlowDownStepSeconds = 5;
// Entra: "the user has 15 minutes to sign in"; RFC 8628 §3.2: poll every 5 s unless told.
constexpr std::int64_t kDefaultDeviceLifetime = 900;
constexpr std::int64_t kDefaultDeviceInterval = 5;

// ---- text ----------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// One line of at most `limit` bytes, control characters turned into spaces.
std::string one_line(std::string_view s, std::size_t limit) {
  std::string out(s.substr(0, limit));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (s.size() > limit) out += "...";
  return out;
}

Error scrub(Error e, const std::vector<std::string_view>& secrets) {
  for (std::string* field :
       {&e.message, &e.hint, &e.code, &e.request_id, &e.client_request_id, &e.date}) {
    *field = scrub_secrets(std::move(*field), secrets);
  }
  return e;
}

// ---- application/x-www-form-urlencoded ------------------------------------------------------

struct Field {
  std::string_view name;
  std::string_view value;
};

// RFC 3986 unreserved bytes stay; a space becomes '+' (the form serializer's spelling); every
// other byte, '+', '&', '=' and '%' included, becomes %XX.
void append_form_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
}

std::string form(std::initializer_list<Field> fields) {
  std::string out;
  for (const Field& f : fields) {
    if (!out.empty()) out += '&';
    append_form_encoded(out, f.name);
    out += '=';
    append_form_encoded(out, f.value);
  }
  return out;
}

// ---- JSON answers ----------------------------------------------------------------------------

std::optional<json::object> parse_object(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string string_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A JSON number, or a string holding a decimal integer (Entra v1 and ADFS send "3599").
std::optional<std::int64_t> integer_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
  }
  if (v->is_double() && std::isfinite(v->get_double()) && std::abs(v->get_double()) < 1e15) {
    return static_cast<std::int64_t>(v->get_double());
  }
  if (v->is_string()) {
    const std::string_view s = v->get_string();
    std::int64_t out = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

// Entra's error answer (GRAPH-API.md 7.1): {"error", "error_description", "error_codes",
// "suberror", "timestamp", "trace_id", "correlation_id", ...}.
struct AadError {
  std::string error;        // "invalid_grant", "authorization_pending", ...
  std::string description;  // the first line: "AADSTS50076: Due to ..."
  long long code = 0;       // the AADSTS number; 0 when none was given
  std::string suberror;     // "basic_action", "consent_required", ...
  std::string trace_id;
  std::string correlation_id;
  std::string timestamp;
};

// "AADSTS50076: ..." -> 50076; 0 when the text does not start that way.
long long aadsts_prefix(std::string_view description) {
  constexpr std::string_view kPrefix = "AADSTS";
  if (!description.starts_with(kPrefix)) return 0;
  description.remove_prefix(kPrefix.size());
  long long code = 0;
  const auto [p, ec] =
      std::from_chars(description.data(), description.data() + description.size(), code);
  return ec == std::errc() ? code : 0;
}

std::optional<AadError> parse_aad_error(std::string_view body) {
  const auto o = parse_object(body);
  if (!o) return std::nullopt;
  AadError e;
  e.error = string_field(*o, "error");
  if (e.error.empty()) return std::nullopt;
  const std::string description = string_field(*o, "error_description");
  e.description = description.substr(0, description.find_first_of("\r\n"));
  if (const json::value* codes = o->if_contains("error_codes");
      codes && codes->is_array() && !codes->get_array().empty()) {
    const json::value& first = codes->get_array().front();
    if (first.is_int64()) e.code = first.get_int64();
    if (first.is_uint64()) e.code = static_cast<long long>(first.get_uint64() & INT64_MAX);
  }
  if (e.code == 0) e.code = aadsts_prefix(e.description);
  e.suberror = string_field(*o, "suberror");
  e.trace_id = string_field(*o, "trace_id");
  e.correlation_id = string_field(*o, "correlation_id");
  e.timestamp = string_field(*o, "timestamp");
  return e;
}

Result<TokenResponse> parse_token_response(std::string_view body) {
  // Never quote the body: it holds the tokens.
  const auto o = parse_object(body);
  TokenResponse t;
  if (o) t.access_token = string_field(*o, "access_token");
  if (t.access_token.empty()) {
    return Error::auth(
        "the sign-in server answered with success but without an access token",
        "check AZURE_AUTHORITY_HOST: it must be the Microsoft identity platform's login host");
  }
  t.refresh_token = string_field(*o, "refresh_token");
  t.scope = string_field(*o, "scope");
  t.expires_in = std::max<std::int64_t>(0, integer_field(*o, "expires_in").value_or(0));
  return t;
}

Result<DeviceCode> parse_device_code(std::string_view body) {
  const auto o = parse_object(body);
  DeviceCode d;
  if (o) {
    d.device_code = string_field(*o, "device_code");
    d.user_code = string_field(*o, "user_code");
    d.verification_uri = string_field(*o, "verification_uri");
    // Entra's v1 endpoint and Google spell it verification_url.
    if (d.verification_uri.empty()) d.verification_uri = string_field(*o, "verification_url");
    d.message = string_field(*o, "message");
    const auto expires_in = integer_field(*o, "expires_in");
    d.expires_in = expires_in && *expires_in > 0 ? *expires_in : kDefaultDeviceLifetime;
    d.interval =
        std::max<std::int64_t>(0, integer_field(*o, "interval").value_or(kDefaultDeviceInterval));
  }
  const char* missing = d.device_code.empty()        ? "device_code"
                        : d.user_code.empty()        ? "user_code"
                        : d.verification_uri.empty() ? "verification_uri"
                                                     : nullptr;
  if (missing) {
    return Error::auth(
        std::string("the sign-in server's device code answer has no ") + missing,
        "check AZURE_AUTHORITY_HOST: it must be the Microsoft identity platform's login host");
  }
  return d;
}

// ---- what each refusal means to the user --------------------------------------------------------

// The sign-in flows, for messages.
enum class Flow { kDeviceStart, kDevicePoll, kRefresh, kPassword, kSecret, kAssertion };

struct Explanation {
  std::string text;  // what happened, in the user's terms
  std::string hint;  // what to do
};

constexpr std::string_view kLoginAgain = "run `graph-threads auth login` again";
constexpr std::string_view kCheckClient =
    "check the application (client) id (AZURE_CLIENT_ID, or auth login's --client-id) and the "
    "tenant (AZURE_TENANT_ID, --tenant)";

bool one_of(long long code, std::initializer_list<long long> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// Entra's codes (and MSAL's suberror) for "a user must interact": MFA required or not enrolled,
// strong authentication, external challenge, Conditional Access (device, location, block).
bool needs_interaction(const AadError& e) {
  return e.error == "interaction_required" || e.suberror == "basic_action" ||
         e.suberror == "additional_action" ||
         one_of(e.code, {50072, 50074, 50076, 50079, 50158, 53000, 53001, 53003});
}

bool needs_consent(const AadError& e) {
  return e.error == "consent_required" || e.suberror == "consent_required" ||
         one_of(e.code, {65001});
}

bool is_assertion_code(long long code) {
  return one_of(code, {50027, 50048, 70021, 700021, 700023, 700024, 700027, 5002738});
}

Explanation refused_grant(Flow flow, const AadError& e) {
  switch (flow) {
    case Flow::kRefresh:
      if (e.code == 700082) {
        return {"the refresh token expired after a long time unused",
                std::string(kLoginAgain) + " to sign in anew"};
      }
      if (e.code == 50173) {
        return {"the refresh token was revoked (a password change or \"revoke sessions\")",
                std::string(kLoginAgain) + " to sign in anew"};
      }
      return {
          "the refresh token is no longer valid: expired, revoked, already used (Entra "
          "rotates it at every use) or issued to another app",
          std::string(kLoginAgain) + " to sign in anew"};
    case Flow::kPassword:
      if (e.code == 50126) {
        return {"the username or password is wrong", "check AZURE_USERNAME and AZURE_PASSWORD"};
      }
      if (e.code == 50034) {
        return {"the user account does not exist in this tenant",
                "check AZURE_USERNAME and the tenant (AZURE_TENANT_ID)"};
      }
      if (e.code == 50053) {
        return {"the account is locked after too many failed sign-ins",
                "wait, or ask an administrator to unlock it"};
      }
      if (e.code == 50055 || e.suberror == "user_password_expired") {
        return {"the password has expired", "change it in a browser, then try again"};
      }
      if (e.code == 50057) return {"the account is disabled", "ask an administrator"};
      return {"the username and password were refused", "check AZURE_USERNAME and AZURE_PASSWORD"};
    case Flow::kDevicePoll:
      return {"the device code is no longer valid (it was already used)", std::string(kLoginAgain)};
    default:
      return {"the grant was refused", ""};
  }
}

Explanation refused_client(Flow flow, const AadError& e, const OAuthOptions& o) {
  const std::string app = "app " + o.client_id;
  if (e.code == 7000218) {
    return {app +
                " is a confidential client: it must present a client secret or certificate, "
                "and its registration does not allow public client flows",
            "use a public client's id (or none, for graph-threads' default), or turn on "
            "\"Allow public client flows\" in the app registration's Authentication page"};
  }
  if (e.code == 700025) {
    return {app + " is a public client, so it must not present a client secret or certificate",
            "register the secret or certificate on the app, or sign in as a user instead"};
  }
  if (e.code == 7000215 || e.code == 7000222) {
    return {"the client secret of " + app +
                (e.code == 7000222 ? " has expired"
                                   : " was refused: wrong, expired, or not registered"),
            "check AZURE_CLIENT_SECRET: it must be a current secret's Value (not its Secret ID) "
            "from the app registration's \"Certificates & secrets\" page"};
  }
  if (flow == Flow::kAssertion || is_assertion_code(e.code)) {
    return {"the client assertion of " + app + " was refused",
            "check that the certificate (AZURE_CLIENT_CERTIFICATE_PATH) is uploaded to the app "
            "registration and valid, or that the federated token (AZURE_FEDERATED_TOKEN_FILE) "
            "matches a federated credential of the app; and that this machine's clock is right"};
  }
  return {"the credentials of " + app + " were refused", std::string(kCheckClient)};
}

Explanation explain(Flow flow, const AadError& e, const OAuthOptions& o) {
  const std::string& err = e.error;
  if (err == "authorization_declined" || err == "access_denied") {
    return {"the sign-in was declined",
            std::string(kLoginAgain) + " and approve the request in the browser"};
  }
  if (err == "expired_token") {
    return {"the code expired before it was used",
            std::string(kLoginAgain) + " and enter the code before it expires"};
  }
  if (err == "bad_verification_code") {
    return {
        "the sign-in server does not know this device code (issued to another app or "
        "tenant?)",
        std::string(kLoginAgain)};
  }
  if (err == "authorization_pending" || err == "slow_down") {
    return {"the sign-in was not completed", std::string(kLoginAgain)};
  }
  if (needs_interaction(e)) {
    return {
        "multi-factor authentication (MFA) or Conditional Access requires an interactive "
        "sign-in, which this flow cannot do",
        "sign in with `graph-threads auth login` (device code, in a browser) instead of a "
        "password or stored refresh token"};
  }
  if (needs_consent(e)) {
    return {"app " + o.client_id + " has not been granted (consented) the permissions asked for",
            "an administrator can grant consent for the app, or sign in with `graph-threads auth "
            "login` to consent yourself"};
  }
  if (err == "invalid_grant") return refused_grant(flow, e);
  if (err == "invalid_client") return refused_client(flow, e, o);
  if (err == "unauthorized_client") {
    if (e.code == 700016) {
      return {"no application with client id " + o.client_id + " exists in tenant " + o.tenant,
              std::string(kCheckClient) +
                  ": the app must be registered in, or consented to by, that tenant"};
    }
    return {"app " + o.client_id + " is not allowed to use this sign-in flow",
            "check the app registration (device code, password and refresh tokens need \"Allow "
            "public client flows\"); " +
                std::string(kCheckClient)};
  }
  if (err == "invalid_scope") {
    return {"the permissions (scope) asked for were refused",
            "ask for Microsoft Graph permissions of this cloud; app-only sign-ins take exactly "
            "one scope, \"<graph root>/.default\""};
  }
  if (err == "invalid_resource") {
    return {"the resource asked for (Microsoft Graph) is not known to this tenant or cloud",
            "check --cloud and the tenant"};
  }
  if (err == "invalid_request" && e.code == 9001023) {
    return {"app-only sign-in needs a specific tenant, not \"" + o.tenant + "\"",
            "set AZURE_TENANT_ID to the tenant's id or domain"};
  }
  if (err == "invalid_request" && (e.code == 90002 || e.code == 900023)) {
    return {"tenant \"" + o.tenant + "\" was not found", "check AZURE_TENANT_ID / --tenant"};
  }
  if (err == "temporarily_unavailable") {
    return {"the Microsoft identity platform is temporarily unavailable",
            "try again in a few minutes, or raise --retries"};
  }
  if (err == "unsupported_grant_type") {
    return {"the sign-in server does not support this kind of sign-in",
            "check AZURE_AUTHORITY_HOST"};
  }
  return {"the sign-in was refused", ""};
}

// ---- one exchange, with retries --------------------------------------------------------------

// A request to the token or devicecode endpoint.
struct Call {
  Flow flow;
  std::string_view endpoint;  // "token" or "devicecode"
  std::string body;           // form-encoded; holds the secrets
  std::vector<std::string_view> secrets;
};

// The final HTTP answer to a Call, after any retries.
struct Answer {
  HttpResponse response;
  std::string client_request_id;  // ours, of the attempt that got this answer
  int attempts = 1;
  std::optional<AadError> error;  // parsed from a non-2xx JSON answer
  std::string stopped_retrying;   // why a retryable answer was not retried ("" if it was not)

  bool ok() const { return response.status >= 200 && response.status < 300; }
};

// The client's state for one public call: options, dependencies and what the call must hide.
struct Endpoint {
  const OAuthClient::Deps& deps;
  const OAuthOptions& options;
  const Call& call;

  void log(const std::string& line) const {
    if (deps.verbose) *deps.verbose << scrub_secrets(line, call.secrets) << '\n' << std::flush;
  }

  // Text from an answer, fit to quote: secrets removed first (so that cutting it short cannot
  // leave part of one behind), then one line of at most `limit` bytes.
  std::string quote(std::string_view text, std::size_t limit) const {
    return one_line(scrub_secrets(std::string(text), call.secrets), limit);
  }

  std::string new_request_id() const {
    return deps.new_request_id ? deps.new_request_id() : new_uuid();
  }

  HttpRequest request(const std::string& client_request_id) const {
    HttpRequest r;
    r.method = "POST";
    r.scheme = options.authority.scheme;
    r.host = options.authority.host;
    r.port = options.authority.port;
    r.target = options.authority.path_prefix + "/" + encode_path_segment(options.tenant) +
               "/oauth2/v2.0/" + std::string(call.endpoint);
    r.headers = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
        {"client-request-id", client_request_id},
        {"return-client-request-id", "true"},
        {"User-Agent", options.user_agent},
    };
    r.body = call.body;
    return r;
  }

  // Entra's "temporarily_unavailable" means "retry the request after a small delay", whatever
  // status carries it: treated as the 503 it stands for. 429/503/504 are retried as Graph's are;
  // for 504, repeating a token request can at worst get a spent refresh token refused, which is
  // reported as such, so it is retried like an idempotent request (as MSAL does).
  RetryDecision decide(const HttpResponse& response, const std::optional<AadError>& error,
                       int attempt) const {
    if (error && error->error == "temporarily_unavailable" && response.status != 429 &&
        response.status != 503 && response.status != 504) {
      HttpResponse as_503 = response;
      as_503.status = 503;
      return decide_after_response(as_503, attempt, Idempotency::kIdempotent, options.retry,
                                   deps.clock.wall_now(), deps.jitter);
    }
    return decide_after_response(response, attempt, Idempotency::kIdempotent, options.retry,
                                 deps.clock.wall_now(), deps.jitter);
  }

  Error transport_error(const TransportError& terr, RetryVerdict verdict, int attempt,
                        const std::string& crid) const {
    const std::string where = "the sign-in server " + options.authority.origin();
    Error e;
    e.client_request_id = crid;
    e.http_status = terr.status;
    if (terr.failure == TransportFailure::kInterrupted) {
      e.kind = ErrorKind::kInterrupted;
      e.message = terr.request_bytes_written
                      ? "interrupted while signing in; the sign-in may need to be repeated"
                      : "interrupted while signing in; nothing was sent";
      return e;
    }
    e.kind = ErrorKind::kNetwork;
    if (verdict == RetryVerdict::kUnknown) {
      // The request reached the server and no complete answer came back. Not repeated: a
      // refresh token may already have been redeemed (and rotated), a device code used.
      e.message = "no complete answer from " + where + ": " + terr.message +
                  " after the request was sent; the sign-in may need to be repeated";
      e.hint = "run the command again; if the sign-in is then refused, " + std::string(kLoginAgain);
      return e;
    }
    e.message = "could not reach " + where + ": " + terr.message + "; nothing was sent" +
                (attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : "");
    e.hint = terr.hint;
    return e;
  }

  // Sends the call until it gets an answer that is not retried. Fails only for transport
  // failures and interruptions.
  Result<Answer> exchange() const {
    AttemptOptions attempt_options{
        // As for an unsafe POST: bytes written without an answer is kUnknown, never retried
        // (a refresh token may already have been redeemed and rotated, a device code used).
        .idempotency = Idempotency::kUnsafe,
        .retry = options.retry,
        .attempt_deadline =
            [this](Clock::time_point start) { return start + options.request_timeout; },
        .max_wait = options.request_timeout,
        .decide = [this](const HttpResponse& r,
                         int attempt) { return decide(r, parse_aad_error(r.body), attempt); },
        .describe =
            [this](const HttpResponse& r) {
              std::string more;
              if (auto rid = r.header("x-ms-request-id"); !rid.empty()) {
                more = "x-ms-request-id " + std::string(rid);
              }
              if (r.status >= 200 && r.status < 300) return more;
              if (const auto aad = parse_aad_error(r.body)) {
                more += (more.empty() ? "" : "  ") + quote(aad->error, 60);
                if (aad->code) more += " AADSTS" + std::to_string(aad->code);
              }
              return more;
            }};
    AttemptDeps attempt_deps{.transport = deps.transport,
                             .clock = deps.clock,
                             .new_request_id = [this] { return new_request_id(); },
                             .jitter = deps.jitter,
                             .log = [this](const std::string& line) { log(line); }};
    Attempts a = send_with_retries([this](const std::string& crid) { return request(crid); },
                                   attempt_options, attempt_deps);
    switch (a.end) {
      case Attempts::End::kInterrupted: {
        Error e{ErrorKind::kInterrupted,
                a.attempts == 0 ? "interrupted before signing in; nothing was sent"
                : !a.answered && a.transport.failure == TransportFailure::kInterrupted
                    ? (a.transport.request_bytes_written
                           ? "interrupted while signing in; the sign-in may need to be repeated"
                           : "interrupted while signing in; nothing was sent")
                    : "interrupted while waiting to retry the sign-in; nothing more was sent"};
        if (a.attempts > 0) e.client_request_id = a.client_request_id;
        return e;
      }
      case Attempts::End::kTransport:
        return transport_error(a.transport, a.decision.verdict, a.attempts, a.client_request_id);
      case Attempts::End::kOutOfTime:
        if (!a.answered) {
          return transport_error(a.transport, RetryVerdict::kGiveUp, a.attempts,
                                 a.client_request_id);
        }
        break;
      case Attempts::End::kAnswered:
        break;
    }
    Answer answer;
    answer.response = std::move(a.response);
    answer.client_request_id = a.client_request_id;
    answer.attempts = a.attempts;
    if (!answer.ok()) answer.error = parse_aad_error(answer.response.body);
    if (a.end == Attempts::End::kOutOfTime) {
      answer.stopped_retrying =
          "a retry after " + format_delay(a.decision.delay) + " would outlast the timeout";
    }
    return answer;
  }

  // The Error for an answer that is neither a token nor a retry.
  Error refusal(const Answer& a) const {
    const HttpResponse& r = a.response;
    Error e;
    e.kind = ErrorKind::kAuth;
    e.http_status = r.status;
    e.request_id = quote(r.header("x-ms-request-id"), 100);
    e.client_request_id = a.client_request_id;
    e.date = quote(r.header("Date"), 100);
    std::string again;
    if (!a.stopped_retrying.empty()) {
      again = " (" + a.stopped_retrying + ")";
    } else if (a.attempts > 1) {
      again = " (after " + std::to_string(a.attempts) + " attempts)";
    }
    const bool busy = r.status == 429 || r.status >= 500;
    if (!a.error) {
      e.message = std::string("the sign-in server ") + (busy ? "is busy or unavailable: it " : "") +
                  "answered HTTP " + status_line(r) +
                  (r.body.empty() ? "" : ": " + quote(r.body, 200)) + again;
      e.hint = busy ? "try again in a few minutes, or raise --retries"
                    : "check AZURE_AUTHORITY_HOST and the tenant: " + url() +
                          " must be a Microsoft identity platform token endpoint";
      return scrub(std::move(e), call.secrets);
    }
    const AadError& aad = *a.error;
    Explanation x = explain(call.flow, aad, options);
    if (busy) x.hint = "try again in a few minutes, or raise --retries";
    e.code = aad.code ? "AADSTS" + std::to_string(aad.code) : quote(aad.error, 100);
    if (!aad.trace_id.empty()) e.request_id = quote(aad.trace_id, 100);
    if (!aad.correlation_id.empty()) e.client_request_id = quote(aad.correlation_id, 100);
    if (!aad.timestamp.empty()) e.date = quote(aad.timestamp, 100);
    e.message = x.text + again + " (" + quote(aad.error, 100) +
                (aad.description.empty() ? "" : ": " + quote(aad.description, 400)) + ")";
    e.hint = std::move(x.hint);
    return scrub(std::move(e), call.secrets);
  }

  std::string url() const { return request("").url(); }
};

Status check_options(const OAuthOptions& o) {
  if (o.client_id.empty()) return Error::usage("no application (client) id to sign in with");
  if (o.tenant.empty()) return Error::usage("no tenant to sign in to");
  if (o.authority.host.empty()) return Error::usage("no login host (authority) to sign in at");
  return ok_status();
}

}  // namespace

const char* login_host(Cloud cloud) {
  switch (cloud) {
    case Cloud::kGlobal:
      return "https://login.microsoftonline.com";
    case Cloud::kUsGov:
    case Cloud::kDod:
      return "https://login.microsoftonline.us";
    case Cloud::kChina:
      return "https://login.chinacloudapi.cn";
  }
  return "https://login.microsoftonline.com";
}

Result<BaseUrl> authority_host(Cloud cloud,
                               const std::optional<std::string>& azure_authority_host) {
  constexpr std::string_view kVariable = "AZURE_AUTHORITY_HOST";
  if (!azure_authority_host || azure_authority_host->empty()) {
    return parse_base_url(login_host(cloud), "login host");
  }
  const std::string& text = *azure_authority_host;
  if (text.find("://") == std::string::npos) {
    // parse_base_url's example is Graph's root; name the login host instead.
    return Error::usage(std::string(kVariable) + " \"" + text +
                        "\": not an absolute URL (expected e.g. " + login_host(cloud) + ")");
  }
  return parse_base_url(text, kVariable);
}

OAuthClient::OAuthClient(Deps deps, OAuthOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

std::string OAuthClient::token_endpoint() const {
  const Call call{.flow = Flow::kSecret, .endpoint = "token", .body = {}, .secrets = {}};
  return Endpoint{deps_, options_, call}.url();
}

namespace {

// Runs a token grant: one exchange (with retries), then the tokens or the refusal explained.
Result<TokenResponse> redeem(const OAuthClient::Deps& deps, const OAuthOptions& options,
                             const Call& call) {
  if (auto st = check_options(options); !st) return std::move(st).error();
  const Endpoint endpoint{deps, options, call};
  auto answer = endpoint.exchange();
  if (!answer) return scrub(std::move(answer).error(), call.secrets);
  if (!answer->ok()) return endpoint.refusal(*answer);
  return parse_token_response(answer->response.body);
}

}  // namespace

Result<DeviceCode> OAuthClient::start_device_flow(const std::vector<std::string>& scopes) {
  if (auto st = check_options(options_); !st) return std::move(st).error();
  const std::string scope = join(scopes);
  const Call call{.flow = Flow::kDeviceStart,
                  .endpoint = "devicecode",
                  .body = form({{"client_id", options_.client_id}, {"scope", scope}}),
                  .secrets = {}};
  const Endpoint endpoint{deps_, options_, call};
  auto answer = endpoint.exchange();
  if (!answer) return std::move(answer).error();
  if (!answer->ok()) return endpoint.refusal(*answer);
  return parse_device_code(answer->response.body);
}

Result<TokenResponse> OAuthClient::poll_device_flow(
    const DeviceCode& code, const std::function<void(std::int64_t)>& on_slow_down) {
  if (auto st = check_options(options_); !st) return std::move(st).error();
  const Call call{.flow = Flow::kDevicePoll,
                  .endpoint = "token",
                  .body = form({{"grant_type", kDeviceCodeGrant},
                                {"client_id", options_.client_id},
                                {"device_code", code.device_code}}),
                  .secrets = {code.device_code}};
  const Endpoint endpoint{deps_, options_, call};
  const auto expires_at =
      deps_.clock.now() + std::chrono::seconds(std::max<std::int64_t>(0, code.expires_in));
  std::int64_t interval = std::max<std::int64_t>(0, code.interval);
  const auto expired = [&] {
    return Error::auth("the code expired before it was used (it was valid for " +
                           format_delay(std::chrono::seconds(code.expires_in)) + ")",
                       std::string(kLoginAgain) + " and enter the code before it expires");
  };
  while (true) {
    // Wait the interval before every poll, but never past the code's expiry: then it is over.
    const auto now = deps_.clock.now();
    const auto wait = std::min<Clock::duration>(std::chrono::seconds(interval), expires_at - now);
    if (wait > Clock::duration::zero() && !deps_.clock.sleep_for(wait)) {
      return Error{ErrorKind::kInterrupted,
                   "interrupted while waiting for the sign-in to be approved"};
    }
    if (deps_.clock.now() >= expires_at) return expired();

    auto answer = endpoint.exchange();
    if (!answer) return scrub(std::move(answer).error(), call.secrets);
    if (answer->ok()) return parse_token_response(answer->response.body);
    const std::string error = answer->error ? answer->error->error : std::string();
    if (error == "authorization_pending") continue;
    if (error == "slow_down") {
      interval += kSlowDownStepSeconds;
      if (on_slow_down) on_slow_down(interval);
      continue;
    }
    return endpoint.refusal(*answer);
  }
}

Result<TokenResponse> OAuthClient::redeem_refresh_token(std::string_view refresh_token,
                                                        const std::vector<std::string>& scopes) {
  const std::string scope = join(scopes);
  const std::string body = scope.empty() ? form({{"grant_type", "refresh_token"},
                                                 {"client_id", options_.client_id},
                                                 {"refresh_token", refresh_token}})
                                         : form({{"grant_type", "refresh_token"},
                                                 {"client_id", options_.client_id},
                                                 {"refresh_token", refresh_token},
                                                 {"scope", scope}});
  return redeem(
      deps_, options_,
      {.flow = Flow::kRefresh, .endpoint = "token", .body = body, .secrets = {refresh_token}});
}

Result<TokenResponse> OAuthClient::password_grant(std::string_view username,
                                                  std::string_view password,
                                                  const std::vector<std::string>& scopes) {
  return redeem(deps_, options_,
                {.flow = Flow::kPassword,
                 .endpoint = "token",
                 .body = form({{"grant_type", "password"},
                               {"client_id", options_.client_id},
                               {"username", username},
                               {"password", password},
                               {"scope", join(scopes)}}),
                 .secrets = {password}});
}

Result<TokenResponse> OAuthClient::client_secret_grant(std::string_view secret,
                                                       std::string_view scope) {
  return redeem(deps_, options_,
                {.flow = Flow::kSecret,
                 .endpoint = "token",
                 .body = form({{"grant_type", "client_credentials"},
                               {"client_id", options_.client_id},
                               {"client_secret", secret},
                               {"scope", scope}}),
                 .secrets = {secret}});
}

Result<TokenResponse> OAuthClient::client_assertion_grant(std::string_view assertion,
                                                          std::string_view scope) {
  return redeem(deps_, options_,
                {.flow = Flow::kAssertion,
                 .endpoint = "token",
                 .body = form({{"grant_type", "client_credentials"},
                               {"client_id", options_.client_id},
                               {"client_assertion_type", kJwtBearer},
                               {"client_assertion", assertion},
                               {"scope", scope}}),
                 .secrets = {assertion}});
}

}  // namespace gt
