#include "emulator/graph_service.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <utility>

#include "gt/ascii.hpp"
#include "gt/auth.hpp"
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
constexpr std::size_t kDefaultPageSize = 10;
constexpr std::size_t kMaxPageSize = 999;
constexpr std::size_t kMaxBatchRequests = 20;
constexpr std::string_view kNotFoundInStore = "The specified object was not found in the store.";
constexpr std::string_view kAccessDenied = "Access is denied. Check credentials and try again.";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view to_std(json::string_view s) {
  return {s.data(), s.size()};
}

// An error on its way to becoming a Graph answer: http_status, code and message are set.
Error graph_error(int status, std::string_view code, std::string message) {
  Error e(ErrorKind::kGraph, std::move(message));
  e.http_status = status;
  e.code = std::string(code);
  return e;
}

// ---- time --------------------------------------------------------------------------------------

std::tm utc(SystemClock::time_point t) {
  const std::time_t seconds = SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

std::int64_t epoch_seconds(SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
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

// ---- ids and URLs ------------------------------------------------------------------------------

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (n > 1) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += n > 1 ? kBase64[(v >> 6) & 63] : '=';
    out += n > 2 ? kBase64[v & 63] : '=';
  }
  return out;
}

// Standard or URL-safe base64, padding optional; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : s) {
    const char canonical = c == '-' ? '+' : c == '_' ? '/' : c;
    const auto at = kBase64.find(canonical);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character carries no whole byte
  return out;
}

// 49 bytes (so the base64 always ends in "=="), the first three fixed: ids shaped like Graph's,
// "AAQk..." for threads and "AAMk..." for posts.
std::string new_graph_id(char kind) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string bytes = {'\x00', kind, '\x24'};
  bytes.reserve(49 + 8);
  while (bytes.size() < 49) {
    const std::uint64_t r = engine();
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>((r >> (8 * i)) & 0xFF);
  }
  bytes.resize(49);
  return base64(bytes);
}

std::string new_thread_id() {
  return new_graph_id('\x04');
}

std::string new_post_id() {
  return new_graph_id('\x03');
}

