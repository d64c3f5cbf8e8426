#include "gt/graph_client.hpp"

#include <cctype>
#include <iterator>
#include <sstream>

#include "gt/attempts.hpp"
#include "gt/http_log.hpp"
#include "gt/json_codec.hpp"

namespace gt {

namespace {

using std::chrono::milliseconds;

// Graph's Location header for a created thread ends in threads('<id>'), with quotes doubled.
std::string id_from_location(std::string_view location) {
  const auto start = location.rfind("threads('");
  if (start == std::string_view::npos) return {};
  std::string id;
  for (std::size_t i = start + 9; i < location.size(); ++i) {
    if (location[i] == '\'') {
      if (i + 1 < location.size() && location[i + 1] == '\'') {
        id += '\'';
        ++i;
        continue;
      }
      return id;
    }
    id += location[i];
  }
  return {};
}

}  // namespace

GraphClient::GraphClient(Deps deps, GraphClientOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

void GraphClient::log(const std::string& line) {
  if (deps_.verbose) *deps_.verbose << line << '\n' << std::flush;
}

namespace {

// A request with the headers every Graph request carries, in this order: Authorization,
// Content-Type (when it sends a JSON body), Accept, client-request-id, User-Agent. Each header is
// built in place, once: this runs for every request of a bulk run.
HttpRequest base_request(const GraphClientOptions& options, std::string method, std::string target,
                         std::string_view bearer, const std::string& client_request_id,
                         bool json_body = false) {
  static constexpr std::string_view kBearer = "Bearer ";
  HttpRequest req;
  req.method = std::move(method);
  req.scheme = options.base.scheme;
  req.host = options.base.host;
  req.port = options.base.port;
  req.target = std::move(target);
  req.headers.reserve(5);
  Header& authorization = req.headers.emplace_back(Header{"Authorization", {}});
  authorization.value.reserve(kBearer.size() + bearer.size());
  authorization.value += kBearer;
  authorization.value += bearer;
  if (json_body) req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"Accept", "application/json"});
  req.headers.push_back({"client-request-id", client_request_id});
  req.headers.push_back({"User-Agent", options.user_agent});
  return req;
}

// base_request with a JSON body.
HttpRequest json_request(const GraphClientOptions& options, std::string method, std::string target,
                         std::string body, std::string_view bearer,
                         const std::string& client_request_id) {
  HttpRequest req =
      base_request(options, std::move(method), std::move(target), bearer, client_request_id, true);
  req.body = std::move(body);
  return req;
}

// Percent-encodes a query value (RFC 3986 unreserved and ',' stay as they are).
std::string encode_query_value(std::string_view value) {
  std::string out;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ',') {
      out += ch;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace

HttpRequest create_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                  const ThreadRequest& thread, std::string_view bearer,
                                  const std::string& client_request_id) {
  return create_thread_request_json(options, group_id, encode_thread_request(thread), bearer,
                                    client_request_id);
}

HttpRequest create_thread_request_json(const GraphClientOptions& options, std::string_view group_id,
                                       std::string body_json, std::string_view bearer,
                                       const std::string& client_request_id) {
  return json_request(options, "POST", threads_path(options.base, options.api_version, group_id),
                      std::move(body_json), bearer, client_request_id);
}

HttpRequest batch_request(const GraphClientOptions& options, std::string body,
                          std::string_view bearer, const std::string& client_request_id) {
  return json_request(options, "POST",
                      options.base.path_prefix + "/" + options.api_version + "/$batch",
                      std::move(body), bearer, client_request_id);
}

HttpRequest list_threads_request(const GraphClientOptions& options, std::string_view group_id,
                                 const ListQuery& query, std::string_view bearer,
                                 const std::string& client_request_id) {
  std::string target = threads_path(options.base, options.api_version, group_id);
  std::string params;
  if (query.top) params += "$top=" + std::to_string(*query.top);
  if (!query.select.empty()) {
    std::string fields;
    for (const auto& f : query.select) fields += (fields.empty() ? "" : ",") + f;
    params += std::string(params.empty() ? "" : "&") + "$select=" + encode_query_value(fields);
  }
  if (!params.empty()) target += "?" + params;
  return base_request(options, "GET", std::move(target), bearer, client_request_id);
}

HttpRequest get_thread_request(const GraphClientOptions& options, std::string_view group_id,
                               std::string_view thread_id, std::string_view bearer,
                               const std::string& client_request_id) {
  return base_request(options, "GET",
                      thread_path(options.base, options.api_version, group_id, thread_id), bearer,
                      client_request_id);
}

HttpRequest reply_request(const GraphClientOptions& options, std::string_view group_id,
                          std::string_view thread_id, const Post& post, std::string_view bearer,
                          const std::string& client_request_id) {
  return json_request(
      options, "POST",
      thread_path(options.base, options.api_version, group_id, thread_id) + "/reply",
      encode_reply_request(post), bearer, client_request_id);
}

HttpRequest lock_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                std::string_view thread_id, bool is_locked, std::string_view bearer,
                                const std::string& client_request_id) {
  return json_request(options, "PATCH",
                      thread_path(options.base, options.api_version, group_id, thread_id),
                      encode_lock_request(is_locked), bearer, client_request_id);
}

