// gt/graph_client: Microsoft Graph operations on group conversation threads.
//
// Builds each request (URL with an encoded group id, headers, body), sends it through a Transport
// with retries decided by gt/retry, and turns every outcome into either a value or an Error whose
// kind is the exit code:
//   2xx                          -> the decoded thread
//   401 / 403                    -> kAuth, with Graph's code/message and what to do
//   429 / 503 (after retries)    -> kGraph
//   504 on a create              -> kOutcomeUnknown (the backend may have created the thread)
//   other status                 -> kGraph, with code, message, request-id, client-request-id, date
//   transport, nothing written   -> retried; finally kNetwork ("nothing was created")
//   transport, bytes written     -> kOutcomeUnknown, never retried, names the client-request-id
//   SIGINT                       -> kInterrupted (says whether the request may have been sent)
#pragma once

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

 private:
  Result<HttpResponse> send_with_retries(
      const std::function<HttpRequest(const std::string&)>& build, Idempotency idempotency,
      std::string_view what);
  void log(const std::string& line);

  Deps deps_;
  GraphClientOptions options_;
};

// Graph's error answer as an Error: kind by status (401/403 kAuth, else kGraph), Graph's code and
// message, request ids and date, and a hint for the common statuses. `what` completes
// "could not …".
Error graph_error(const HttpResponse& response, const std::string& client_request_id,
                  std::string_view what);

// The id of the thread a 2xx create answer reports: the body's "id", else the one in Location
// (".../threads('<id>')"); "" when neither has one.
std::string created_thread_id(const HttpResponse& response);

// Renders a request the way --dry-run shows it: request line, headers (Authorization redacted),
// blank line, body.
std::string describe_request(const HttpRequest& request);

}  // namespace gt