// Percent-encodes everything but RFC 3986 unreserved characters (for ids inside URLs).
std::string percent_encode(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
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

// nullopt when a '%' is not followed by two hex digits. '+' stays '+' (ids contain it).
std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (s.find('%') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
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

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(separator, start);
    parts.push_back(s.substr(start, at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

// ---- routes ------------------------------------------------------------------------------------

enum class Endpoint { kBatch, kMe, kThreads, kThread, kReply };

struct Route {
  Endpoint endpoint = Endpoint::kThreads;
  std::string version;    // "v1.0" or "beta"
  std::string group_id;   // percent-decoded
  std::string thread_id;  // percent-decoded; kThread and kReply only
};

const char* allowed_methods(Endpoint e) {
  switch (e) {
    case Endpoint::kBatch:
    case Endpoint::kReply:
      return "POST";
    case Endpoint::kMe:
      return "GET";
    case Endpoint::kThreads:
      return "GET, POST";
    case Endpoint::kThread:
      return "GET, PATCH, DELETE";
  }
  return "";
}

bool method_allowed(Endpoint e, std::string_view method) {
  for (std::string_view allowed : split(allowed_methods(e), ',')) {
    if (trim(allowed) == method) return true;
  }
  return false;
}

Error segment_not_found(std::string_view segment) {
  return graph_error(404, "BadRequest",
                     "Resource not found for the segment '" + std::string(segment) + "'.");
}

// "groups('a''b')" -> {"groups", "a'b"}: the OData key form that Location headers use. Only for
// the two collections the emulator serves; anything else is returned as it is.
std::vector<std::string> expand_key_segment(std::string segment) {
  const auto open = segment.find('(');
  if (open == std::string::npos || segment.back() != ')') return {std::move(segment)};
  const std::string name = segment.substr(0, open);
  if (!ascii_iequals(name, "groups") && !ascii_iequals(name, "threads"))
    return {std::move(segment)};
  std::string key = segment.substr(open + 1, segment.size() - open - 2);
  if (key.size() >= 2 && key.front() == '\'' && key.back() == '\'') {
    std::string unquoted;
    for (std::size_t i = 1; i + 1 < key.size(); ++i) {
      unquoted += key[i];
      if (key[i] == '\'' && key[i + 1] == '\'') ++i;
    }
    key = std::move(unquoted);
  }
  return {name, key};
}

// The path's segments, percent-decoded, key segments expanded. The leading "" stays.
Result<std::vector<std::string>> decoded_segments(std::string_view target) {
  std::vector<std::string> out;
  for (std::string_view raw : split(path_of(target), '/')) {
    std::optional<std::string> decoded = percent_decode(raw);
    if (!decoded) {
      return graph_error(
          404, "ResourceNotFound",
          "The path segment '" + std::string(raw) + "' is not valid percent-encoding.");
    }
    for (auto& s : expand_key_segment(std::move(*decoded))) out.push_back(std::move(s));
  }
  return out;
}

// /{v1.0|beta}/$batch, /{ver}/groups/{g}/threads[/{t}[/reply|/microsoft.graph.reply]].
Result<Route> parse_route(std::string_view target) {
  auto decoded = decoded_segments(target);
  if (!decoded) return decoded.error();
  const std::vector<std::string>& seg = *decoded;
  if (seg.size() < 2 || !seg[0].empty()) return segment_not_found(seg.empty() ? "" : seg[0]);
  Route route;
  if (ascii_iequals(seg[1], "v1.0")) {
    route.version = "v1.0";
  } else if (ascii_iequals(seg[1], "beta")) {
    route.version = "beta";
  } else {
    return segment_not_found(seg[1]);
  }
  if (seg.size() == 3 && ascii_iequals(seg[2], "$batch")) {
    route.endpoint = Endpoint::kBatch;
    return route;
  }
  if (seg.size() == 3 && ascii_iequals(seg[2], "me")) {
    route.endpoint = Endpoint::kMe;
    return route;
  }
  if (seg.size() < 3 || !ascii_iequals(seg[2], "groups")) {
    return segment_not_found(seg.size() < 3 ? "" : seg[2]);
  }
  if (seg.size() < 5) return segment_not_found(seg.back());
  if (!ascii_iequals(seg[4], "threads")) return segment_not_found(seg[4]);
  route.group_id = seg[3];
  if (seg.size() == 5) return route;
  route.thread_id = seg[5];
  if (route.thread_id.empty()) return segment_not_found("");
  route.endpoint = Endpoint::kThread;
  if (seg.size() == 6) return route;
  if (!ascii_iequals(seg[6], "reply") && !ascii_iequals(seg[6], "microsoft.graph.reply")) {
    return segment_not_found(seg[6]);
  }
  if (seg.size() > 7) return segment_not_found(seg[7]);
  route.endpoint = Endpoint::kReply;
  return route;
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
                     [&](std::string_view block) { return ascii_iequals(name, block); });
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

std::string preview_of(const std::optional<ItemBody>& body) {
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

// Who uniqueSenders names for a post: its sender, else its from.
std::string sender_of(const Post& post) {
  std::string sender = display(post.sender);
  if (sender.empty()) sender = display(post.from);
  // Graph would name the signed-in user; the emulator has none.
  if (sender.empty()) sender = "Emulator User";
  return sender;
}

bool has_attachments(const Post& post) {
  return post.attachments_json && !post.attachments_json->empty();
}

// ---- threads and posts -------------------------------------------------------------------------

StoredPost stored_post(const Post& post, const std::string& received) {
  return StoredPost{
      .id = new_post_id(),
      .body = post.body.value_or(ItemBody{}),
      .from = post.from,
      .sender = post.sender,
      .new_participants = post.new_participants.value_or(std::vector<Recipient>{}),
      .categories = post.categories.value_or(std::vector<std::string>{}),
      .received_date_time = received,
      .has_attachments = has_attachments(post),
  };
}

// REQUIRES: `request` passed validate_thread_request (so it has exactly one post).
ThreadRecord new_thread(const std::string& group_id, const ThreadRequest& request,
                        const std::string& now) {
  const Post& post = request.posts->front();
  ThreadRecord t;
  t.group_id = group_id;
  t.id = new_thread_id();
  t.topic = request.topic.value_or("");
  t.is_locked = request.is_locked.value_or(false);
  t.has_attachments = has_attachments(post);
  t.last_delivered_date_time = now;
  t.preview = preview_of(post.body);
  t.unique_senders = {sender_of(post)};
  t.to_recipients = request.to_recipients.value_or(std::vector<Recipient>{});
  t.cc_recipients = request.cc_recipients.value_or(std::vector<Recipient>{});
  t.posts = {stored_post(post, now)};
  t.created_request = request;
  return t;
}

// A reply: the post joins the thread, which now previews it and counts as delivered now.
void add_reply(ThreadRecord& t, const Post& post, const std::string& now) {
  t.posts.push_back(stored_post(post, now));
  t.last_delivered_date_time = now;
  t.preview = preview_of(post.body);
  t.has_attachments = t.has_attachments || has_attachments(post);
  const std::string sender = sender_of(post);
  if (std::find(t.unique_senders.begin(), t.unique_senders.end(), sender) ==
      t.unique_senders.end()) {
    t.unique_senders.push_back(sender);
  }
}

// The conversationThread properties the emulator answers with, in Graph's order. id is always
// answered; the others by default or when $select names them.
struct ThreadProperty {
  std::string_view name;
  bool by_default;
};
constexpr std::array<ThreadProperty, 9> kThreadProperties = {{
    {"id", true},
    {"topic", true},
    {"hasAttachments", true},
    {"lastDeliveredDateTime", true},
    {"uniqueSenders", true},
    {"preview", true},
    {"isLocked", true},
    {"toRecipients", false},  // "Returned only on $select."
    {"ccRecipients", false},
}};
using Selection = std::bitset<kThreadProperties.size()>;

Selection default_selection() {
  Selection s;
  for (std::size_t i = 0; i < kThreadProperties.size(); ++i) s[i] = kThreadProperties[i].by_default;
  return s;
}

json::value recipient_json(const Recipient& r) {
  json::object email;
  if (r.email_address.name) email["name"] = *r.email_address.name;
  email["address"] = r.email_address.address;
  return json::object{{"emailAddress", std::move(email)}};
}

json::array recipients_json(const std::vector<Recipient>& rs) {
  json::array out;
  for (const auto& r : rs) out.push_back(recipient_json(r));
  return out;
}

json::value property_json(const ThreadRecord& t, std::size_t property) {
  switch (property) {
    case 0:
      return json::value(t.id);
    case 1:
      return json::value(t.topic);
    case 2:
      return json::value(t.has_attachments);
    case 3:
      return json::value(t.last_delivered_date_time);
    case 4: {
      json::array senders;
      for (const auto& s : t.unique_senders) senders.emplace_back(s);
      return senders;
    }
    case 5:
      return json::value(t.preview);
    case 6:
      return json::value(t.is_locked);
    case 7:
      return recipients_json(t.to_recipients);
    default:
      return recipients_json(t.cc_recipients);
  }
}

// The thread as Graph answers it; `context` first when not empty.
json::object thread_json(const ThreadRecord& t, const Selection& selection,
                         const std::string& context = {}) {
  json::object o;
  if (!context.empty()) o["@odata.context"] = context;
  for (std::size_t i = 0; i < kThreadProperties.size(); ++i) {
    if (i == 0 || selection[i]) o[kThreadProperties[i].name] = property_json(t, i);
  }
  return o;
}

// "(topic,isLocked)" for an explicit $select, "" otherwise (for @odata.context).
std::string selection_suffix(const std::optional<Selection>& select) {
  if (!select) return {};
  std::string names;
  for (std::size_t i = 0; i < kThreadProperties.size(); ++i) {
    if ((*select)[i]) names += (names.empty() ? "" : ",") + std::string(kThreadProperties[i].name);
  }
  return "(" + names + ")";
}

// ---- responses ---------------------------------------------------------------------------------

// request-id, client-request-id and Date: on every answer.
struct Correlation {
  std::string request_id;
  std::string client_request_id;
  std::tm now;
};

Correlation correlate(const HttpRequest& request, SystemClock::time_point now) {
  Correlation c{.request_id = new_uuid(), .client_request_id = {}, .now = utc(now)};
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

// A 2xx answer; `body` "" sends none (and no Content-Type).
HttpResponse success_response(const Correlation& c, int status, std::string body) {
  HttpResponse response{
      .status = status, .reason = reason_phrase(status), .headers = {}, .body = std::move(body)};
  if (!response.body.empty()) {
    response.headers.push_back({"Content-Type", std::string(kSuccessContentType)});
  }
  add_correlation_headers(response, c);
  if (!response.body.empty()) response.headers.push_back({"OData-Version", "4.0"});
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

// ---- one call ----------------------------------------------------------------------------------

// What every endpoint works with: the service's parts, the request, its time and its ids.
struct Call {
  const ServiceOptions& options;
  ThreadStore& store;
  const HttpRequest& request;
  SystemClock::time_point now;
  Correlation c;

  std::string now_text() const { return iso8601(c.now, true); }
  std::string origin() const { return request.scheme + "://" + host_of(request); }
  HttpResponse fail(int status, std::string_view code, std::string_view message) const {
    return error_response(c, status, code, message);
  }
  // An Error made by graph_error() (or the store) as Graph's answer.
  HttpResponse fail(const Error& e) const {
    HttpResponse r = error_response(c, e.http_status, e.code, e.message);
    if (e.http_status == 401) {
      r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"\", error=\"invalid_token\""});
    }
    return r;
  }
};

// ---- tokens ------------------------------------------------------------------------------------

// "Bearer <token>" -> token; "" for anything else.
std::string_view bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !ascii_iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return {};
  }
  return trim(authorization.substr(kScheme.size()));
}

// What an endpoint needs from a token (GRAPH-API.md 1.2 and 3).
enum class Access {
  kRead,            // list, get: delegated or application
  kWrite,           // PATCH, DELETE: delegated or application
  kDelegatedWrite,  // create, reply: delegated only
};

// The token's claims when it is a JWT (nullopt for opaque tokens), or the 401 for no token, a
// token other than accepted_token, or an expired JWT.
Result<std::optional<TokenClaims>> authenticate(const Call& call) {
  const std::string_view token = bearer_token(call.request.header("Authorization"));
  if (token.empty())
    return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.");
  if (!call.options.accepted_token.empty() && token != call.options.accepted_token) {
    return graph_error(401, "InvalidAuthenticationToken",
                       "Access token validation failure. Invalid audience.");
  }
  std::optional<TokenClaims> claims = decode_token_claims(token);
  if (claims && claims->expires_at && *claims->expires_at <= epoch_seconds(call.now)) {
    return graph_error(401, "InvalidAuthenticationToken",
                       "Lifetime validation failed, the token is expired.");
  }
  return claims;
}

bool grants_any(const std::vector<std::string>& granted,
                std::initializer_list<std::string_view> wanted) {
  return std::any_of(granted.begin(), granted.end(), [&](const std::string& g) {
    return std::any_of(wanted.begin(), wanted.end(),
                       [&](std::string_view w) { return ascii_iequals(g, w); });
  });
}

// 403 unless the token may do `access`. Opaque tokens may do everything.
Status authorize(const std::optional<TokenClaims>& claims, Access access) {
  if (!claims) return ok_status();
  const bool app_only = claims->app_only();
  const std::vector<std::string>& granted = app_only ? claims->roles : claims->scopes;
  bool allowed = grants_any(granted, {"Group-Conversation.ReadWrite.All", "Group.ReadWrite.All"});
  if (access == Access::kRead) {
    allowed = allowed || grants_any(granted, {"Group-Conversation.Read.All", "Group.Read.All"});
  }
  if (access == Access::kDelegatedWrite && app_only) allowed = false;
  if (!allowed) return graph_error(403, "ErrorAccessDenied", std::string(kAccessDenied));
  return ok_status();
}

Status authenticate_and_authorize(const Call& call, Access access) {
  auto claims = authenticate(call);
  if (!claims) return claims.error();
  return authorize(*claims, access);
}

// ---- common checks -----------------------------------------------------------------------------

Status check_group(const Call& call, const std::string& group_id) {
  if (!looks_like_guid(group_id)) {
    return graph_error(400, "ErrorInvalidIdMalformed",
                       "Invalid object identifier '" + group_id + "': a group id is a GUID.");
  }
  const auto& groups = call.options.groups;
  if (!groups.empty() && std::none_of(groups.begin(), groups.end(), [&](const std::string& g) {
        return ascii_iequals(g, group_id);
      })) {
    return graph_error(
        404, "ErrorItemNotFound",
        std::string(kNotFoundInStore) + ", Group '" + group_id + "' does not exist.");
  }
  return ok_status();
}

Status check_thread_exists(const Call& call, const Route& route) {
  if (!call.store.find(route.group_id, route.thread_id)) {
    return graph_error(404, "ErrorItemNotFound", std::string(kNotFoundInStore));
  }
  return ok_status();
}

bool is_json_content_type(std::string_view content_type) {
  return ascii_iequals(trim(content_type.substr(0, content_type.find(';'))), "application/json");
}

// 415 for a Content-Type other than JSON, 413 for a body over the limit.
Status check_body_envelope(const Call& call) {
  const std::string_view content_type = call.request.header("Content-Type");
  if (!is_json_content_type(content_type)) {
    return graph_error(415, "UnsupportedMediaType",
                       "The content type '" + std::string(content_type) +
                           "' is not supported; send application/json.");
  }
  if (call.request.body.size() > call.options.max_body_bytes) {
    return graph_error(413, "RequestEntityTooLarge",
                       "The request body is " + std::to_string(call.request.body.size()) +
                           " bytes; the limit is " + std::to_string(call.options.max_body_bytes) +
                           ".");
  }
  return ok_status();
}

// The body as JSON, or 400 BadRequest.
Result<json::value> parse_body(const Call& call) {
  boost::system::error_code ec;
  json::value v = json::parse(call.request.body, ec);
  if (ec) {
    return graph_error(400, "BadRequest", "Unable to read JSON request payload: " + ec.message());
  }
  return v;
}

Error invalid_request(std::string_view path, std::string_view message) {
  return graph_error(
      400, "ErrorInvalidRequest",
      "Invalid request: " +
          (path.empty() ? std::string(message) : std::string(path) + ": " + std::string(message)));
}

// ---- query options -----------------------------------------------------------------------------

struct QueryOption {
  std::string name;   // decoded, lower case for $-options ("$top")
  std::string value;  // decoded
  std::string raw;    // "name=value" as sent
};

// The query's options; 400 for undecodable percent-encoding or a $-option given twice.
Result<std::vector<QueryOption>> query_options(std::string_view target) {
  std::vector<QueryOption> out;
  const std::string_view query = query_of(target);
  if (query.empty()) return out;
  for (std::string_view raw : split(query, '&')) {
    if (raw.empty()) continue;
    const auto eq = raw.find('=');
    auto name = percent_decode(raw.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? "" : raw.substr(eq + 1));
    if (!name || !value) {
      return graph_error(
          400, "BadRequest",
          "The query option '" + std::string(raw) + "' is not valid percent-encoding.");
    }
    if (name->starts_with('$')) {
      *name = ascii_lowered(*name);
      if (std::any_of(out.begin(), out.end(),
                      [&](const QueryOption& o) { return o.name == *name; })) {
        return graph_error(400, "BadRequest",
                           "Query option '" + *name + "' was specified more than once.");
      }
    }
    out.push_back({std::move(*name), std::move(*value), std::string(raw)});
  }
  return out;
}

Result<Selection> parse_select(std::string_view value) {
  Selection selection;
  for (std::string_view item : split(value, ',')) {
    const std::string_view name = trim(item);
    if (name.empty()) {
      return graph_error(400, "BadRequest",
                         "Invalid $select '" + std::string(value) + "': an empty property name.");
    }
    if (ascii_iequals(name, "posts")) {
      return graph_error(400, "BadRequest",
                         "Property 'posts' cannot be selected: it is a navigation property.");
    }
    const auto it =
        std::find_if(kThreadProperties.begin(), kThreadProperties.end(),
                     [&](const ThreadProperty& p) { return ascii_iequals(p.name, name); });
    if (it == kThreadProperties.end()) {
      return graph_error(400, "BadRequest",
                         "Could not find a property named '" + std::string(name) +
                             "' on type 'microsoft.graph.conversationThread'.");
    }
    selection[static_cast<std::size_t>(it - kThreadProperties.begin())] = true;
  }
  return selection;
}

Result<std::size_t> parse_top(std::string_view value) {
  const bool digits = !value.empty() && value.size() <= 4 &&
                      value.find_first_not_of("0123456789") == std::string_view::npos;
  const std::size_t top = digits ? std::stoul(std::string(value)) : 0;
  if (top < 1 || top > kMaxPageSize) {
    return graph_error(400, "BadRequest",
                       "Invalid $top value '" + std::string(value) +
                           "': expected an integer from 1 to " + std::to_string(kMaxPageSize) +
                           ".");
  }
  return top;
}

// The answer to a query option this collection does not support (GRAPH-API.md 3.2).
Error unsupported_option(const QueryOption& option) {
  if (option.name == "$filter") {
    return graph_error(501, "FilteringOnConversations",
                       "$filter is not supported on this collection.");
  }
  return graph_error(400, "BadRequest", option.name + " is not supported on this collection.");
}

struct ListQuery {
  std::size_t top = kDefaultPageSize;
  std::optional<PageCursor> after;
  std::optional<Selection> select;
  std::vector<std::string> kept;  // every option but $skiptoken, as sent (for nextLink)
};

Result<ListQuery> list_query(std::string_view target) {
  auto options = query_options(target);
  if (!options) return options.error();
  ListQuery q;
  for (const QueryOption& o : *options) {
    if (o.name != "$skiptoken") q.kept.push_back(o.raw);
    if (!o.name.starts_with('$')) continue;  // custom options are ignored
    if (o.name == "$top") {
      auto top = parse_top(o.value);
      if (!top) return top.error();
      q.top = *top;
    } else if (o.name == "$skiptoken") {
      q.after = decode_cursor(o.value);
      if (!q.after) {
        return graph_error(400, "BadRequest",
                           "Invalid $skiptoken: follow @odata.nextLink exactly as it was given.");
      }
    } else if (o.name == "$select") {
      auto select = parse_select(o.value);
      if (!select) return select.error();
      q.select = *select;
    } else {
      return unsupported_option(o);
    }
  }
  return q;
}

// A single thread takes $select only.
Result<std::optional<Selection>> get_query(std::string_view target) {
  auto options = query_options(target);
  if (!options) return options.error();
  std::optional<Selection> select;
  for (const QueryOption& o : *options) {
    if (!o.name.starts_with('$')) continue;
    if (o.name != "$select") {
      return graph_error(
          400, "BadRequest",
          "Query option '" + o.name + "' is not supported when getting one thread; use $select.");
    }
    auto parsed = parse_select(o.value);
    if (!parsed) return parsed.error();
    select = *parsed;
  }
  return select;
}

// ---- endpoints ---------------------------------------------------------------------------------

std::string thread_context(const Call& call, const Route& route) {
  return call.origin() + "/" + route.version + "/$metadata#groups('" + route.group_id +
         "')/threads";
}

// Create's checks run in Graph's order: token, group, media type, size, JSON, rules.
Result<ThreadRequest> create_request(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kDelegatedWrite); !st) return st.error();
  if (auto st = check_group(call, route.group_id); !st) return st.error();
  if (auto st = check_body_envelope(call); !st) return st.error();
  DecodedThread decoded;
  if (const auto issues = decode_thread_request_issues(call.request.body, decoded);
      !issues.empty()) {
    boost::system::error_code ec;
    (void)json::parse(call.request.body, ec);
    if (ec) {
      return graph_error(400, "BadRequest",
                         "Unable to read JSON request payload: " + describe_issues(issues));
    }
    return graph_error(400, "ErrorInvalidRequest", "Invalid request: " + describe_issues(issues));
  }
  if (const auto issues = validate_thread_request(decoded.request); !issues.empty()) {
    return graph_error(400, "ErrorInvalidRequest", "Invalid request: " + describe_issues(issues));
  }
  return std::move(decoded.request);
}

HttpResponse create_thread(const Call& call, const Route& route) {
  auto request = create_request(call, route);
  if (!request) return call.fail(request.error());
  const std::string context = thread_context(call, route) + "/$entity";
  auto make = [&] {
    ThreadRecord thread = new_thread(route.group_id, *request, call.now_text());
    thread.created_response = json::serialize(thread_json(thread, default_selection(), context));
    return thread;
  };
  ThreadPtr stored = call.store.insert(make());
  // Ids are 49 random bytes and never collide in practice; if one did, draw another.
  while (!stored) stored = call.store.insert(make());
  HttpResponse response = success_response(call.c, 201, stored->created_response);
  response.headers.push_back({"Location", call.origin() + "/" + route.version + "/groups('" +
                                              percent_encode(route.group_id) + "')/threads('" +
                                              percent_encode(stored->id) + "')"});
  return response;
}

// GET /me: the signed-in user as the token names it. Like Graph, 400 for an app-only token (there
// is no signed-in user). Unlike Graph no scope is required (Graph wants User.Read).
HttpResponse get_me(const Call& call) {
  auto claims = authenticate(call);
  if (!claims) return call.fail(claims.error());
  if (*claims && (*claims)->app_only()) {
    return call.fail(400, "BadRequest",
                     "/me request is only valid with delegated authentication flow.");
  }
  const std::string upn =
      *claims && !(*claims)->account.empty() ? (*claims)->account : "user@emulator.example";
  json::object body;
  body["@odata.context"] = call.origin() + "/v1.0/$metadata#users/$entity";
  body["id"] = "00000000-0000-0000-0000-00000000e0e0";
  body["userPrincipalName"] = upn;
  body["displayName"] = upn.substr(0, upn.find('@'));
  return success_response(call.c, 200, json::serialize(body));
}

HttpResponse list_threads(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kRead); !st) return call.fail(st.error());
  if (auto st = check_group(call, route.group_id); !st) return call.fail(st.error());
  auto query = list_query(call.request.target);
  if (!query) return call.fail(query.error());

  const StorePage page = call.store.list(route.group_id, query->top, query->after);
  const Selection selection = query->select.value_or(default_selection());
  json::array value;
  for (const ThreadPtr& t : page.threads) value.push_back(thread_json(*t, selection));
  json::object body;
  body["@odata.context"] = thread_context(call, route) + selection_suffix(query->select);
  body["value"] = std::move(value);
  if (page.next) {
    std::string link = call.origin() + std::string(path_of(call.request.target)) + "?";
    for (const std::string& option : query->kept) link += option + "&";
    body["@odata.nextLink"] = link + "$skiptoken=" + encode_cursor(*page.next);
  }
  return success_response(call.c, 200, json::serialize(body));
}