HttpRequest delete_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                  std::string_view thread_id, std::string_view bearer,
                                  const std::string& client_request_id) {
  return base_request(options, "DELETE",
                      thread_path(options.base, options.api_version, group_id, thread_id), bearer,
                      client_request_id);
}

HttpRequest get_resource_request(const GraphClientOptions& options,
                                 const std::vector<std::string>& segments, std::string_view bearer,
                                 const std::string& client_request_id) {
  std::string target = options.base.path_prefix + "/" + options.api_version;
  for (const auto& s : segments) target += "/" + encode_path_segment(s);
  return base_request(options, "GET", std::move(target), bearer, client_request_id);
}

Result<HttpRequest> next_page_request(const GraphClientOptions& options, std::string_view next_link,
                                      std::string_view bearer,
                                      const std::string& client_request_id) {
  // The link is opaque except for where it points: it must stay on the Graph root we were given,
  // or following it would hand the bearer token to another host.
  const std::string origin = options.base.origin();
  const bool same_origin = next_link.starts_with(origin) &&
                           (next_link.size() == origin.size() || next_link[origin.size()] == '/');
  if (!same_origin) {
    return Error(ErrorKind::kGraph, "refusing to follow @odata.nextLink \"" +
                                        std::string(next_link.substr(0, 200)) +
                                        "\": it does not point to " + origin);
  }
  std::string target(next_link.substr(origin.size()));
  if (target.empty()) target = "/";
  return base_request(options, "GET", std::move(target), bearer, client_request_id);
}

Result<HttpResponse> GraphClient::get_resource(const std::vector<std::string>& segments,
                                               const AccessToken& token, std::string_view what) {
  return send_with_retries(
      [&](const std::string& crid) {
        return get_resource_request(options_, segments, token.value, crid);
      },
      Idempotency::kIdempotent, what, {});
}

Result<CreatedThread> GraphClient::create_thread(std::string_view group_id,
                                                 const ThreadRequest& thread,
                                                 const AccessToken& token) {
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return create_thread_request(options_, group_id, thread, token.value, crid);
      },
      Idempotency::kUnsafe, "create the thread", {});
  if (!response) return std::move(response).error();
  auto decoded = decode_created_thread(response->body);
  CreatedThread created;
  if (decoded) {
    created = std::move(decoded).value();
  } else {
    // The thread exists (2xx); an unexpected body must not turn that into a failure.
    created.raw_json = response->body;
  }
  if (created.id.empty()) created.id = id_from_location(response->header("Location"));
  return created;
}

Result<ThreadPage> GraphClient::list_threads(std::string_view group_id, const ListQuery& query,
                                             std::string_view next_link, const AccessToken& token) {
  if (!next_link.empty()) {
    // Validate once up front so a bad link is reported without any attempt.
    if (auto probe = next_page_request(options_, next_link, token.value, ""); !probe) {
      return std::move(probe).error();
    }
  }
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return next_link.empty()
                   ? list_threads_request(options_, group_id, query, token.value, crid)
                   : next_page_request(options_, next_link, token.value, crid).value();
      },
      Idempotency::kIdempotent, "list the threads", {});
  if (!response) return std::move(response).error();
  return decode_thread_page(response->body);
}

