// gt/graph_client: Microsoft Graph operations on group conversation threads.
//
// Builds each request (URL with an encoded group id, headers, body), sends it through a Transport
// with retries decided by gt/retry, and turns every outcome into either a value or an Error whose
// kind is the exit code:
//   2xx                          -> the decoded thread
//   401 / 403                    -> kAuth, with Graph's code/message and what to do
//   429 / 503 (after retries)    -> kGraph
//   504 on a create or reply     -> kOutcomeUnknown (the backend may have created the thread)
//   other status                 -> kGraph, with code, message, request-id, client-request-id, date
//   transport, nothing written   -> retried; finally kNetwork ("nothing was created")
//   transport, bytes written     -> kOutcomeUnknown, never retried, names the client-request-id
//   SIGINT                       -> kInterrupted (says whether the request may have been sent)
//
// Which requests are repeated (gt/retry decides; the client says how idempotent each one is):
//   GET (list, get), DELETE, PATCH isLocked   idempotent: 429/503/504 and connection failures,
//                                             even after bytes were written, are retried
//   POST (create, reply)                      not idempotent: never re-sent once a byte was written
// Right after a create, Graph may still answer 404 for the new thread (its stores are eventually
// consistent). get_thread, reply_to_thread and set_thread_locked therefore retry a 404 a few times
// (kNotFoundRetryDelays, ~5 s in all, through the Clock; not with --retries 0) before reporting
// it; a 404 answer means nothing was done, so this is safe even for a reply.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gt/attempts.hpp"
#include "gt/auth.hpp"
#include "gt/clock.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/model.hpp"
#include "gt/retry.hpp"
#include "gt/url.hpp"

namespace gt {

struct GraphClientOptions {
  BaseUrl base;                      // e.g. https://graph.microsoft.com
  std::string api_version = "v1.0";  // "v1.0" or "beta"
  RetryPolicy retry;                 // --retries
  Clock::time_point deadline;        // end of the whole command (--timeout)
  std::string user_agent = "graph-threads";
};

// Query options of a list request.
struct ListQuery {
  std::optional<int> top;           // $top: page size (Graph's default when unset)
  std::vector<std::string> select;  // $select; toRecipients/ccRecipients are returned only so
};

// Request builders: pure, so --dry-run prints exactly what would be sent. `bearer` goes into the
// Authorization header as given.
HttpRequest create_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                  const ThreadRequest& thread, std::string_view bearer,
                                  const std::string& client_request_id);
// The same with the conversationThread already encoded (bulk creation encodes once per item).
HttpRequest create_thread_request_json(const GraphClientOptions& options, std::string_view group_id,
                                       std::string body_json, std::string_view bearer,
                                       const std::string& client_request_id);
// POST {base}/{version}/$batch with `body` (see gt/batch).
HttpRequest batch_request(const GraphClientOptions& options, std::string body,
                          std::string_view bearer, const std::string& client_request_id);
HttpRequest list_threads_request(const GraphClientOptions& options, std::string_view group_id,
                                 const ListQuery& query, std::string_view bearer,
                                 const std::string& client_request_id);
// GET {base}/{version}/groups/{group}/threads/{thread}; both ids are percent-encoded as one path
// segment each.
HttpRequest get_thread_request(const GraphClientOptions& options, std::string_view group_id,
                               std::string_view thread_id, std::string_view bearer,
                               const std::string& client_request_id);
// POST .../threads/{thread}/reply with {"post": <post>} (Content-Type application/json).
HttpRequest reply_request(const GraphClientOptions& options, std::string_view group_id,
                          std::string_view thread_id, const Post& post, std::string_view bearer,
                          const std::string& client_request_id);
// PATCH .../threads/{thread} with {"isLocked": true|false} (Content-Type application/json).
HttpRequest lock_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                std::string_view thread_id, bool is_locked, std::string_view bearer,
                                const std::string& client_request_id);
// DELETE .../threads/{thread}.
HttpRequest delete_thread_request(const GraphClientOptions& options, std::string_view group_id,
                                  std::string_view thread_id, std::string_view bearer,
                                  const std::string& client_request_id);

// GET {base}/{version}/{segments joined by "/"}, each segment percent-encoded as one path
// segment: {"me"} or {"groups", id}. For `graph-threads doctor`.
HttpRequest get_resource_request(const GraphClientOptions& options,
                                 const std::vector<std::string>& segments, std::string_view bearer,
                                 const std::string& client_request_id);

// The waits before each retry of a 404 from get/reply/lock (Graph's eventual consistency right
// after a create): 3 retries, 5 s in all.
inline constexpr std::chrono::milliseconds kNotFoundRetryDelays[] = {
    std::chrono::milliseconds(1000), std::chrono::milliseconds(1500),
    std::chrono::milliseconds(2500)};

// The request for an @odata.nextLink, followed verbatim. Fails (kGraph) when the link is not an
// absolute URL on the same scheme, host and port as the base URL: the token is never sent
// anywhere else.
Result<HttpRequest> next_page_request(const GraphClientOptions& options, std::string_view next_link,
                                      std::string_view bearer,
                                      const std::string& client_request_id);