HttpResponse get_thread(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kRead); !st) return call.fail(st.error());
  if (auto st = check_group(call, route.group_id); !st) return call.fail(st.error());
  const ThreadPtr thread = call.store.find(route.group_id, route.thread_id);
  if (!thread) return call.fail(404, "ErrorItemNotFound", kNotFoundInStore);
  auto select = get_query(call.request.target);
  if (!select) return call.fail(select.error());
  const std::string context = thread_context(call, route) + selection_suffix(*select) + "/$entity";
  return success_response(
      call.c, 200,
      json::serialize(thread_json(*thread, select->value_or(default_selection()), context)));
}

HttpResponse delete_thread(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kWrite); !st) return call.fail(st.error());
  if (auto st = check_group(call, route.group_id); !st) return call.fail(st.error());
  if (!call.store.erase(route.group_id, route.thread_id)) {
    return call.fail(404, "ErrorItemNotFound", kNotFoundInStore);
  }
  return success_response(call.c, 204, {});
}

// PATCH's body: only isLocked may change. Returns the new value (nullopt: not given).
Result<std::optional<bool>> decode_patch(const json::value& body) {
  if (!body.is_object())
    return invalid_request("", "expected a JSON object such as {\"isLocked\": true}");
  std::optional<bool> is_locked;
  for (const auto& [key, value] : body.get_object()) {
    const std::string_view name = to_std(key);
    if (name.find('@') != std::string_view::npos) continue;  // annotations
    if (!ascii_iequals(name, "isLocked")) {
      const bool known =
          std::any_of(kThreadProperties.begin(), kThreadProperties.end(),
                      [&](const ThreadProperty& p) { return ascii_iequals(p.name, name); });
      return invalid_request(name, known || ascii_iequals(name, "posts")
                                       ? "cannot be updated; only isLocked can be changed"
                                       : "unknown property of conversationThread; only isLocked "
                                         "can be changed");
    }
    if (!value.is_bool()) return invalid_request(name, "expected true or false");
    is_locked = value.get_bool();
  }
  return is_locked;
}