Result<std::optional<CreatedThread>> GraphClient::find_thread_by_topic(std::string_view group_id,
                                                                       std::string_view topic,
                                                                       const AccessToken& token) {
  pages_searched_ = 0;
  std::string next_link;
  for (;;) {
    auto page = list_threads(group_id, ListQuery{}, next_link, token);
    if (!page) return std::move(page).error();
    ++pages_searched_;
    for (auto& thread : page->threads) {
      if (thread.topic && *thread.topic == topic) return std::optional(std::move(thread));
    }
    if (page->next_link.empty()) return std::optional<CreatedThread>();
    next_link = std::move(page->next_link);
  }
}

namespace {

// The hint for a 404 on a single thread: unlike a 404 on the collection, the thread id is the
// likelier culprit.
// `retried`: whether 404s were retried (get, reply, lock) before giving up.
void thread_not_found_hint(Error& e, bool retried) {
  if (e.http_status == 404 && e.kind == ErrorKind::kGraph) {
    e.hint = std::string(retried ? "still 404 after retrying for about 5 s (in case Graph had not "
                                   "caught up after a create): "
                                 : "") +
             "the thread id may be wrong, or the thread was deleted; check it with "
             "`graph-threads list --group ID -o id`, and that --group is the thread's group";
  }
}

// Passes every exchange on and remembers whether one may have reached Graph without a usable
// answer: a transport failure after bytes were written, or a 504 from the gateway.
class OutcomeRecorder final : public Transport {
 public:
  explicit OutcomeRecorder(Transport& inner) : inner_(inner) {}
  bool send(const HttpRequest& request, Clock::time_point deadline, HttpResponse& response,
            TransportError& error) override {
    const bool ok = inner_.send(request, deadline, response, error);
    if (!ok && error.request_bytes_written) maybe_done_ = true;
    if (ok && response.status == 504) maybe_done_ = true;
    return ok;
  }
  bool maybe_done() const { return maybe_done_; }

 private:
  Transport& inner_;
  bool maybe_done_ = false;
};

}  // namespace

Result<CreatedThread> GraphClient::get_thread(std::string_view group_id, std::string_view thread_id,
                                              const AccessToken& token) {
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return get_thread_request(options_, group_id, thread_id, token.value, crid);
      },
      Idempotency::kIdempotent, "get the thread", SendExtras{.retry_not_found = true});
  if (!response) {
    Error e = std::move(response).error();
    thread_not_found_hint(e, options_.retry.max_retries > 0);
    return e;
  }
  auto decoded = decode_created_thread(response->body);
  if (!decoded) return std::move(decoded).error();
  return std::move(decoded).value();
}

Status GraphClient::reply_to_thread(std::string_view group_id, std::string_view thread_id,
                                    const Post& post, const AccessToken& token) {
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return reply_request(options_, group_id, thread_id, post, token.value, crid);
      },
      Idempotency::kUnsafe, "reply to the thread", SendExtras{.retry_not_found = true});
  if (!response) {
    Error e = std::move(response).error();
    thread_not_found_hint(e, options_.retry.max_retries > 0);
    return e;
  }
  return ok_status();
}

Status GraphClient::set_thread_locked(std::string_view group_id, std::string_view thread_id,
                                      bool is_locked, const AccessToken& token) {
  // Setting isLocked to a value twice leaves the same state as once: safe to repeat even when an
  // answer was lost.
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return lock_thread_request(options_, group_id, thread_id, is_locked, token.value, crid);
      },
      Idempotency::kIdempotent, is_locked ? "lock the thread" : "unlock the thread",
      SendExtras{.retry_not_found = true});
  if (!response) {
    Error e = std::move(response).error();
    thread_not_found_hint(e, options_.retry.max_retries > 0);
    return e;
  }
  return ok_status();
}

