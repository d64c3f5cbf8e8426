#include "emulator/graph_service.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <utility>

#include "gt/json_codec.hpp"
#include "gt/uuid.hpp"
#include "gt/validate.hpp"

namespace gt::emulator {
namespace {

namespace json = boost::json;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kSuccessContentType =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; "
    "charset=utf-8";
constexpr std::size_t kMaxPreviewChars = 255;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---- time --------------------------------------------------------------------------------------

std::tm utc_now() {
  const std::time_t t = SystemClock::to_time_t(SystemClock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

// "2026-11-27T15:12:44" (innerError.date, no zone, as Graph sends it); `zulu` appends "Z".
std::string iso8601(const std::tm& tm, bool zulu) {
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), zulu ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%S", &tm);
  return buf.data();
}

// RFC 9110 IMF-fixdate. Day and month names are spelled out here: strftime's %a/%b follow the
// locale.
std::string http_date(const std::tm& tm) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(tm.tm_wday) % 7], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon) % 12], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf.data();
}

// ---- ids ---------------------------------------------------------------------------------------

std::string base64(const std::vector<unsigned char>& bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (n > 1) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += n > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// A thread id shaped like Graph's: 49 bytes (so the base64 always ends in "=="), the first three
// fixed so that ids start with "AAQk" as real group-conversation ids do.
std::string new_thread_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::vector<unsigned char> bytes = {0x00, 0x04, 0x24};
  std::uniform_int_distribution<int> byte(0, 255);
  while (bytes.size() < 49) bytes.push_back(static_cast<unsigned char>(byte(engine)));
  return base64(bytes);
}