Result<std::optional<bool>> patch_request(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kWrite); !st) return st.error();
  if (auto st = check_group(call, route.group_id); !st) return st.error();
  if (auto st = check_thread_exists(call, route); !st) return st.error();
  if (auto st = check_body_envelope(call); !st) return st.error();
  auto body = parse_body(call);
  if (!body) return body.error();
  return decode_patch(*body);
}

HttpResponse update_thread(const Call& call, const Route& route) {
  auto patch = patch_request(call, route);
  if (!patch) return call.fail(patch.error());
  const std::optional<bool> is_locked = *patch;
  auto updated =
      call.store.update(route.group_id, route.thread_id, Touch::kKeepOrder, [&](ThreadRecord& t) {
        if (is_locked) t.is_locked = *is_locked;
        return ok_status();
      });
  if (!updated) return call.fail(updated.error());
  return success_response(call.c, 200, "{}");
}

// "posts[0].body" (the path inside the wrapper decode_reply builds) -> "post.body".
std::vector<JsonIssue> as_reply_issues(std::vector<JsonIssue> issues) {
  for (JsonIssue& issue : issues) {
    if (issue.path.starts_with("posts[0]")) {
      issue.path = "post" + issue.path.substr(8);
    } else if (issue.path == "posts") {
      issue.path = "post";
    }
  }
  return issues;
}