class GraphClient {
 public:
  using Deps = ClientDeps;

  GraphClient(Deps deps, GraphClientOptions options);

  const GraphClientOptions& options() const { return options_; }

  // POST {base}/{version}/groups/{group_id}/threads. Not idempotent: see gt/retry.
  // REQUIRES: the request passed validate_thread_request().
  Result<CreatedThread> create_thread(std::string_view group_id, const ThreadRequest& thread,
                                      const AccessToken& token);

  // GET {base}/{version}/groups/{group_id}/threads with `query` when `next_link` is empty,
  // otherwise GET `next_link` as Graph gave it. Idempotent: retried after 429/503/504 and after
  // connection failures. A page body that is not {"value": [...]} fails with kGraph.
  Result<ThreadPage> list_threads(std::string_view group_id, const ListQuery& query,
                                  std::string_view next_link, const AccessToken& token);

  // GET {base}/{version}/groups/{group_id}/threads/{thread_id}: the thread (raw_json as received).
  // Idempotent (retried as list is); a 404 is retried per kNotFoundRetryDelays, then kGraph with a
  // hint that the thread id may be wrong.
  Result<CreatedThread> get_thread(std::string_view group_id, std::string_view thread_id,
                                   const AccessToken& token);

  // POST .../threads/{thread_id}/reply with {"post": post}; Graph answers 202 with no body. Not
  // idempotent, like create: a reply is never re-sent once a byte of it was written, and a 504 is
  // kOutcomeUnknown. 429/503 (Graph says nothing was done), connection failures before writing and
  // 404 (per kNotFoundRetryDelays) are retried. REQUIRES: post.body holds content.
  Status reply_to_thread(std::string_view group_id, std::string_view thread_id, const Post& post,
                         const AccessToken& token);

  // PATCH .../threads/{thread_id} with {"isLocked": is_locked}. Setting a value is idempotent, so
  // it is retried like a GET (a 504 or a lost answer included); 404 as for get_thread.
  Status set_thread_locked(std::string_view group_id, std::string_view thread_id, bool is_locked,
                           const AccessToken& token);

  // The first thread, in the order Graph lists them, whose topic equals `topic` exactly (case and
  // spaces included), or nullopt when none does: lists every page (Graph's page size; one GET each,
  // as list_threads) until a match. What `create --if-not-exists` asks before it creates. Listing
  // and creating are two requests, so two callers racing can both find nothing.
  Result<std::optional<CreatedThread>> find_thread_by_topic(std::string_view group_id,
                                                            std::string_view topic,
                                                            const AccessToken& token);
  // Pages read by the last find_thread_by_topic (for -v and the "not created" note).
  int pages_searched() const { return pages_searched_; }

  // GET of get_resource_request(segments): the 2xx response as received, or the Error as for
  // list (kAuth for 401/403 with Graph's code, kGraph for 404 and others, kNetwork, ...).
  // Idempotent; no 404 retries. `what` completes "could not …".
  Result<HttpResponse> get_resource(const std::vector<std::string>& segments,
                                    const AccessToken& token, std::string_view what);

  // How a delete ended.
  enum class Deleted {
    kNow,                         // 2xx: this request deleted it
    kAlreadyGoneAfterLostAnswer,  // 404 on a retry after an attempt that may have reached Graph
                                  // (answer lost, or 504): that attempt most likely deleted it
  };
  // DELETE .../threads/{thread_id}. Idempotent: 429/503/504 and connection failures are retried.
  // A 404 on the first attempt, or after attempts that certainly did nothing (429/503, nothing
  // written), is kGraph (wrong id, or already deleted by someone else). A 404 after an attempt
  // whose outcome was unknown counts as deleted: the thread is gone, which is what was asked.
  // No 404 retries here (a 404 is what a finished delete looks like).
  Result<Deleted> delete_thread(std::string_view group_id, std::string_view thread_id,
                                const AccessToken& token);

 private:
  // What a request may change about the shared retry loop.
  struct SendExtras {
    bool retry_not_found = false;    // retry 404 per kNotFoundRetryDelays
    Transport* transport = nullptr;  // instead of deps_.transport (a recording wrapper)
  };
  Result<HttpResponse> send_with_retries(
      const std::function<HttpRequest(const std::string&)>& build, Idempotency idempotency,
      std::string_view what, const SendExtras& extras);
  void log(const std::string& line);

  Deps deps_;
  GraphClientOptions options_;
  int pages_searched_ = 0;
};

// Graph's error answer as an Error: kind by status (401/403 kAuth, else kGraph), Graph's code and
// message, request ids and date, and a hint for the common statuses. `what` completes
// "could not …".
Error graph_error(const HttpResponse& response, const std::string& client_request_id,
                  std::string_view what);

// The id of the thread a 2xx create answer reports: the body's "id", else the one in Location
// (".../threads('<id>')"); "" when neither has one.
std::string created_thread_id(const HttpResponse& response);

// Renders a request the way --dry-run shows it: request line, headers, blank line, body, with
// secrets redacted as --debug does (gt/http_log's render_request).
std::string describe_request(const HttpRequest& request);

}  // namespace gt