Result<GraphClient::Deleted> GraphClient::delete_thread(std::string_view group_id,
                                                        std::string_view thread_id,
                                                        const AccessToken& token) {
  OutcomeRecorder recorder(deps_.transport);
  auto response = send_with_retries(
      [&](const std::string& crid) {
        return delete_thread_request(options_, group_id, thread_id, token.value, crid);
      },
      Idempotency::kIdempotent, "delete the thread", SendExtras{.transport = &recorder});
  if (response) return Deleted::kNow;
  Error e = std::move(response).error();
  // An earlier attempt may have deleted the thread and lost its answer (connection dropped after
  // sending, or a 504 while the backend went on). The retry then finds nothing: 404. The thread
  // is gone, which is what was asked, so that counts as success. A 404 with no such attempt
  // before it is reported: the id is wrong, or someone else deleted the thread.
  if (e.http_status == 404 && e.kind == ErrorKind::kGraph && recorder.maybe_done()) {
    return Deleted::kAlreadyGoneAfterLostAnswer;
  }
  thread_not_found_hint(e, false);
  return e;
}

Result<HttpResponse> GraphClient::send_with_retries(
    const std::function<HttpRequest(const std::string&)>& build, Idempotency idempotency,
    std::string_view what, const SendExtras& extras) {
  AttemptOptions options{
      .idempotency = idempotency,
      .retry = options_.retry,
      .attempt_deadline = [this](Clock::time_point) { return options_.deadline; },
      .give_up_by = options_.deadline,
      .describe =
          [](const HttpResponse& r) {
            const auto rid = r.header("request-id");
            return rid.empty() ? std::string() : "request-id " + std::string(rid);
          }};
  if (extras.retry_not_found && options_.retry.max_retries > 0) {
    // A 404 right after a create may only mean that Graph has not caught up yet; a 404 answer did
    // nothing, so even a reply may be repeated. Other statuses go to the usual rules. --retries 0
    // means one request, so it turns these retries off too.
    options.extra_attempts = static_cast<int>(std::size(kNotFoundRetryDelays));
    options.decide = [this, idempotency, not_found = std::size_t{0}](
                         const HttpResponse& r, int attempt) mutable -> RetryDecision {
      if (r.status == 404 && not_found < std::size(kNotFoundRetryDelays)) {
        const auto delay = kNotFoundRetryDelays[not_found++];
        return {RetryVerdict::kRetry, delay, "404, Graph may not have caught up yet"};
      }
      return decide_after_response(r, attempt, idempotency, options_.retry, deps_.clock.wall_now(),
                                   deps_.jitter);
    };
  }
  AttemptDeps deps{.transport = extras.transport ? *extras.transport : deps_.transport,
                   .clock = deps_.clock,
                   .new_request_id = deps_.new_request_id,
                   .jitter = deps_.jitter,
                   .log = [this](const std::string& line) { log(line); }};
  Attempts a = gt::send_with_retries(build, options, deps);
  const std::string& crid = a.client_request_id;
  const std::string after =
      a.attempts > 1 ? " (after " + std::to_string(a.attempts) + " attempts)" : std::string();
  switch (a.end) {
    case Attempts::End::kAnswered: {
      if (a.response.status >= 200 && a.response.status < 300) return std::move(a.response);
      Error e = graph_error(a.response, crid, what);
      if (a.decision.verdict == RetryVerdict::kUnknown) {
        e.kind = ErrorKind::kOutcomeUnknown;
        e.message = "outcome unknown: Graph's gateway timed out (" + status_line(a.response) +
                    ") while the backend was handling the request; it may or may not have been "
                    "done (could not " +
                    std::string(what) + " for certain)";
        e.hint =
            "check before running again; it was not retried automatically to avoid a "
            "duplicate";
      } else if (a.attempts > 1 && (a.response.status == 429 || a.response.status >= 500)) {
        e.message += after;
      }
      return e;
    }
    case Attempts::End::kTransport: {
      if (a.decision.verdict == RetryVerdict::kUnknown) {
        Error e{ErrorKind::kOutcomeUnknown,
                "outcome unknown: " + a.transport.message +
                    " after the request was sent; Graph may or may not have done it (could not " +
                    std::string(what) + " for certain)"};
        e.hint =
            "check before running again; it was not retried automatically to avoid a "
            "duplicate. Quote client-request-id " +
            crid + " to support";
        e.client_request_id = crid;
        e.http_status = a.transport.status;
        return e;
      }
      Error e = Error::network(a.transport.message + "; nothing was sent" + after);
      e.hint = a.transport.hint;
      e.client_request_id = crid;
      return e;
    }
    case Attempts::End::kInterrupted: {
      const bool maybe_sent = !a.answered &&
                              a.transport.failure == TransportFailure::kInterrupted &&
                              a.transport.request_bytes_written;
      Error e{ErrorKind::kInterrupted,
              maybe_sent ? "interrupted after the request was sent: outcome unknown, the server "
                           "may have acted on it (client-request-id " +
                               crid + ")"
              : a.attempts == 0 ? std::string("interrupted before sending; nothing was sent")
              : a.transport.failure == TransportFailure::kInterrupted
                  ? std::string("interrupted; nothing was sent")
                  : std::string("interrupted while waiting to retry; nothing more was sent")};
      if (a.attempts > 0) e.client_request_id = crid;
      return e;
    }
    case Attempts::End::kOutOfTime:
      break;
  }
  // Out of time: either before an attempt could start, or a retry wait would pass --timeout.
  if (a.attempts == 0 || (!a.answered && a.decision.verdict != RetryVerdict::kRetry)) {
    Error e = Error::network("--timeout reached before attempt " + std::to_string(a.attempts + 1) +
                             " could start; nothing more was sent");
    e.hint = "raise --timeout";
    return e;
  }
  const std::string wait =
      " (a retry after " + format_delay(a.decision.delay) + " would pass --timeout)";
  if (a.answered) {
    Error e = graph_error(a.response, crid, what);
    e.message += wait;
    return e;
  }
  Error e = Error::network(a.transport.message + "; nothing was sent" + wait);
  e.client_request_id = crid;
  return e;
}