// {"post": {...}} -> the post, checked by the same rules as a created thread's post: the post
// is decoded and validated inside a minimal thread, and the issues' paths are renamed.
Result<Post> decode_reply(const json::value& body) {
  if (!body.is_object()) return invalid_request("", "expected a JSON object {\"post\": {...}}");
  const json::value* post = nullptr;
  for (const auto& [key, value] : body.get_object()) {
    const std::string_view name = to_std(key);
    if (name.find('@') != std::string_view::npos) continue;  // annotations
    if (!ascii_iequals(name, "post")) {
      return invalid_request(name, "unknown property; a reply's body has only \"post\"");
    }
    post = &value;
  }
  if (!post) return invalid_request("post", "required");
  json::object wrapper;
  wrapper["topic"] = "reply";
  wrapper["posts"] = json::array{*post};
  DecodedThread decoded;
  auto issues = decode_thread_request_issues(json::serialize(wrapper), decoded);
  if (issues.empty()) issues = validate_thread_request(decoded.request);
  if (!issues.empty()) {
    return graph_error(400, "ErrorInvalidRequest",
                       "Invalid request: " + describe_issues(as_reply_issues(std::move(issues))));
  }
  return std::move(decoded.request.posts->front());
}

Result<Post> reply_request(const Call& call, const Route& route) {
  if (auto st = authenticate_and_authorize(call, Access::kDelegatedWrite); !st) return st.error();
  if (auto st = check_group(call, route.group_id); !st) return st.error();
  if (auto st = check_thread_exists(call, route); !st) return st.error();
  if (auto st = check_body_envelope(call); !st) return st.error();
  auto body = parse_body(call);
  if (!body) return body.error();
  return decode_reply(*body);
}

