// emulator/faults: what can go wrong on purpose. Tests script faults per request so that every
// failure path of the client can be exercised against a real server.
//
//   FaultPlan faults;
//   faults.push({.kind = FaultKind::kStatus, .status = 429, .retry_after = "2"});  // next request
//   faults.script(3, {.kind = FaultKind::kDropAfterRead});                        // 3rd request
//   faults.push({.kind = FaultKind::kDropOnAccept});                 // next accepted connection
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "gt/http.hpp"

namespace gt::emulator {

enum class FaultKind {
  kNone,
  kStatus,          // answer `status` with `body` (a Graph error envelope when empty) and
                    // Retry-After, without calling the service: nothing is created
  kDropOnAccept,    // close the TCP connection right after accept, before TLS: nothing was read
  kDropAfterRead,   // read and PROCESS the request (a create creates), then close without answering
  kTruncateBody,    // process, answer with a Content-Length larger than the bytes sent, then close
  kStall,           // read the request, do not process it, never answer (until the client leaves)
  kStallHandshake,  // accept TCP, never start TLS (nor read HTTP), until the client leaves
  kOversizedBody,   // process, answer with a body padded (JSON whitespace) to `size` bytes
  kOversizedHeader,  // process, answer with X-Emulator-Padding field values totalling `size`
                     // bytes (one field per 60000 bytes)
  kDelay,            // wait `delay` (other connections keep being served), then behave normally
};

// "none", "status", "drop-on-accept", ... (for logs and test names).
const char* fault_name(FaultKind kind);

// True for the kinds applied per accepted connection (kDropOnAccept, kStallHandshake); the others
// apply per request read.
bool is_connection_fault(FaultKind kind);

struct Fault {
  FaultKind kind = FaultKind::kNone;
  int status = 0;           // kStatus: the HTTP status (e.g. 429, 503)
  std::string retry_after;  // kStatus: sent as the Retry-After header when not empty
  std::string code;         // kStatus: Graph error.code (default chosen from status)
  std::string body;         // kStatus: full body override (sent verbatim as application/json)
  std::size_t size = 0;     // kOversized*: bytes of body / of padding header values
  std::chrono::milliseconds delay{0};  // kDelay
};

// Thread-safe. There are two independent streams of faults, chosen by the fault's kind:
//  - connection faults (kDropOnAccept, kStallHandshake), consulted once per accepted connection;
//  - request faults (every other kind), consulted once per HTTP request read.
// For each stream, a fault scripted for number N (1-based, counting accepted connections or
// requests read since construction or clear()) wins; otherwise the oldest pushed fault is used;
// otherwise kNone. Each fault is used once.
class FaultPlan {
 public:
  void push(Fault fault);                     // applies to the next request/connection
  void script(std::size_t nth, Fault fault);  // applies to request/connection number nth
  // Forgets every fault and resets both counters.
  void clear();

  // Called by the server: the fault for the connection just accepted / the request just read.
  Fault next_for_connection();
  Fault next_for_request();

 private:
  struct Stream {
    std::deque<Fault> queue;
    std::map<std::size_t, Fault> scripted;
    std::size_t count = 0;
    Fault next();
  };
  Stream& stream_for(FaultKind kind);

  std::mutex mu_;
  Stream connections_;
  Stream requests_;
};

// The response of a kStatus fault for `request`: `fault.body` verbatim when set, otherwise Graph's
// error envelope with `fault.code` or the status' usual code (429 TooManyRequests, 503
// ServiceNotAvailable, 504 GatewayTimeout, ...); request-id/client-request-id/Date headers as for
// any Graph answer, and Retry-After when `fault.retry_after` is set.
HttpResponse status_fault_response(const Fault& fault, const HttpRequest& request);

}  // namespace gt::emulator
