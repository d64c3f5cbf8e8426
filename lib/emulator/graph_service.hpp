// emulator/graph_service: the behaviour of the local Microsoft Graph stand-in, as a pure function
// from an HTTP request to an HTTP response (std types only, no sockets). The Beast server
// (emulator/server) feeds it, through emulator/router; unit tests call it directly. Threads live
// in an emulator/store ThreadStore, optionally persisted (see "Persistence" below).
//
// Serves, under /v1.0 and /beta ({g}, {t}: one path segment each, percent-decoded; the OData key
// form groups('{g}')/threads('{t}') that Location headers use works too):
//   POST   /groups/{g}/threads                  create: 201 + the thread + Location
//   GET    /groups/{g}/threads                  list: 200 {"@odata.context","value",
//                                                 "@odata.nextLink"?}, newest
//                                                 lastDeliveredDateTime first
//   GET    /groups/{g}/threads/{t}              200 the thread
//   PATCH  /groups/{g}/threads/{t}              {"isLocked": bool} -> 200 {} (Graph documents
//                                                 "200 OK and an empty object")
//   DELETE /groups/{g}/threads/{t}              204, no body
//   POST   /groups/{g}/threads/{t}/reply        {"post": {...}} -> 202, no body (also
//          /groups/{g}/threads/{t}/microsoft.graph.reply)
//   POST   /$batch                              JSON batching (below)
//   GET    /me                                  200 {"id","userPrincipalName","displayName"}
//                                                 from the token's upn; 400 BadRequest for an
//                                                 app-only token (as Graph: no signed-in user);
//                                                 no scope needed (Graph wants User.Read)
// Another method on a known path: 405 ErrorInvalidRequest with Allow. Unknown paths: 404
// BadRequest "Resource not found for the segment '...'".
//
// Checks, in this order (each failure is Graph's error envelope, below):
//   1. 401 InvalidAuthenticationToken (with WWW-Authenticate): no bearer ("Access token is
//      empty."); accepted_token set and different ("...validation failure..."); a JWT whose exp
//      has passed by options.now() ("Lifetime validation failed, the token is expired.").
//   2. 403 ErrorAccessDenied "Access is denied. Check credentials and try again." for a JWT
//      (decoded with gt::decode_token_claims, signature not checked) that may not do this:
//        create, reply      delegated only: app-only tokens (roles, no scp) are refused always;
//                           scp must hold Group-Conversation.ReadWrite.All or Group.ReadWrite.All
//        PATCH, DELETE      scp or roles hold one of those two
//        list, get          scp or roles hold one of those two, Group-Conversation.Read.All or
//                           Group.Read.All
//      (names compare case-insensitively; a JWT with neither scp nor roles has no permission).
//      Tokens that are not JWTs have every permission.
//   3. 400 ErrorInvalidIdMalformed: the group id is not a GUID.
//   4. 404 ErrorItemNotFound: the group is not in options.groups (when that is set); then, for
//      the /threads/{t} paths, the thread is not in the group ("The specified object was not
//      found in the store.").
//   5. Query options (GET; below): 400 BadRequest, or 501 FilteringOnConversations for $filter.
//   6. Bodies (POST, PATCH): 415 UnsupportedMediaType unless Content-Type is application/json;
//      413 RequestEntityTooLarge over max_body_bytes; 400 BadRequest "Unable to read JSON request
//      payload..." for malformed JSON; 400 ErrorInvalidRequest naming the JSON path of the first
//      problem (create and reply use gt/json_codec + gt/validate: a reply's post follows a created
//      thread's post rules, paths read "post.body.content"; PATCH accepts only isLocked, and names
//      any other property).
//   7. Reply to a locked thread: 423 ErrorThreadLocked "The conversation thread is locked; ...".
//      Graph does not document this case; 423 is Graph's documented status for "the resource
//      that is being accessed is locked".
// Every answer carries request-id (a fresh GUID), client-request-id (the request's, or the
// request-id when absent) and Date. Errors use Graph's envelope:
//   {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}
//
// Threads, as answered (keys always in this order): @odata.context (single thread only), id,
// topic, hasAttachments, lastDeliveredDateTime ("2026-11-27T15:12:44Z"), uniqueSenders, preview,
// isLocked, and toRecipients, ccRecipients only when $select names them (as Graph documents).
// A 201 body is exactly that (without recipients). Ids look like Graph's: standard base64 with
// '+', '/' and "==" padding, so clients must percent-encode them in URLs.
//
// Query options. List: $top (an integer 1-999; default page size 10), $skiptoken (opaque; only
// what a nextLink carries), $select (comma-separated property names, matched case-insensitively;
// unknown names and "posts" are 400). $filter is 501 FilteringOnConversations "$filter is not
// supported on this collection."; $orderby, $search, $expand and any other $-option are 400
// BadRequest; an option given twice is 400. Get: $select only. Options without '$' are ignored.
// @odata.nextLink is absent on the last page, otherwise an absolute URL built from the request's
// scheme and Host header, its path and options as sent, and a $skiptoken; follow it verbatim.
// Paging is by position in the order, so threads created meanwhile do not shift later pages.
//
// JSON batching (GRAPH-API.md 5): POST /{ver}/$batch, body {"requests":[{"id","method","url",
// "headers"?,"body"?,"dependsOn"?}]} -> 200 {"responses":[{"id","status","headers","body"?}]},
// responses in request order. The batch itself needs a bearer (401 as above), 415/413/400 as
// above, and is 400 BadRequest when malformed: no "requests" array or an empty one, more than
// 20 requests, an id missing or repeated (ids compare case-insensitively), a method other than GET,
// POST, PATCH, PUT or DELETE, a url that is not relative, headers that are not an object of
// strings, dependsOn naming an unknown id or forming a cycle. Each request then runs as if sent
// directly to /{ver}{url} with the batch's Authorization, Host and scheme (its own
// client-request-id if its headers carry one), after the requests it depends on: if one of those
// did not answer 2xx it answers 424 FailedDependency instead. A request with a body but no
// Content-Type header answers 400 BadRequest; a body that is a JSON string is base64 (standard or
// URL alphabet) of the bytes to send; a nested $batch answers 400.
//
// Persistence: with ServiceOptions::data_file set, call load() once before serving (it reads the
// file if it exists), then save_if_dirty() periodically (the executable: every ~200 ms and at
// shutdown). Requests never touch the disk. File format and atomicity: see emulator/store.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/handler.hpp"
#include "emulator/store.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/model.hpp"