HttpResponse reply_to_thread(const Call& call, const Route& route) {
  auto post = reply_request(call, route);
  if (!post) return call.fail(post.error());
  const std::string now = call.now_text();
  auto updated = call.store.update(
      route.group_id, route.thread_id, Touch::kNewDelivery, [&](ThreadRecord& t) -> Status {
        if (t.is_locked) {
          return graph_error(423, "ErrorThreadLocked",
                             "The conversation thread is locked; unlock it (PATCH "
                             "{\"isLocked\": false}) before replying.");
        }
        add_reply(t, *post, now);
        return ok_status();
      });
  if (!updated) return call.fail(updated.error());
  return success_response(call.c, 202, {});
}

// ---- dispatch ----------------------------------------------------------------------------------

// The service's parts, as the dispatcher hands them to each request (batch items included).
struct Parts {
  const ServiceOptions& options;
  ThreadStore& store;
};

SystemClock::time_point now_of(const ServiceOptions& options) {
  return options.now ? options.now() : SystemClock::now();
}

HttpResponse serve(const Parts& parts, const HttpRequest& request, bool in_batch);

// ---- $batch ------------------------------------------------------------------------------------

struct BatchItem {
  std::string id;
  std::string method;  // upper case
  std::string url;     // relative to the version: "/groups/{g}/threads"
  std::vector<Header> headers;
  std::optional<std::string> body;  // the bytes to send
  bool body_undecodable = false;    // a string body that is not base64
  std::vector<std::size_t> depends_on;
};