namespace {

// The first 200 bytes of `text` from the service, control characters (DEL included) blanked, for
// quoting in a message or hint.
std::string blanked_prefix(std::string_view text) {
  std::string out(text.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

Error graph_error(const HttpResponse& response, const std::string& client_request_id,
                  std::string_view what) {
  Error e;
  e.kind = ErrorKind::kGraph;
  e.http_status = response.status;
  e.client_request_id = client_request_id;
  e.request_id = std::string(response.header("request-id"));
  e.date = std::string(response.header("Date"));
  std::string detail;
  if (const auto body = decode_graph_error(response.body)) {
    e.code = body->code;
    if (!body->request_id.empty()) e.request_id = body->request_id;
    if (!body->client_request_id.empty()) e.client_request_id = body->client_request_id;
    if (!body->date.empty()) e.date = body->date;
    detail = body->code;
    if (!body->message.empty()) detail += (detail.empty() ? "" : ": ") + body->message;
  } else if (!response.body.empty()) {
    detail = blanked_prefix(response.body);
  }
  const std::string head = "could not " + std::string(what) + ": Graph answered " +
                           status_line(response) + (detail.empty() ? "" : ": " + detail);
  e.message = head;
  switch (response.status) {
    case 401:
      e.kind = ErrorKind::kAuth;
      e.hint =
          "the token is missing, expired or not for Microsoft Graph; get a fresh delegated "
          "token";
      break;
    case 403:
      e.kind = ErrorKind::kAuth;
      e.hint =
          "this needs a delegated token with Group-Conversation.ReadWrite.All or "
          "Group.ReadWrite.All, and a signed-in user allowed to post in the group "
          "(app-only tokens are refused)";
      break;
    case 404:
      e.hint =
          "check --group: it must be the id (GUID) of a Microsoft 365 group, which has a "
          "group mailbox";
      break;
    case 429:
      e.hint = "throttled by Graph; wait and try again, or raise --retries/--timeout";
      break;
    default:
      if (response.status >= 300 && response.status < 400) {
        // Following a redirect would hand the bearer (and a POST body) to wherever Location
        // points; Graph does not redirect its API, so something in between is rewriting.
        const std::string location = blanked_prefix(response.header("Location"));
        e.hint = "redirects are never followed, so the token is not sent to another host" +
                 (location.empty() ? std::string() : " (Location: " + location + ")") +
                 "; check --base-url/GRAPH_BASE_URL, or what a proxy or gateway is doing";
      }
      break;
  }
  return e;
}

std::string created_thread_id(const HttpResponse& response) {
  if (std::string id = decode_created_thread_id(response.body); !id.empty()) return id;
  return id_from_location(response.header("Location"));
}

std::string describe_request(const HttpRequest& request) {
  return render_request(request);
}

}  // namespace gt
