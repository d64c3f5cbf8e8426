// emulator/graph_service: the behaviour of the local Microsoft Graph stand-in, as a pure function
// from an HTTP request to an HTTP response (std types only, no sockets). The Beast server
// (emulator/server) feeds it; unit tests call it directly.
//
// Serves, under /v1.0 and /beta:
//   POST /{ver}/groups/{group-id}/threads   create (201, Location, request-id, client-request-id)
// Validates like Graph: bearer token (401), group id (400 for a non-GUID, 404 for an unknown
// group), Content-Type (415), body size (413), thread JSON via gt/json_codec + gt/validate (400
// ErrorInvalidRequest naming the JSON path), in that order; unknown paths answer 404 and other
// methods on the threads path 405. Every answer carries request-id (a fresh GUID),
// client-request-id (the request's, or the request-id when absent) and Date. Errors use Graph's
// envelope:
//   {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}
//
// A 201 body has Graph's key order: @odata.context, id, topic, hasAttachments,
// lastDeliveredDateTime, uniqueSenders, preview, isLocked. Ids look like Graph's: standard base64
// with '+', '/' and "==" padding, so clients must percent-encode them in URLs.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/handler.hpp"
#include "gt/http.hpp"
#include "gt/model.hpp"

namespace gt::emulator {

struct ServiceOptions {
  std::string accepted_token;       // empty: any non-empty bearer is accepted
  std::vector<std::string> groups;  // ids that exist; empty: every GUID exists
  std::size_t max_body_bytes = 4 * 1024 * 1024;
};

// A thread as stored by the emulator.
struct StoredThread {
  std::string group_id;
  std::string id;
  std::string json;       // the conversationThread as the emulator returned it (the 201 body)
  ThreadRequest request;  // what the client sent, as decoded
};

class GraphService final : public Handler {
 public:
  explicit GraphService(ServiceOptions options);

  // Thread-safe.
  HttpResponse handle(const HttpRequest& request) override;

  // Every thread created so far (successful creates only), in creation order. Thread-safe.
  std::vector<StoredThread> threads() const;

 private:
  ServiceOptions options_;
  mutable std::mutex mu_;
  std::vector<StoredThread> threads_;
};

// Graph's error answer to `request`: `status` with the envelope above (innerError.date in Graph's
// "2026-11-27T15:12:44" form), Content-Type application/json, request-id, client-request-id and
// Date headers. Used by the service and by the server for its own errors and kStatus faults.
HttpResponse graph_error_response(const HttpRequest& request, int status, std::string_view code,
                                  std::string_view message);

// "Created", "Too Many Requests", ...; "" for a status without a standard phrase.
const char* reason_phrase(int status);

}  // namespace gt::emulator