Error bad_batch(const std::string& message) {
  return graph_error(400, "BadRequest", "Invalid batch request: " + message);
}

std::string item_path(std::size_t i, std::string_view key = {}) {
  return "requests[" + std::to_string(i) + "]" + (key.empty() ? "" : "." + std::string(key));
}

Result<std::string> item_string(const json::object& o, std::size_t i, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string() || v->get_string().empty()) {
    return bad_batch(item_path(i, key) + " must be a non-empty string.");
  }
  return std::string(v->get_string());
}

Result<std::vector<Header>> item_headers(const json::object& o, std::size_t i) {
  std::vector<Header> headers;
  const json::value* v = o.if_contains("headers");
  if (!v || v->is_null()) return headers;
  if (!v->is_object()) return bad_batch(item_path(i, "headers") + " must be an object.");
  for (const auto& [name, value] : v->get_object()) {
    if (!value.is_string()) {
      return bad_batch(item_path(i, "headers") + "." + std::string(to_std(name)) +
                       " must be a string.");
    }
    headers.push_back({std::string(to_std(name)), std::string(value.get_string())});
  }
  return headers;
}

// A JSON body is sent serialized; a string body is base64 of the bytes (GRAPH-API.md 5).
void item_body(const json::object& o, BatchItem& item) {
  const json::value* v = o.if_contains("body");
  if (!v || v->is_null()) return;
  if (!v->is_string()) {
    item.body = json::serialize(*v);
    return;
  }
  item.body = base64_decode(to_std(v->get_string()));
  item.body_undecodable = !item.body;
  if (!item.body) item.body = std::string();
}

// One request of the batch, without its dependencies (they need every id first).
Result<BatchItem> batch_item(const json::value& v, std::size_t i) {
  if (!v.is_object()) return bad_batch(item_path(i) + " must be an object.");
  const json::object& o = v.get_object();
  BatchItem item;
  auto id = item_string(o, i, "id");
  if (!id) return id.error();
  item.id = std::move(*id);
  auto method = item_string(o, i, "method");
  if (!method) return method.error();
  for (char& c : *method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::array<std::string_view, 5> kMethods = {"GET", "POST", "PATCH", "PUT",
                                                               "DELETE"};
  if (std::find(kMethods.begin(), kMethods.end(), *method) == kMethods.end()) {
    return bad_batch(item_path(i, "method") + " '" + *method + "' is not supported.");
  }
  item.method = std::move(*method);
  auto url = item_string(o, i, "url");
  if (!url) return url.error();
  if (url->find("://") != std::string::npos || url->starts_with("//")) {
    return bad_batch(item_path(i, "url") + " must be relative, such as \"/groups/{id}/threads\".");
  }
  item.url = url->starts_with('/') ? std::move(*url) : "/" + *url;
  auto headers = item_headers(o, i);
  if (!headers) return headers.error();
  item.headers = std::move(*headers);
  item_body(o, item);
  return item;
}

Status check_unique_ids(const std::vector<BatchItem>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (ascii_iequals(items[i].id, items[j].id)) {
        return bad_batch(item_path(i, "id") + " '" + items[i].id + "' is also the id of " +
                         item_path(j) + "; ids must be unique (ignoring case).");
      }
    }
  }
  return ok_status();
}

Status resolve_dependencies(const json::array& requests, std::vector<BatchItem>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json::value* v = requests[i].get_object().if_contains("dependsOn");
    if (!v || v->is_null()) continue;
    if (!v->is_array()) return bad_batch(item_path(i, "dependsOn") + " must be an array of ids.");
    for (const json::value& dep : v->get_array()) {
      const auto target =
          dep.is_string() ? std::find_if(items.begin(), items.end(),
                                         [&](const BatchItem& other) {
                                           return ascii_iequals(other.id, to_std(dep.get_string()));
                                         })
                          : items.end();
      if (target == items.end()) {
        return bad_batch(item_path(i, "dependsOn") + ": " + json::serialize(dep) +
                         " is not the id of a request in this batch.");
      }
      items[i].depends_on.push_back(static_cast<std::size_t>(target - items.begin()));
    }
  }
  return ok_status();
}

// Every request runs after those it depends on; otherwise in request order.
Result<std::vector<std::size_t>> execution_order(const std::vector<BatchItem>& items) {
  std::vector<std::size_t> order;
  std::vector<bool> done(items.size(), false);
  while (order.size() < items.size()) {
    const auto ready = std::find_if(items.begin(), items.end(), [&](const BatchItem& item) {
      const auto i = static_cast<std::size_t>(&item - items.data());
      return !done[i] && std::all_of(item.depends_on.begin(), item.depends_on.end(),
                                     [&](std::size_t d) { return done[d]; });
    });
    if (ready == items.end()) return bad_batch("dependsOn forms a cycle.");
    const auto i = static_cast<std::size_t>(ready - items.begin());
    done[i] = true;
    order.push_back(i);
  }
  return order;
}

// The batch's checks: token, media type, size, JSON, then the shape of every request.
Result<std::vector<BatchItem>> batch_items(const Call& call) {
  if (auto claims = authenticate(call); !claims) return claims.error();
  if (auto st = check_body_envelope(call); !st) return st.error();
  auto body = parse_body(call);
  if (!body) return body.error();
  const json::value* requests =
      body->is_object() ? body->get_object().if_contains("requests") : nullptr;
  if (!requests || !requests->is_array()) {
    return bad_batch("expected a JSON object {\"requests\": [...]}.");
  }
  const json::array& list = requests->get_array();
  if (list.empty()) return bad_batch("\"requests\" is empty.");
  if (list.size() > kMaxBatchRequests) {
    return bad_batch("it has " + std::to_string(list.size()) + " requests; the limit is " +
                     std::to_string(kMaxBatchRequests) + ".");
  }
  std::vector<BatchItem> items;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto item = batch_item(list[i], i);
    if (!item) return item.error();
    items.push_back(std::move(*item));
  }
  if (auto st = check_unique_ids(items); !st) return st.error();
  if (auto st = resolve_dependencies(list, items); !st) return st.error();
  return items;
}