// Percent-encodes everything but RFC 3986 unreserved characters (for ids inside URLs).
std::string percent_encode(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]);
    const int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = target.find('/', start);
    segments.push_back(target.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

// ---- text --------------------------------------------------------------------------------------

// Replaces the few HTML entities that matter for a preview; others are kept as written.
std::string decode_entities(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kEntities = {{
      {"&amp;", "&"},
      {"&lt;", "<"},
      {"&gt;", ">"},
      {"&quot;", "\""},
      {"&#39;", "'"},
      {"&nbsp;", " "},
  }};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, text] : kEntities) {
        if (s.substr(i, entity.size()) == entity) {
          out += text;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// True for tags that separate words when rendered ("a<br>b", "</p><p>"); inline tags such as
// <b> do not ("<b>bold</b>ly").
bool breaks_words(std::string_view tag) {
  static constexpr std::array<std::string_view, 16> kBlocks = {
      "br", "p",     "div", "li", "ul", "ol", "tr", "td",
      "th", "table", "h1",  "h2", "h3", "h4", "hr", "blockquote"};
  if (!tag.empty() && tag.front() == '/') tag.remove_prefix(1);
  const std::size_t end = tag.find_first_of(" \t\r\n/>");
  const std::string_view name = tag.substr(0, end);
  return std::any_of(kBlocks.begin(), kBlocks.end(),
                     [&](std::string_view block) { return iequals(name, block); });
}

std::string strip_tags(std::string_view html) {
  std::string out;
  for (std::size_t i = 0; i < html.size();) {
    if (html[i] != '<') {
      out += html[i++];
      continue;
    }
    const std::size_t close = html.find('>', i);
    if (close == std::string_view::npos) break;  // an unterminated tag: drop the rest
    if (breaks_words(html.substr(i + 1, close - i - 1))) out += ' ';
    i = close + 1;
  }
  return out;
}

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  bool pending_space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// At most `max_chars` UTF-8 characters of `s` (never splits a multi-byte sequence).
std::string utf8_prefix(std::string s, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool continuation = (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
    if (!continuation && chars++ == max_chars) {
      s.resize(i);
      break;
    }
  }
  return s;
}

std::string preview_of(const ThreadRequest& request) {
  if (!request.posts || request.posts->empty()) return {};
  const auto& body = request.posts->front().body;
  if (!body || !body->content) return {};
  std::string text = *body->content;
  if (body->content_type == BodyType::kHtml) text = decode_entities(strip_tags(text));
  return utf8_prefix(collapse_whitespace(text), kMaxPreviewChars);
}

std::string display(const std::optional<Recipient>& r) {
  if (!r) return {};
  const auto& email = r->email_address;
  return email.name && !email.name->empty() ? *email.name : email.address;
}

json::array unique_senders(const ThreadRequest& request) {
  std::string sender;
  if (request.posts && !request.posts->empty()) {
    const Post& post = request.posts->front();
    sender = display(post.sender);
    if (sender.empty()) sender = display(post.from);
  }
  // Graph would name the signed-in user; the emulator has none.
  if (sender.empty()) sender = "Emulator User";
  return json::array{json::value(sender)};
}

bool has_attachments(const ThreadRequest& request) {
  return request.posts && !request.posts->empty() && request.posts->front().attachments_json &&
         !request.posts->front().attachments_json->empty();
}

// ---- responses ---------------------------------------------------------------------------------

// request-id, client-request-id and Date: on every answer.
struct Correlation {
  std::string request_id;
  std::string client_request_id;
  std::tm now;
};

Correlation correlate(const HttpRequest& request) {
  Correlation c{.request_id = new_uuid(), .client_request_id = {}, .now = utc_now()};
  const std::string_view sent = request.header("client-request-id");
  c.client_request_id = sent.empty() ? c.request_id : std::string(sent);
  return c;
}

void add_correlation_headers(HttpResponse& response, const Correlation& c) {
  response.headers.push_back({"request-id", c.request_id});
  response.headers.push_back({"client-request-id", c.client_request_id});
  response.headers.push_back({"Date", http_date(c.now)});
}

HttpResponse error_response(const Correlation& c, int status, std::string_view code,
                            std::string_view message) {
  json::object inner;
  inner["date"] = iso8601(c.now, false);
  inner["request-id"] = c.request_id;
  inner["client-request-id"] = c.client_request_id;
  json::object error;
  error["code"] = code;
  error["message"] = message;
  error["innerError"] = std::move(inner);
  json::object envelope;
  envelope["error"] = std::move(error);

  HttpResponse response{
      .status = status, .reason = reason_phrase(status), .headers = {}, .body = {}};
  response.headers.push_back({"Content-Type", "application/json"});
  add_correlation_headers(response, c);
  response.body = json::serialize(envelope);
  return response;
}

std::string host_of(const HttpRequest& request) {
  const std::string_view host = request.header("Host");
  if (!host.empty()) return std::string(host);
  return request.host + ":" + std::to_string(request.port);
}

// The first problem, located by its JSON path, and how many more there are.
std::string describe_issues(const std::vector<JsonIssue>& issues) {
  const JsonIssue& first = issues.front();
  std::string message = first.path.empty() ? first.message : first.path + ": " + first.message;
  if (issues.size() > 1) {
    message += " (and " + std::to_string(issues.size() - 1) + " more problem" +
               (issues.size() > 2 ? "s" : "") + ")";
  }
  return message;
}

// "Bearer <token>" -> token; "" for anything else.
std::string_view bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return {};
  }
  return trim(authorization.substr(kScheme.size()));
}

bool is_json_content_type(std::string_view content_type) {
  return iequals(trim(content_type.substr(0, content_type.find(';'))), "application/json");
}

}  // namespace

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

HttpResponse graph_error_response(const HttpRequest& request, int status, std::string_view code,
                                  std::string_view message) {
  return error_response(correlate(request), status, code, message);
}

GraphService::GraphService(ServiceOptions options) : options_(std::move(options)) {}

std::vector<StoredThread> GraphService::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

