#include "emulator/identity_service.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>
#include <variant>

#include "emulator/graph_service.hpp"
#include "gt/ascii.hpp"
#include "gt/uuid.hpp"

namespace gt::emulator {
namespace {

namespace json = boost::json;
using SystemClock = std::chrono::system_clock;
using TimePoint = SystemClock::time_point;
using Bytes = std::vector<unsigned char>;

constexpr std::string_view kGraphResource = "https://graph.microsoft.com";
constexpr std::string_view kGraphAppId = "00000003-0000-0000-c000-000000000000";
constexpr std::string_view kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::string_view kVerificationUri = "https://microsoft.com/devicelogin";
constexpr std::string_view kCertDocs =
    "Review the documentation at "
    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials.";
// RFC 8628 §3.5: after slow_down "the interval MUST be increased by 5 seconds".
constexpr std::chrono::seconds kSlowDownStep{5};
// Entra's user codes are 9 letters ("BPPVYQZMA"); I and O are left out so nobody types 1 or 0.
constexpr std::string_view kUserCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::size_t kUserCodeLength = 9;

// ---- text --------------------------------------------------------------------------------------

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) words.emplace_back(s.substr(start, i - start));
  }
  return words;
}

std::string join(const std::vector<std::string>& words, std::string_view sep = " ") {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ---- bytes: randomness, digests, encodings (OpenSSL) -------------------------------------------

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using X509Ptr = Ptr<X509, X509_free>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using BioPtr = Ptr<BIO, BIO_free_all>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  // Without a working CSPRNG nothing this service issues (keys, codes, tokens) would be
  // unguessable or even unique, and there is no sensible answer to give a client.
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) std::terminate();
  return out;
}

Bytes digest(const EVP_MD* md, std::string_view data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) std::terminate();
  out.resize(size);
  return out;
}

std::string_view as_chars(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

Bytes hmac_sha256(const Bytes& key, std::string_view data) {
  Bytes out(EVP_MAX_MD_SIZE);
  std::size_t size = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                 out.size(), &size)) {
    std::terminate();
  }
  out.resize(size);
  return out;
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

std::string base64url(const Bytes& in) {
  return base64url(as_chars(in));
}