// The request a batch item stands for: its method, url, headers and body, with the batch's
// scheme, Host and Authorization.
HttpRequest item_request(const HttpRequest& outer, const Route& route, const BatchItem& item) {
  HttpRequest r;
  r.method = item.method;
  r.scheme = outer.scheme;
  r.host = outer.host;
  r.port = outer.port;
  r.target = "/" + route.version + item.url;
  for (const Header& h : item.headers) {
    if (!ascii_iequals(h.name, "Authorization") && !ascii_iequals(h.name, "Host"))
      r.headers.push_back(h);
  }
  if (const auto host = outer.header("Host"); !host.empty()) {
    r.headers.push_back({"Host", std::string(host)});
  }
  if (const auto auth = outer.header("Authorization"); !auth.empty()) {
    r.headers.push_back({"Authorization", std::string(auth)});
  }
  r.body = item.body.value_or("");
  return r;
}

bool succeeded(const HttpResponse& r) {
  return r.status >= 200 && r.status < 300;
}

HttpResponse run_item(const Parts& parts, const HttpRequest& request, const BatchItem& item,
                      const std::vector<BatchItem>& items,
                      const std::vector<std::optional<HttpResponse>>& answers) {
  const auto now = now_of(parts.options);
  const Call call{parts.options, parts.store, request, now, correlate(request, now)};
  for (std::size_t d : item.depends_on) {
    if (!succeeded(*answers[d])) {
      return call.fail(
          424, "FailedDependency",
          "This request depends on request '" + items[d].id + "', which did not succeed.");
    }
  }
  if (item.body && find_header(item.headers, "Content-Type").empty()) {
    return call.fail(400, "BadRequest",
                     "A request with a body must have a Content-Type header in its headers.");
  }
  if (item.body_undecodable) {
    return call.fail(400, "BadRequest", "The body is a string but not base64-encoded content.");
  }
  return serve(parts, request, true);
}

json::object batch_answer_json(const std::string& id, const HttpResponse& r) {
  json::object headers;
  for (const Header& h : r.headers) headers[h.name] = h.value;
  json::object o;
  o["id"] = id;
  o["status"] = r.status;
  o["headers"] = std::move(headers);
  if (!r.body.empty()) {
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    o["body"] = ec ? json::value(base64(r.body)) : std::move(body);
  }
  return o;
}

HttpResponse run_batch(const Parts& parts, const Call& call, const Route& route) {
  auto items = batch_items(call);
  if (!items) return call.fail(items.error());
  auto order = execution_order(*items);
  if (!order) return call.fail(order.error());
  std::vector<std::optional<HttpResponse>> answers(items->size());
  for (std::size_t i : *order) {
    const HttpRequest request = item_request(call.request, route, (*items)[i]);
    answers[i] = run_item(parts, request, (*items)[i], *items, answers);
  }
  json::array responses;
  for (std::size_t i = 0; i < items->size(); ++i) {
    responses.push_back(batch_answer_json((*items)[i].id, *answers[i]));
  }
  return success_response(call.c, 200, json::serialize(json::object{{"responses", responses}}));
}

HttpResponse serve(const Parts& parts, const HttpRequest& request, bool in_batch) {
  const auto now = now_of(parts.options);
  const Call call{parts.options, parts.store, request, now, correlate(request, now)};
  auto route = parse_route(request.target);
  if (!route) return call.fail(route.error());
  if (!method_allowed(route->endpoint, request.method)) {
    HttpResponse r = call.fail(405, "ErrorInvalidRequest", "The OData request is not supported.");
    r.headers.push_back({"Allow", allowed_methods(route->endpoint)});
    return r;
  }
  const std::string& method = request.method;
  switch (route->endpoint) {
    case Endpoint::kBatch:
      if (in_batch) return call.fail(400, "BadRequest", "A batch cannot contain a $batch request.");
      return run_batch(parts, call, *route);
    case Endpoint::kMe:
      return get_me(call);
    case Endpoint::kThreads:
      return method == "GET" ? list_threads(call, *route) : create_thread(call, *route);
    case Endpoint::kThread:
      if (method == "GET") return get_thread(call, *route);
      if (method == "PATCH") return update_thread(call, *route);
      return delete_thread(call, *route);
    case Endpoint::kReply:
      return reply_to_thread(call, *route);
  }
  return call.fail(500, "InternalServerError", "unreachable");
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
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
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
  return error_response(correlate(request, SystemClock::now()), status, code, message);
}

GraphService::GraphService(ServiceOptions options)
    : options_(std::move(options)), store_(options_.data_file) {}

HttpResponse GraphService::handle(const HttpRequest& request) {
  return serve(Parts{.options = options_, .store = store_}, request, false);
}

Status GraphService::load() {
  return store_.load();
}

Status GraphService::save_if_dirty() {
  return store_.save_if_dirty();
}

std::vector<StoredThread> GraphService::threads() const {
  std::vector<StoredThread> out;
  for (const ThreadPtr& t : store_.all()) {
    out.push_back(StoredThread{.group_id = t->group_id,
                               .id = t->id,
                               .json = t->created_response,
                               .request = t->created_request});
  }
  return out;
}

}  // namespace gt::emulator