HttpResponse GraphService::handle(const HttpRequest& request) {
  const Correlation c = correlate(request);
  auto fail = [&](int status, std::string_view code, std::string_view message) {
    return error_response(c, status, code, message);
  };
  auto not_found = [&](std::string_view segment) {
    return fail(404, "BadRequest",
                "Resource not found for the segment '" + std::string(segment) + "'.");
  };

  // ---- route: /{v1.0|beta}/groups/{group-id}/threads ----
  const std::vector<std::string_view> seg = split_path(request.target);
  if (seg.size() < 2 || !seg[0].empty()) return not_found(seg.empty() ? "" : seg[0]);
  std::string version;
  if (iequals(seg[1], "v1.0")) {
    version = "v1.0";
  } else if (iequals(seg[1], "beta")) {
    version = "beta";
  } else {
    return not_found(seg[1]);
  }
  if (seg.size() < 3 || !iequals(seg[2], "groups")) return not_found(seg.size() < 3 ? "" : seg[2]);
  if (seg.size() < 5) return not_found(seg.back());
  if (!iequals(seg[4], "threads")) return not_found(seg[4]);
  if (seg.size() > 5) return not_found(seg[5]);
  const std::optional<std::string> group_id = percent_decode(seg[3]);
  if (!group_id) {
    return fail(
        404, "ResourceNotFound",
        "The group id segment '" + std::string(seg[3]) + "' is not valid percent-encoding.");
  }
  if (request.method != "POST") {
    HttpResponse r = fail(405, "ErrorInvalidRequest", "The OData request is not supported.");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }

  // ---- checks, in Graph's order ----
  auto unauthorized = [&](std::string_view message) {
    HttpResponse r = fail(401, "InvalidAuthenticationToken", message);
    r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"\", error=\"invalid_token\""});
    return r;
  };
  const std::string_view token = bearer_token(request.header("Authorization"));
  if (token.empty()) return unauthorized("Access token is empty.");
  if (!options_.accepted_token.empty() && token != options_.accepted_token) {
    return unauthorized("Access token validation failure. Invalid audience.");
  }
  if (!looks_like_guid(*group_id)) {
    return fail(400, "ErrorInvalidIdMalformed",
                "Invalid object identifier '" + *group_id + "': a group id is a GUID.");
  }
  if (!options_.groups.empty() &&
      std::none_of(options_.groups.begin(), options_.groups.end(),
                   [&](const std::string& g) { return iequals(g, *group_id); })) {
    return fail(404, "ErrorItemNotFound",
                "The specified object was not found in the store., Group '" + *group_id +
                    "' does not exist.");
  }
  const std::string_view content_type = request.header("Content-Type");
  if (!is_json_content_type(content_type)) {
    return fail(415, "UnsupportedMediaType",
                "The content type '" + std::string(content_type) +
                    "' is not supported; send application/json.");
  }
  if (request.body.size() > options_.max_body_bytes) {
    return fail(413, "RequestEntityTooLarge",
                "The request body is " + std::to_string(request.body.size()) +
                    " bytes; the limit is " + std::to_string(options_.max_body_bytes) + ".");
  }
  DecodedThread decoded;
  if (const auto issues = decode_thread_request_issues(request.body, decoded); !issues.empty()) {
    boost::system::error_code ec;
    (void)json::parse(request.body, ec);
    if (ec) {
      return fail(400, "BadRequest",
                  "Unable to read JSON request payload: " + describe_issues(issues));
    }
    return fail(400, "ErrorInvalidRequest", "Invalid request: " + describe_issues(issues));
  }
  if (const auto issues = validate_thread_request(decoded.request); !issues.empty()) {
    return fail(400, "ErrorInvalidRequest", "Invalid request: " + describe_issues(issues));
  }

  // ---- create ----
  const ThreadRequest& thread = decoded.request;
  const std::string id = new_thread_id();
  const std::string origin = request.scheme + "://" + host_of(request);
  json::object body;
  body["@odata.context"] =
      origin + "/" + version + "/$metadata#groups('" + *group_id + "')/threads/$entity";
  body["id"] = id;
  body["topic"] = thread.topic.value_or("");
  body["hasAttachments"] = has_attachments(thread);
  body["lastDeliveredDateTime"] = iso8601(c.now, true);
  body["uniqueSenders"] = unique_senders(thread);
  body["preview"] = preview_of(thread);
  body["isLocked"] = thread.is_locked.value_or(false);

  HttpResponse response{.status = 201, .reason = "Created", .headers = {}, .body = {}};
  response.headers.push_back({"Content-Type", std::string(kSuccessContentType)});
  add_correlation_headers(response, c);
  response.headers.push_back({"Location", origin + "/" + version + "/groups('" +
                                              percent_encode(*group_id) + "')/threads('" +
                                              percent_encode(id) + "')"});
  response.headers.push_back({"OData-Version", "4.0"});
  response.body = json::serialize(body);

  std::lock_guard lock(mu_);
  threads_.push_back(
      StoredThread{.group_id = *group_id, .id = id, .json = response.body, .request = thread});
  return response;
}

}  // namespace gt::emulator