namespace gt::emulator {

struct ServiceOptions {
  std::string accepted_token;       // empty: any non-empty bearer is accepted
  std::vector<std::string> groups;  // ids that exist; empty: every GUID exists
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  // Where threads persist (see load() and save_if_dirty()); "": in memory only.
  std::string data_file;
  // The time: token expiry, Date, innerError.date, lastDeliveredDateTime, receivedDateTime.
  // Empty: std::chrono::system_clock::now. Tests set a fixed or stepping clock. Called from
  // every thread that calls handle(), so it must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> now;
};

// A thread as create made it: GraphService::threads() reports these.
struct StoredThread {
  std::string group_id;  // as the create request spelled it
  std::string id;
  std::string json;       // the 201 body the create answered
  ThreadRequest request;  // what the client sent, as decoded
};

class GraphService final : public Handler {
 public:
  // Does not touch options.data_file: call load() for that.
  explicit GraphService(ServiceOptions options);

  // Thread-safe. Never blocks on the disk.
  HttpResponse handle(const HttpRequest& request) override;

  // Reads options.data_file into the store when the file exists (a missing file is an empty
  // store); does nothing when data_file is "". Call once, before serving. Fails (kGraph; the
  // message names the file and what is wrong, see ThreadStore::load) for an unreadable or corrupt
  // file, leaving the store empty and unsaved: the executable reports the message and exits 1.
  // Why not the constructor: it cannot return a Status, and the server holds the service by
  // reference, so a factory would only add a heap allocation.
  Status load();

  // Writes every thread to options.data_file (atomically) when anything changed since load() or
  // the last save; a no-op when nothing did or data_file is "". Thread-safe; requests keep being
  // served while it writes. Fails (kGraph, naming the file and the OS's reason) when the file
  // cannot be written (the next call retries) or when load() has not succeeded.
  Status save_if_dirty();

  // The threads in the store (created, or loaded, and not deleted), in creation order.
  // Thread-safe.
  std::vector<StoredThread> threads() const;

  // The threads with everything the emulator keeps (posts included), for tests and tools.
  const ThreadStore& store() const { return store_; }

 private:
  ServiceOptions options_;
  ThreadStore store_;
};

// Graph's error answer to `request`: `status` with the envelope above (innerError.date in Graph's
// "2026-11-27T15:12:44" form), Content-Type application/json, request-id, client-request-id and
// Date headers. Used by the service and by the server for its own errors and kStatus faults.
HttpResponse graph_error_response(const HttpRequest& request, int status, std::string_view code,
                                  std::string_view message);

// "Created", "Too Many Requests", "Failed Dependency", ...; "" for a status without a standard
// phrase.
const char* reason_phrase(int status);

}  // namespace gt::emulator
