// gt/batch: Microsoft Graph JSON batching (GRAPH-API.md 5) as values — the body of a
// POST /{version}/$batch and its answer. Pure; the bulk engine sends it.
//
// Graph takes at most 20 requests per batch, answers 200 with one response per request (in any
// order, matched by id), and a 200 says nothing about the requests inside: each has its own
// status, headers (Retry-After for a throttled one) and body.
#pragma once

#include <string>
#include <vector>

#include "gt/error.hpp"
#include "gt/http.hpp"

namespace gt {

inline constexpr std::size_t kMaxBatchRequests = 20;

struct BatchPart {
  std::string id;         // unique within the batch
  std::string method;     // "POST"
  std::string url;        // relative to the version root: "/groups/{id}/threads"
  std::string json_body;  // a JSON object as text; "" for none
};

// {"requests":[{"id":…,"method":…,"url":…,"headers":{"Content-Type":"application/json"},
// "body":{…}}]}. REQUIRES: every json_body is "" or valid JSON (it is embedded, not quoted).
std::string encode_batch(const std::vector<BatchPart>& parts);

// One inner answer: `body` is the inner body re-serialized as JSON text ("" when absent).
struct BatchAnswer {
  std::string id;
  HttpResponse response;
};

// Decodes {"responses":[{"id","status","headers"?,"body"?}]}. Fails (kGraph) when the body is not
// that shape; the caller then knows nothing about the parts.
Result<std::vector<BatchAnswer>> decode_batch_response(std::string_view body);

}  // namespace gt