// Decodes base64 in either alphabet (standard or URL-safe), with or without '=' padding;
// nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string hex(const Bytes& bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// A name-based UUID (the version-5 layout over SHA-1), so the same user always gets the same oid.
std::string name_uuid(std::string_view kind, std::string_view name) {
  Bytes b =
      digest(EVP_sha1(), "graph-threads-emulator:" + std::string(kind) + ":" + ascii_lowered(name));
  b.resize(16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x50);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  const std::string h = hex(b, false);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// The key access and id tokens are signed with: random, once per process.
const Bytes& signing_key() {
  static const Bytes key = random_bytes(32);
  return key;
}

std::string signing_key_id() {
  Bytes d = digest(EVP_sha256(), as_chars(signing_key()));
  d.resize(8);
  return "emulator-" + hex(d, false);
}

// ---- time --------------------------------------------------------------------------------------

std::int64_t epoch_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::tm utc(TimePoint t) {
  const std::time_t tt = SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string format_time(TimePoint t, const char* format) {
  const std::tm tm = utc(t);
  std::array<char, 48> buf{};
  std::strftime(buf.data(), buf.size(), format, &tm);
  return buf.data();
}

// "2026-11-27 15:12:44Z": Entra's "timestamp" and the Timestamp line of error descriptions.
std::string aad_timestamp(TimePoint t) {
  return format_time(t, "%Y-%m-%d %H:%M:%SZ");
}

std::string iso_time(TimePoint t) {
  return format_time(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string iso_time(std::int64_t epoch) {
  return iso_time(TimePoint(std::chrono::seconds(epoch)));
}

// RFC 9110 IMF-fixdate, spelled out (strftime's %a/%b follow the locale).
std::string http_date(TimePoint t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::tm tm = utc(t);
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf.data();
}

std::optional<TimePoint> to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return SystemClock::from_time_t(timegm(&tm));
}

// ---- errors ------------------------------------------------------------------------------------

// An answer of Entra's error shape (see the header).
struct AadError {
  int status = 400;
  std::string error;    // "invalid_grant", ...
  long code = 0;        // the AADSTS number
  std::string message;  // the text after "AADSTSnnnnn: "
  std::string suberror;
  std::string claims;
};

template <class T>
using Outcome = std::variant<T, AadError>;

template <class T>
bool failed(const Outcome<T>& o) {
  return std::holds_alternative<AadError>(o);
}

AadError missing(std::string_view parameter) {
  return {.error = "invalid_request",
          .code = 900144,
          .message = "The request body must contain the following parameter: '" +
                     std::string(parameter) + "'."};
}

AadError malformed(std::string_view detail) {
  return {.error = "invalid_request",
          .code = 9002313,
          .message = "Invalid request. Request is malformed or invalid. " + std::string(detail)};
}

AadError invalid_client(long code, std::string message) {
  return {.status = 401, .error = "invalid_client", .code = code, .message = std::move(message)};
}

AadError invalid_grant(long code, std::string message) {
  return {.error = "invalid_grant", .code = code, .message = std::move(message)};
}

AadError unknown_client(std::string_view client_id, std::string_view tenant) {
  return {.error = "unauthorized_client",
          .code = 700016,
          .message = "Application with identifier '" + std::string(client_id) +
                     "' was not found in the directory '" + std::string(tenant) +
                     "'. This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "may have sent your authentication request to the wrong tenant."};
}

AadError unknown_resource(std::string_view resource, std::string_view tenant) {
  return {.error = "invalid_resource",
          .code = 500011,
          .message = "The resource principal named " + std::string(resource) +
                     " was not found in the tenant named " + std::string(tenant) +
                     ". This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "might have sent your authentication request to the wrong tenant."};
}

// ---- the request -------------------------------------------------------------------------------

// What every answer to one request shares.
struct Call {
  TimePoint now;
  std::string tenant;  // the tenant segment as sent
  std::string tid;     // the tenant id it stands for
  std::string origin;  // "https://host[:port]" of this endpoint as the client addressed it
  std::string trace_id;
  std::string correlation_id;
  std::string client_request_id;  // as sent; may be empty
};

HttpResponse json_answer(const Call& call, int status, const json::object& body) {
  HttpResponse r{.status = status, .reason = reason_phrase(status), .headers = {}, .body = {}};
  r.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  r.headers.push_back({"Cache-Control", "no-store, no-cache"});
  r.headers.push_back({"Pragma", "no-cache"});
  r.headers.push_back({"x-ms-request-id", call.trace_id});
  if (!call.client_request_id.empty()) {
    r.headers.push_back({"client-request-id", call.client_request_id});
  }
  r.headers.push_back({"Date", http_date(call.now)});
  r.body = json::serialize(body);
  return r;
}

HttpResponse error_answer(const Call& call, const AadError& e) {
  const std::string code = std::to_string(e.code);
  const std::string timestamp = aad_timestamp(call.now);
  json::object body;
  body["error"] = e.error;
  body["error_description"] =
      "AADSTS" + code + ": " + e.message + "\r\nTrace ID: " + call.trace_id +
      "\r\nCorrelation ID: " + call.correlation_id + "\r\nTimestamp: " + timestamp;
  body["error_codes"] = json::array{e.code};
  body["timestamp"] = timestamp;
  body["trace_id"] = call.trace_id;
  body["correlation_id"] = call.correlation_id;
  body["error_uri"] = "https://login.microsoftonline.com/error?code=" + code;
  if (!e.suberror.empty()) body["suberror"] = e.suberror;
  if (!e.claims.empty()) body["claims"] = e.claims;
  return json_answer(call, e.status, body);
}

// "/{tenant}/oauth2/v2.0/{endpoint}" -> {tenant, endpoint}; nullopt for any other path.
std::optional<std::pair<std::string, std::string>> parse_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!path.starts_with('/')) return std::nullopt;
  path.remove_prefix(1);
  const std::size_t slash = path.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  const std::string_view tenant = path.substr(0, slash);
  std::string_view rest = path.substr(slash);
  constexpr std::string_view kPrefix = "/oauth2/v2.0/";
  if (!rest.starts_with(kPrefix)) return std::nullopt;
  rest.remove_prefix(kPrefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return std::pair{std::string(tenant), std::string(rest)};
}

// ---- forms -------------------------------------------------------------------------------------

struct Form {
  std::map<std::string, std::string, std::less<>> fields;

  // "" when absent.
  const std::string& get(std::string_view name) const {
    static const std::string kEmpty;
    const auto it = fields.find(name);
    return it == fields.end() ? kEmpty : it->second;
  }
};

// application/x-www-form-urlencoded: '+' is a space, %XX a byte.
std::optional<std::string> form_decode(std::string_view s) {
  auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

Outcome<Form> parse_form(std::string_view body) {
  Form form;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const auto name = form_decode(pair.substr(0, eq));
    const auto value =
        form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) {
      return malformed("The form body has a '%' that is not followed by two hex digits.");
    }
    if (!form.fields.emplace(*name, *value).second) {
      return AadError{.error = "invalid_request",
                      .code = 9000411,
                      .message = "The request is not properly formatted. The parameter '" + *name +
                                 "' is duplicated."};
    }
  }
  return form;
}

bool is_form_content_type(std::string_view content_type) {
  return ascii_iequals(trim(content_type.substr(0, content_type.find(';'))),
                       "application/x-www-form-urlencoded");
}

// The first of `names` that is missing or empty.
std::optional<AadError> require(const Form& form, std::initializer_list<std::string_view> names) {
  for (const std::string_view name : names) {
    if (form.get(name).empty()) return missing(name);
  }
  return std::nullopt;
}

// ---- scopes ------------------------------------------------------------------------------------

bool is_oidc_scope(std::string_view lower) {
  return lower == "openid" || lower == "profile" || lower == "email" || lower == "offline_access";
}

// A delegated request's scopes: Graph permissions (prefix removed) and OIDC scopes.
struct Scopes {
  std::vector<std::string> graph;  // "Group.ReadWrite.All", ... (the scp claim), never empty
  std::vector<std::string> oidc;   // "openid", "offline_access", ... as requested, lower case

  bool has(std::string_view oidc_scope) const { return contains(oidc, oidc_scope); }

  // The "scope" of a token answer (see the header).
  std::string answer() const {
    std::vector<std::string> words;
    for (const auto& s : graph) words.push_back(std::string(kGraphResource) + "/" + s);
    for (const auto& s : oidc) {
      if (s != "offline_access") words.push_back(s);
    }
    return join(words);
  }
};

// Graph's permission name in a scope ("https://graph.microsoft.com/Mail.Read" -> "Mail.Read",
// "Mail.Read" -> "Mail.Read"); nullopt for another resource's scope.
std::optional<std::string> graph_permission(std::string_view scope) {
  for (const std::string_view resource : {kGraphResource, kGraphAppId}) {
    if (istarts_with(scope, resource) && scope.size() > resource.size() &&
        scope[resource.size()] == '/') {
      return std::string(scope.substr(resource.size() + 1));
    }
  }
  if (scope.find('/') != std::string_view::npos || scope.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(scope);
}

std::string resource_of(std::string_view scope) {
  const std::size_t slash = scope.rfind('/');
  return std::string(slash == std::string_view::npos ? scope : scope.substr(0, slash));
}

Outcome<Scopes> parse_delegated_scopes(std::string_view scope,
                                       const std::vector<std::string>& default_scopes,
                                       std::string_view tenant) {
  const std::vector<std::string> words = split_words(scope);
  if (words.empty()) return missing("scope");
  Scopes out;
  auto add = [&](const std::string& permission) {
    if (!contains(out.graph, permission)) out.graph.push_back(permission);
  };
  for (const auto& word : words) {
    const std::string lower = ascii_lowered(word);
    if (is_oidc_scope(lower)) {
      if (!out.has(lower)) out.oidc.push_back(lower);
      continue;
    }
    const auto permission = graph_permission(word);
    if (!permission) return unknown_resource(resource_of(word), tenant);
    if (permission->empty()) {
      return AadError{.error = "invalid_scope",
                      .code = 70011,
                      .message =
                          "The provided value for the input parameter 'scope' is not "
                          "valid. The scope " +
                          word + " is not valid."};
    }
    if (*permission == ".default") {
      for (const auto& d : default_scopes) add(d);
    } else {
      add(*permission);
    }
  }
  if (out.graph.empty()) out.graph.push_back("User.Read");
  return out;
}

// client_credentials: exactly one "{Microsoft Graph}/.default".
std::optional<AadError> check_app_scope(std::string_view scope, std::string_view tenant) {
  const std::vector<std::string> words = split_words(scope);
  for (const auto& word : words) {
    if (!word.ends_with("/.default")) {
      return AadError{.error = "invalid_scope",
                      .code = 1002012,
                      .message = "The provided value for scope " + word +
                                 " is not valid. Client credential flows must have a scope value "
                                 "with /.default suffixed to the resource identifier (application "
                                 "ID URI)."};
    }
  }
  if (words.size() != 1) {
    return AadError{.error = "invalid_scope",
                    .code = 70011,
                    .message =
                        "The provided value for the input parameter 'scope' is not valid. "
                        "The scope " +
                        join(words) + " is not valid."};
  }
  std::string_view resource = words.front();
  resource.remove_suffix(std::string_view("/.default").size());
  while (resource.ends_with('/')) resource.remove_suffix(1);
  if (!ascii_iequals(resource, kGraphResource) && !ascii_iequals(resource, kGraphAppId)) {
    return unknown_resource(resource, tenant);
  }
  return std::nullopt;
}

// ---- JWTs --------------------------------------------------------------------------------------

std::string sign_hs256(const json::object& payload) {
  json::object header;
  header["typ"] = "JWT";
  header["alg"] = "HS256";
  header["kid"] = signing_key_id();
  const std::string input =
      base64url(json::serialize(header)) + "." + base64url(json::serialize(payload));
  return input + "." + base64url(hmac_sha256(signing_key(), input));
}

struct Jwt {
  std::string signing_input;  // "header.payload" as sent
  json::object header;
  json::object payload;
  std::string signature;  // decoded bytes
};

std::optional<json::object> decode_json_object(std::string_view segment) {
  const auto text = base64_decode(segment);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::optional<Jwt> parse_jwt(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto header = decode_json_object(token.substr(0, first));
  auto payload = decode_json_object(token.substr(first + 1, second - first - 1));
  auto signature = base64_decode(token.substr(second + 1));
  if (!header || !payload || !signature) return std::nullopt;
  return Jwt{.signing_input = std::string(token.substr(0, second)),
             .header = std::move(*header),
             .payload = std::move(*payload),
             .signature = std::move(*signature)};
}

std::string string_claim(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::int64_t> number_claim(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

// RS256: RSASSA-PKCS1-v1_5; PS256: RSASSA-PSS with MGF1-SHA-256 and a 32-byte salt (RFC 7518
// §3.5). Both over SHA-256. False for any failure, including a key that is not RSA.
bool verify_rsa(EVP_PKEY* key, bool pss, std::string_view data, std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) == 1;
  if (ok && pss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                              data.size()) == 1;
  ERR_clear_error();  // a refused signature leaves errors on this thread's queue
  return ok;
}

// ---- registered credentials --------------------------------------------------------------------

struct AppCredentials {
  std::string secret;
  std::vector<std::string> roles;
  // The certificate, when one is registered.
  std::shared_ptr<EVP_PKEY> key;
  Bytes sha1;  // thumbprints of the DER encoding
  Bytes sha256;
  TimePoint not_before;
  TimePoint not_after;
};

Result<AppCredentials> load_app(const std::string& client_id, const IdentityApp& app) {
  AppCredentials out{.secret = app.secret, .roles = app.roles};
  if (app.certificate_pem.empty()) return out;
  auto fail = [&](std::string_view what) {
    ERR_clear_error();
    return Error::usage("identity app " + client_id + ": " + std::string(what));
  };
  BioPtr bio(
      BIO_new_mem_buf(app.certificate_pem.data(), static_cast<int>(app.certificate_pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return fail("certificate_pem is not a PEM certificate");
  PkeyPtr key(X509_get_pubkey(cert.get()));
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return fail("the certificate's key is not RSA (client assertions are RS256 or PS256)");
  }
  const int der_size = i2d_X509(cert.get(), nullptr);
  if (der_size <= 0) return fail("the certificate cannot be DER-encoded");
  std::string der(static_cast<std::size_t>(der_size), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert.get(), &p);
  const auto not_before = to_time_point(X509_get0_notBefore(cert.get()));
  const auto not_after = to_time_point(X509_get0_notAfter(cert.get()));
  if (!not_before || !not_after) return fail("the certificate's validity cannot be read");
  out.key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
  out.sha1 = digest(EVP_sha1(), der);
  out.sha256 = digest(EVP_sha256(), der);
  out.not_before = *not_before;
  out.not_after = *not_after;
  return out;
}

// The certificate a client assertion header names, by x5t#S256 (preferred) or x5t.
struct KeyLookup {
  bool found = false;
  std::string thumbprint_hex;  // what the client sent, for messages
};

KeyLookup find_key(const AppCredentials& app, const json::object& header) {
  for (const auto& [name, is_sha256] : {std::pair{"x5t#S256", true}, std::pair{"x5t", false}}) {
    const std::string sent = string_claim(header, name);
    if (sent.empty()) continue;
    const auto bytes = base64_decode(sent);
    if (!bytes) return {.found = false, .thumbprint_hex = sent};
    const Bytes thumbprint(bytes->begin(), bytes->end());
    const Bytes& registered = is_sha256 ? app.sha256 : app.sha1;
    return {.found = app.key && thumbprint == registered, .thumbprint_hex = hex(thumbprint, true)};
  }
  return {};
}

// ---- who signs in ------------------------------------------------------------------------------

struct Person {
  std::string upn;
  std::string name;
  std::string oid;
};

// What a token is issued for.
struct Grant {
  std::string client_id;
  std::string tid;
  std::string acr;                 // appidacr: "0" public client, "1" secret, "2" certificate
  std::optional<Person> user;      // delegated; nullopt: app-only
  Scopes scopes;                   // delegated
  std::vector<std::string> roles;  // app-only
};

// A client that proved who it is (or a public client, which need not).
struct Client {
  std::string id;
  std::string acr;
  const AppCredentials* app = nullptr;  // null for a public client
};

enum class DeviceState { kPending, kApproved, kDeclined, kRedeemed };

const char* state_name(DeviceState s) {
  switch (s) {
    case DeviceState::kPending:
      return "pending";
    case DeviceState::kApproved:
      return "approved";
    case DeviceState::kDeclined:
      return "declined";
    case DeviceState::kRedeemed:
      return "redeemed";
  }
  return "";
}

struct DeviceGrant {
  std::string device_code;
  std::string user_code;
  std::string client_id;
  std::string tid;
  std::string scope;  // as requested
  Scopes scopes;
  TimePoint expires_at;
  std::chrono::seconds interval{5};
  std::optional<TimePoint> last_poll;
  DeviceState state = DeviceState::kPending;
  std::optional<Person> user;  // who approved
};

struct RefreshGrant {
  Grant grant;
  TimePoint issued_at;
  std::uint64_t generation = 0;  // the user's revocation generation when issued
  bool redeemed = false;
};

std::string normalize_user_code(std::string_view code) {
  std::string out;
  for (const char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

// ---- the service -------------------------------------------------------------------------------

struct IdentityService::Impl {
  IdentityOptions options;
  std::map<std::string, AppCredentials> apps;                         // client_id ->
  std::map<std::string, std::pair<std::string, IdentityUser>> users;  // lower-case name ->

  mutable std::mutex mu;                          // guards everything below
  std::map<std::string, DeviceGrant> devices;     // device_code ->
  std::vector<std::string> device_order;          // device codes, oldest first
  std::map<std::string, std::string> user_codes;  // user_code -> device_code
  std::map<std::string, RefreshGrant> refresh_tokens;
  std::map<std::string, std::uint64_t> generations;  // lower-case username -> revocations
  std::map<std::string, TimePoint> revoked_at;       // lower-case username -> last revocation

  TimePoint now() const { return options.clock ? options.clock() : SystemClock::now(); }

  Person person(std::string_view username) const {
    const auto it = users.find(ascii_lowered(username));
    Person p;
    p.upn = it == users.end() ? std::string(username) : it->second.first;
    p.name = it == users.end() ? std::string() : it->second.second.display_name;
    if (p.name.empty()) p.name = p.upn.substr(0, p.upn.find('@'));
    p.oid = name_uuid("user", p.upn);
    return p;
  }

  bool is_public_client(std::string_view client_id) const {
    return options.public_clients.empty() ? !apps.contains(std::string(client_id))
                                          : contains(options.public_clients, client_id);
  }

  Call begin(const HttpRequest& request, std::string tenant) const {
    Call call;
    call.now = now();
    call.tid = looks_like_guid(tenant) ? ascii_lowered(tenant) : options.tenant_id;
    call.tenant = std::move(tenant);
    if (!options.issuer_host.empty()) {
      call.origin = "https://" + options.issuer_host;
    } else {
      const std::string_view host = request.header("Host");
      call.origin =
          request.scheme + "://" +
          (host.empty() ? request.host + ":" + std::to_string(request.port) : std::string(host));
    }
    call.trace_id = new_uuid();
    call.client_request_id = std::string(request.header("client-request-id"));
    call.correlation_id = looks_like_guid(call.client_request_id)
                              ? ascii_lowered(call.client_request_id)
                              : new_uuid();
    return call;
  }

  // ---- tokens ----------------------------------------------------------------------------------

  std::string access_token(const Call& call, const Grant& g) const {
    const std::int64_t iat = epoch_seconds(call.now);
    json::object p;
    p["aud"] = kGraphResource;
    p["iss"] = "https://sts.windows.net/" + g.tid + "/";
    p["iat"] = iat;
    p["nbf"] = iat;
    p["exp"] = iat + options.token_lifetime.count();
    p["appid"] = g.client_id;
    p["appidacr"] = g.acr;
    p["idtyp"] = g.user ? "user" : "app";
    if (g.user) {
      p["name"] = g.user->name;
      p["oid"] = g.user->oid;
      p["preferred_username"] = g.user->upn;
      p["scp"] = join(g.scopes.graph);
      p["sub"] = base64url(digest(EVP_sha256(), g.user->oid + ":" + g.client_id));
      p["tid"] = g.tid;
      p["upn"] = g.user->upn;
    } else {
      const std::string oid = name_uuid("app", g.client_id);
      json::array roles;
      for (const auto& r : g.roles) roles.emplace_back(r);
      p["oid"] = oid;
      p["roles"] = std::move(roles);
      p["sub"] = oid;
      p["tid"] = g.tid;
    }
    p["uti"] = base64url(random_bytes(16));
    p["ver"] = "1.0";
    return sign_hs256(p);
  }

  std::string id_token(const Call& call, const Grant& g) const {
    const std::int64_t iat = epoch_seconds(call.now);
    json::object p;
    p["aud"] = g.client_id;
    p["iss"] = call.origin + "/" + g.tid + "/v2.0";
    p["iat"] = iat;
    p["nbf"] = iat;
    p["exp"] = iat + options.token_lifetime.count();
    p["name"] = g.user->name;
    p["oid"] = g.user->oid;
    p["preferred_username"] = g.user->upn;
    p["sub"] = base64url(digest(EVP_sha256(), g.user->oid + ":" + g.client_id));
    p["tid"] = g.tid;
    p["ver"] = "2.0";
    return sign_hs256(p);
  }

  // REQUIRES: mu held (stores the refresh token).
  std::string new_refresh_token(const Call& call, const Grant& g) {
    std::string token = "1.A" + base64url(random_bytes(64));
    const std::string who = ascii_lowered(g.user->upn);
    refresh_tokens[token] = RefreshGrant{
        .grant = g, .issued_at = call.now, .generation = generations[who], .redeemed = false};
    return token;
  }

  // The success answer for `g`. REQUIRES: mu held.
  json::object issue(const Call& call, const Grant& g) {
    const std::int64_t lifetime = options.token_lifetime.count();
    json::object body;
    body["token_type"] = "Bearer";
    if (g.user) body["scope"] = g.scopes.answer();
    body["expires_in"] = lifetime;
    body["ext_expires_in"] = lifetime;
    body["access_token"] = access_token(call, g);
    if (g.user && g.scopes.has("offline_access")) {
      body["refresh_token"] = new_refresh_token(call, g);
    }
    if (g.user && g.scopes.has("openid")) body["id_token"] = id_token(call, g);
    return body;
  }

  // ---- client authentication -------------------------------------------------------------------

  // client_id from the form, else from an HTTP Basic Authorization header.
  struct BasicCredentials {
    std::string client_id;
    std::string secret;
  };

  static Outcome<std::optional<BasicCredentials>> basic_credentials(const HttpRequest& request) {
    const std::string_view authorization = trim(request.header("Authorization"));
    if (!istarts_with(authorization, "basic ")) return std::optional<BasicCredentials>{};
    const auto decoded = base64_decode(trim(authorization.substr(6)));
    const std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return malformed("The Authorization header is not Basic base64(client_id:client_secret).");
    }
    const auto id = form_decode(std::string_view(*decoded).substr(0, colon));
    const auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret) return malformed("The Basic credentials have a bad '%' escape.");
    return std::optional<BasicCredentials>{BasicCredentials{*id, *secret}};
  }

  // Authenticates the client of any grant. `confidential` (client_credentials): the client must
  // be a registered app and prove it. Otherwise a public client passes without credentials.
  Outcome<Client> authenticate(const Call& call, const Form& form,
                               const std::optional<BasicCredentials>& basic,
                               const std::string& client_id, bool confidential) const {
    const bool form_secret = !form.get("client_secret").empty();
    const bool assertion =
        !form.get("client_assertion").empty() || !form.get("client_assertion_type").empty();
    const int presented = int{form_secret} + int{basic.has_value()} + int{assertion};
    if (presented > 1) {
      return malformed(
          "Present only one client credential: client_secret, an Authorization: Basic header "
          "or client_assertion.");
    }
    const auto app = apps.find(client_id);
    const bool public_flow_allowed = !confidential && is_public_client(client_id);
    if (public_flow_allowed && presented == 0) {
      return Client{.id = client_id, .acr = "0", .app = nullptr};
    }
    if (app == apps.end()) {
      if (!public_flow_allowed) return unknown_client(client_id, call.tenant);
      return invalid_client(700025,
                            "Client is public so neither 'client_assertion' nor "
                            "'client_secret' should be presented.");
    }
    if (presented == 0) {
      return invalid_client(7000218,
                            "The request body must contain the following parameter: "
                            "'client_assertion' or 'client_secret'.");
    }
    if (!assertion) {
      const std::string& secret = basic ? basic->secret : form.get("client_secret");
      if (app->second.secret.empty() || !same_bytes(secret, app->second.secret)) {
        return invalid_client(7000215,
                              "Invalid client secret provided. Ensure the secret being sent in "
                              "the request is the client secret value, not the client secret ID, "
                              "for a secret added to app '" +
                                  client_id + "'.");
      }
      return Client{.id = client_id, .acr = "1", .app = &app->second};
    }
    if (const auto e = require(form, {"client_assertion_type", "client_assertion"})) return *e;
    if (form.get("client_assertion_type") != kJwtBearer) {
      return malformed("client_assertion_type must be " + std::string(kJwtBearer) + ".");
    }
    if (auto e = check_assertion(call, client_id, app->second, form.get("client_assertion"))) {
      return *std::move(e);
    }
    return Client{.id = client_id, .acr = "2", .app = &app->second};
  }

  // The accepted "aud" values of a client assertion sent to this call's token endpoint.
  std::vector<std::string> assertion_audiences(const Call& call) const {
    std::vector<std::string> out;
    for (const std::string& tenant : {call.tenant, call.tid}) {
      const std::string aud = call.origin + "/" + tenant + "/oauth2/v2.0/token";
      if (!contains(out, aud)) out.push_back(aud);
    }
    return out;
  }

  std::optional<AadError> check_assertion(const Call& call, const std::string& client_id,
                                          const AppCredentials& app,
                                          std::string_view assertion) const {
    const auto jwt = parse_jwt(assertion);
    if (!jwt) return invalid_client(50027, "JWT token is invalid or malformed.");
    const std::string alg = string_claim(jwt->header, "alg");
    if (alg != "RS256" && alg != "PS256") {
      return invalid_client(5002738, "Invalid JWT token. '" + alg +
                                         "' is not a supported signature algorithm. Supported "
                                         "signing algorithms are: 'RS256,PS256'");
    }
    const KeyLookup key = find_key(app, jwt->header);
    const std::string used = "Thumbprint of key used by client: '" + key.thumbprint_hex + "'";
    if (!key.found) {
      return invalid_client(
          700027,
          "The certificate with identifier used to sign the client assertion is not registered "
          "on application. [Reason - The key was not found., " +
              used +
              ", Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
              "configured keys for app Id '" +
              client_id + "'. " + std::string(kCertDocs) + "]");
    }
    if (call.now < app.not_before || call.now >= app.not_after) {
      return invalid_client(700027,
                            "Client assertion failed signature validation. [Reason - The "
                            "key used is expired., " +
                                used + ", Found key 'Start=" + iso_time(app.not_before) +
                                ", End=" + iso_time(app.not_after) + "']");
    }
    if (!verify_rsa(app.key.get(), alg == "PS256", jwt->signing_input, jwt->signature)) {
      return invalid_client(700027,
                            "Client assertion failed signature validation. [Reason - The "
                            "provided signature value did not match the expected signature "
                            "value., " +
                                used + "]");
    }
    const std::string iss = string_claim(jwt->payload, "iss");
    if (string_claim(jwt->payload, "sub") != iss) {
      return invalid_client(50048, "Subject mismatches Issuer claim in the client assertion.");
    }
    if (iss != client_id) {
      return invalid_client(700021,
                            "Client assertion application identifier doesn't match 'client_id' "
                            "parameter. Review the documentation at "
                            "https://learn.microsoft.com/entra/identity-platform/"
                            "certificate-credentials.");
    }
    if (!contains(assertion_audiences(call), string_claim(jwt->payload, "aud"))) {
      return invalid_client(
          700023,
          "Client assertion audience claim does not match Realm issuer. " + std::string(kCertDocs));
    }
    const auto exp = number_claim(jwt->payload, "exp");
    const auto nbf = number_claim(jwt->payload, "nbf");
    const std::int64_t now = epoch_seconds(call.now);
    if (!exp || *exp <= now || (nbf && *nbf > now)) {
      return invalid_client(
          700024,
          "Client assertion is not within its valid time range. Current "
          "time: " +
              iso_time(now) + ", assertion valid from " + (nbf ? iso_time(*nbf) : "(no nbf)") +
              ", expiry time of assertion " + (exp ? iso_time(*exp) : "(no exp)") + ". " +
              std::string(kCertDocs));
    }
    if (string_claim(jwt->payload, "jti").empty()) {
      return invalid_client(50027,
                            "JWT token is invalid or malformed. The 'jti' claim is missing.");
    }
    return std::nullopt;
  }

  // ---- endpoints -------------------------------------------------------------------------------

  // REQUIRES: mu held.
  std::string new_user_code() const {
    while (true) {
      const Bytes r = random_bytes(kUserCodeLength);
      std::string code;
      for (const unsigned char b : r) code += kUserCodeAlphabet[b % kUserCodeAlphabet.size()];
      if (!user_codes.contains(code)) return code;
    }
  }

  Outcome<json::object> devicecode(const Call& call, const Form& form) {
    if (auto e = require(form, {"client_id", "scope"})) return *std::move(e);
    const std::string& client_id = form.get("client_id");
    if (!options.public_clients.empty() && !is_public_client(client_id) &&
        !apps.contains(client_id)) {
      return unknown_client(client_id, call.tenant);
    }
    auto scopes =
        parse_delegated_scopes(form.get("scope"), options.default_delegated_scopes, call.tenant);
    if (failed(scopes)) return std::get<AadError>(std::move(scopes));

    std::lock_guard<std::mutex> lock(mu);
    DeviceGrant d{
        .device_code = "DAQABIQEAAAD" + base64url(random_bytes(96)),
        .user_code = new_user_code(),
        .client_id = client_id,
        .tid = call.tid,
        .scope = form.get("scope"),
        .scopes = std::get<Scopes>(std::move(scopes)),
        .expires_at = call.now + options.device_code_lifetime,
        .interval = std::max(options.device_poll_interval, options.enforced_poll_interval)};
    json::object body;
    body["user_code"] = d.user_code;
    body["device_code"] = d.device_code;
    body["verification_uri"] = kVerificationUri;
    body["expires_in"] = options.device_code_lifetime.count();
    body["interval"] = options.device_poll_interval.count();
    body["message"] = "To sign in, use a web browser to open the page " +
                      std::string(kVerificationUri) + " and enter the code " + d.user_code +
                      " to authenticate.";
    user_codes[d.user_code] = d.device_code;
    device_order.push_back(d.device_code);
    devices.emplace(d.device_code, std::move(d));
    return body;
  }

  // REQUIRES: mu held.
  Outcome<json::object> redeem_device_code(const Call& call, const Form& form,
                                           const Client& client) {
    const auto it = devices.find(form.get("device_code"));
    if (it == devices.end() || it->second.client_id != client.id) {
      return AadError{.error = "bad_verification_code",
                      .code = 70018,
                      .message =
                          "Invalid verification code. The provided value for the input "
                          "parameter 'device_code' is not valid."};
    }
    DeviceGrant& d = it->second;
    if (d.state == DeviceState::kRedeemed) {
      return invalid_grant(70000,
                           "The provided value for the input parameter 'device_code' is not "
                           "valid. This device code has already been redeemed.");
    }
    if (call.now >= d.expires_at) {
      return AadError{.error = "expired_token",
                      .code = 70020,
                      .message =
                          "The provided value for the input parameter 'device_code' is "
                          "not valid. This device code has expired."};
    }
    if (d.state == DeviceState::kDeclined) {
      return AadError{.error = "authorization_declined",
                      .code = 65004,
                      .message = "User declined to consent to access the app."};
    }
    if (d.state == DeviceState::kPending && options.auto_approve_device) {
      d.state = DeviceState::kApproved;
      d.user = person(options.demo_user);
    }
    if (d.state == DeviceState::kPending) {
      const bool too_soon = d.last_poll && call.now - *d.last_poll < d.interval;
      d.last_poll = call.now;
      if (too_soon) {
        d.interval += kSlowDownStep;
        return AadError{.error = "slow_down",
                        .code = 70016,
                        .message =
                            "OAuth 2.0 device flow error. Polling too frequently: wait at "
                            "least " +
                            std::to_string(d.interval.count()) +
                            " seconds between requests from now on."};
      }
      return AadError{.error = "authorization_pending",
                      .code = 70016,
                      .message =
                          "OAuth 2.0 device flow error. Authorization is pending. "
                          "Continue polling."};
    }
    d.state = DeviceState::kRedeemed;
    return issue(call, Grant{.client_id = client.id,
                             .tid = d.tid,
                             .acr = client.acr,
                             .user = d.user,
                             .scopes = d.scopes,
                             .roles = {}});
  }

  // REQUIRES: mu held.
  Outcome<json::object> redeem_refresh_token(const Call& call, const Form& form,
                                             const Client& client) {
    const auto it = refresh_tokens.find(form.get("refresh_token"));
    if (it == refresh_tokens.end()) {
      return invalid_grant(9002313,
                           "Invalid request. Request is malformed or invalid. The refresh token "
                           "was not issued by this service.");
    }
    RefreshGrant& r = it->second;
    if (r.redeemed) {
      return invalid_grant(70000,
                           "The provided value for the input parameter 'refresh_token' is not "
                           "valid. The refresh token has already been redeemed: this service "
                           "rotates refresh tokens, use the one from the latest response.");
    }
    if (r.grant.client_id != client.id) {
      return invalid_grant(70000,
                           "The provided value for the input parameter 'refresh_token' is not "
                           "valid. The refresh token was issued to a different client.");
    }
    if (call.now >= r.issued_at + options.refresh_token_lifetime) {
      return invalid_grant(700082,
                           "The refresh token has expired due to inactivity. The token "
                           "was issued on " +
                               iso_time(r.issued_at) + " and was inactive for " +
                               std::to_string(options.refresh_token_lifetime.count()) +
                               " seconds.");
    }
    const std::string who = ascii_lowered(r.grant.user->upn);
    if (r.generation != generations[who]) {
      return invalid_grant(50173,
                           "The provided grant has expired due to it being revoked, a "
                           "fresh auth token is needed. The user might have changed or "
                           "reset their password. The grant was issued on '" +
                               iso_time(r.issued_at) +
                               "' and the TokensValidFrom date (before which tokens are "
                               "not valid) for this user is '" +
                               iso_time(revoked_at[who]) + "'.");
    }
    if (!form.get("scope").empty()) {
      auto asked =
          parse_delegated_scopes(form.get("scope"), options.default_delegated_scopes, call.tenant);
      if (failed(asked)) return std::get<AadError>(std::move(asked));
      for (const auto& s : std::get<Scopes>(asked).graph) {
        if (!contains(r.grant.scopes.graph, s)) {
          AadError e = invalid_grant(
              65001,
              "The user or administrator has not consented to use the application with "
              "ID '" +
                  client.id + "' for the scope '" + s +
                  "'. Send an interactive authorization request for this user and "
                  "resource.");
          e.suberror = "consent_required";
          return e;
        }
      }
    }
    r.redeemed = true;
    Grant g = r.grant;  // copied: issue() inserts into refresh_tokens
    g.acr = client.acr;
    return issue(call, g);
  }

  // REQUIRES: mu held.
  Outcome<json::object> redeem_password(const Call& call, const Form& form, const Client& client) {
    const std::string& username = form.get("username");
    const auto user = users.find(ascii_lowered(username));
    if (user == users.end()) {
      return invalid_grant(50034, "The user account " + username + " does not exist in the " +
                                      call.tid +
                                      " directory. To sign into this application, the account "
                                      "must be added to the directory.");
    }
    if (!same_bytes(form.get("password"), user->second.second.password)) {
      return invalid_grant(50126,
                           "Error validating credentials due to invalid username or password.");
    }
    auto scopes =
        parse_delegated_scopes(form.get("scope"), options.default_delegated_scopes, call.tenant);
    if (failed(scopes)) return std::get<AadError>(std::move(scopes));
    if (user->second.second.needs_mfa) {
      AadError e = invalid_grant(
          50076,
          "Due to a configuration change made by your administrator, or because you "
          "moved to a new location, you must use multi-factor authentication to access '" +
              std::string(kGraphAppId) + "'.");
      e.suberror = "basic_action";
      e.claims = R"({"access_token":{"capolids":{"essential":true,"values":[")" +
                 name_uuid("policy", "mfa") + R"("]}}})";
      return e;
    }
    return issue(call, Grant{.client_id = client.id,
                             .tid = call.tid,
                             .acr = client.acr,
                             .user = person(username),
                             .scopes = std::get<Scopes>(std::move(scopes)),
                             .roles = {}});
  }

  // REQUIRES: mu held.
  json::object redeem_client_credentials(const Call& call, const Client& client) {
    return issue(call, Grant{.client_id = client.id,
                             .tid = call.tid,
                             .acr = client.acr,
                             .user = std::nullopt,
                             .scopes = {},
                             .roles = client.app->roles});
  }

  Outcome<json::object> token(const Call& call, const Form& form, const HttpRequest& request) {
    const std::string& grant_type = form.get("grant_type");
    if (grant_type.empty()) return missing("grant_type");
    const bool device = grant_type == kDeviceCodeGrant;
    const bool refresh = grant_type == "refresh_token";
    const bool password = grant_type == "password";
    const bool app_only = grant_type == "client_credentials";
    if (!device && !refresh && !password && !app_only) {
      return AadError{
          .error = "unsupported_grant_type",
          .code = 70003,
          .message = "The app requested an unsupported grant type '" + grant_type + "'."};
    }

    auto basic = basic_credentials(request);
    if (failed(basic)) return std::get<AadError>(std::move(basic));
    const auto& basic_creds = std::get<std::optional<BasicCredentials>>(basic);
    std::string client_id = form.get("client_id");
    if (basic_creds) {
      if (!client_id.empty() && client_id != basic_creds->client_id) {
        return malformed("client_id differs between the body and the Authorization header.");
      }
      client_id = basic_creds->client_id;
    }
    if (client_id.empty()) return missing("client_id");
    const auto needs = device     ? require(form, {"device_code"})
                       : refresh  ? require(form, {"refresh_token"})
                       : password ? require(form, {"username", "password", "scope"})
                                  : require(form, {"scope"});
    if (needs) return *needs;
    if (app_only) {
      if (call.tenant == "common" || call.tenant == "consumers") {
        return AadError{.error = "invalid_request",
                        .code = 9001023,
                        .message =
                            "The grant type isn't supported over the /common or "
                            "/consumers endpoints. Please use the /organizations or "
                            "tenant-specific endpoint."};
      }
      if (auto e = check_app_scope(form.get("scope"), call.tenant)) return *std::move(e);
    }

    std::lock_guard<std::mutex> lock(mu);
    auto client = authenticate(call, form, basic_creds, client_id, app_only);
    if (failed(client)) return std::get<AadError>(std::move(client));
    const Client& c = std::get<Client>(client);
    if (device) return redeem_device_code(call, form, c);
    if (refresh) return redeem_refresh_token(call, form, c);
    if (password) return redeem_password(call, form, c);
    return redeem_client_credentials(call, c);
  }

  HttpResponse handle(const HttpRequest& request) {
    const auto path = parse_path(request.target);
    Call call = begin(request, path ? path->first : std::string("common"));
    if (!path || (path->second != "token" && path->second != "devicecode")) {
      AadError e{.status = 404,
                 .error = "invalid_request",
                 .code = 90056,
                 .message =
                     "This emulator serves only POST /{tenant}/oauth2/v2.0/devicecode and "
                     "POST /{tenant}/oauth2/v2.0/token."};
      return error_answer(call, e);
    }
    if (request.method != "POST") {
      return error_answer(call, AadError{.error = "invalid_request",
                                         .code = 900561,
                                         .message = "The endpoint only accepts POST requests. "
                                                    "Received a " +
                                                    request.method + " request."});
    }
    auto form = parse_form(is_form_content_type(request.header("Content-Type"))
                               ? std::string_view(request.body)
                               : std::string_view());
    if (failed(form)) return error_answer(call, std::get<AadError>(form));
    auto answer = path->second == "devicecode" ? devicecode(call, std::get<Form>(form))
                                               : token(call, std::get<Form>(form), request);
    if (failed(answer)) return error_answer(call, std::get<AadError>(answer));
    return json_answer(call, 200, std::get<json::object>(answer));
  }

  // REQUIRES: mu held. The pending device code `user_code` names, or why there is none.
  Result<DeviceGrant*> pending_device(std::string_view user_code, TimePoint when) {
    const std::string code = normalize_user_code(user_code);
    const auto it = user_codes.find(code);
    if (it == user_codes.end()) return Error::usage("unknown user code '" + code + "'");
    DeviceGrant& d = devices.at(it->second);
    if (when >= d.expires_at) {
      return Error::usage("user code '" + code + "' expired at " + iso_time(d.expires_at));
    }
    if (d.state != DeviceState::kPending) {
      return Error::usage("user code '" + code + "' is already " + state_name(d.state));
    }
    return &d;
  }
};

// ---- public surface ----------------------------------------------------------------------------

Result<std::unique_ptr<IdentityService>> IdentityService::create(IdentityOptions options) {
  auto impl = std::make_unique<Impl>();
  for (const auto& [client_id, app] : options.apps) {
    auto loaded = load_app(client_id, app);
    if (!loaded) return std::move(loaded).error();
    impl->apps.emplace(client_id, std::move(loaded).value());
  }
  for (const auto& [username, user] : options.users) {
    impl->users.emplace(ascii_lowered(username), std::pair{username, user});
  }
  impl->options = std::move(options);
  return std::unique_ptr<IdentityService>(new IdentityService(std::move(impl)));
}

IdentityService::IdentityService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IdentityService::~IdentityService() = default;

HttpResponse IdentityService::handle(const HttpRequest& request) {
  return impl_->handle(request);
}

Status IdentityService::approve_device(std::string_view user_code, std::string_view username) {
  if (trim(username).empty()) return Error::usage("approving a device code needs a username");
  const TimePoint now = impl_->now();
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto d = impl_->pending_device(user_code, now);
  if (!d) return std::move(d).error();
  (*d)->state = DeviceState::kApproved;
  (*d)->user = impl_->person(trim(username));
  return ok_status();
}

Status IdentityService::deny_device(std::string_view user_code) {
  const TimePoint now = impl_->now();
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto d = impl_->pending_device(user_code, now);
  if (!d) return std::move(d).error();
  (*d)->state = DeviceState::kDeclined;
  return ok_status();
}

Status IdentityService::revoke_refresh_tokens(std::string_view username) {
  if (trim(username).empty()) return Error::usage("revoking refresh tokens needs a username");
  const TimePoint now = impl_->now();
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string who = ascii_lowered(trim(username));
  ++impl_->generations[who];
  impl_->revoked_at[who] = now;
  return ok_status();
}

std::vector<DeviceCodeInfo> IdentityService::device_codes() const {
  const TimePoint now = impl_->now();
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<DeviceCodeInfo> out;
  for (const auto& code : impl_->device_order) {
    const DeviceGrant& d = impl_->devices.at(code);
    const bool expired = d.state != DeviceState::kRedeemed && now >= d.expires_at;
    out.push_back({.user_code = d.user_code,
                   .client_id = d.client_id,
                   .scope = d.scope,
                   .state = expired ? "expired" : state_name(d.state),
                   .user = d.user ? d.user->upn : std::string(),
                   .expires_at = d.expires_at});
  }
  return out;
}

Status IdentityService::verify_access_token(std::string_view token) const {
  const auto jwt = parse_jwt(token);
  if (!jwt) return Error::auth("the access token is not a JWT");
  if (string_claim(jwt->header, "alg") != "HS256") {
    return Error::auth("the access token is not HS256-signed by this emulator");
  }
  const Bytes expected = hmac_sha256(signing_key(), jwt->signing_input);
  if (!same_bytes(as_chars(expected), jwt->signature)) {
    return Error::auth("the access token's signature is not this emulator's");
  }
  const auto exp = number_claim(jwt->payload, "exp");
  if (!exp || *exp <= epoch_seconds(impl_->now())) {
    return Error::auth("the access token expired at " + (exp ? iso_time(*exp) : "(no exp)"));
  }
  return ok_status();
}

}  // namespace gt::emulator
