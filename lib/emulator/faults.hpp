// emulator/faults: what can go wrong on purpose. Tests script faults per request so that every
// failure path of the client can be exercised against a real server.
//
//   FaultPlan faults;
//   faults.push({.kind = FaultKind::kStatus, .status = 429, .retry_after = "2"});  // next request
//   faults.script(3, {.kind = FaultKind::kDropAfterRead});                        // 3rd request
//   faults.push({.kind = FaultKind::kDropOnAccept});                 // next accepted connection
//   faults.randomize({.rate = 0.1, .faults = {*parse_fault_kind("503")}, .seed = 42});
//
// Scripts and the control API name faults with the short KINDs of parse_fault_kind().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gt/error.hpp"
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

// Faults drawn at random: each event (accepted connection, request read) fails with probability
// `rate`, with one of the `faults` that apply to that kind of event, chosen uniformly. So with
// {503, drop-before} and rate 0.1, a tenth of the connections are dropped and a tenth of the
// requests answered 503.
struct RandomFaults {
  double rate = 0;            // 0 (never) .. 1 (every event)
  std::vector<Fault> faults;  // empty: never
  std::uint64_t seed = 0;     // the same seed gives the same sequence of draws
};

// Thread-safe. There are two independent streams of faults, chosen by the fault's kind:
//  - connection faults (kDropOnAccept, kStallHandshake), consulted once per accepted connection;
//  - request faults (every other kind), consulted once per HTTP request read.
// For each stream, a fault scripted for number N (1-based, counting accepted connections or
// requests read since construction or clear()) wins; otherwise the oldest pushed fault is used;
// otherwise a random one (see randomize()); otherwise kNone. Each scripted or pushed fault is used
// once.
//
// Random draws are made for every event, whether a scripted fault wins or not, from a generator
// per stream seeded with RandomFaults::seed: event N of a stream gets the same draw whatever was
// scripted, so a run is repeatable given the seed and the order in which the server sees events.
class FaultPlan {
 public:
  void push(Fault fault);                     // applies to the next request/connection
  void script(std::size_t nth, Fault fault);  // applies to request/connection number nth
  // Replaces the random faults (RandomFaults{} turns them off) and restarts their sequence.
  void randomize(RandomFaults random);
  // Forgets every fault (random ones included) and resets both counters.
  void clear();

  // Called by the server: the fault for the connection just accepted / the request just read.
  Fault next_for_connection();
  Fault next_for_request();

 private:
  struct Stream {
    std::deque<Fault> queue;
    std::map<std::size_t, Fault> scripted;
    std::size_t count = 0;
    double rate = 0;
    std::vector<Fault> random;  // the faults of RandomFaults::faults that apply to this stream
    std::mt19937_64 rng;
    Fault next();
  };
  Stream& stream_for(FaultKind kind);

  std::mutex mu_;
  Stream connections_;
  Stream requests_;
};

// ---- the short names scripts use ----------------------------------------------------------------

constexpr std::chrono::milliseconds kDefaultSlow{2000};

// A fault from its KIND, as the emulator's --fault/--fault-at flags and control API spell it:
//   "429"          kStatus 429 TooManyRequests, Retry-After: 1 (nothing is created)
//   "503"          kStatus 503 ServiceNotAvailable, Retry-After: 1 (nothing is created)
//   "drop-before"  kDropOnAccept: the connection is closed before TLS or any byte is read
//   "drop-after"   kDropAfterRead: the request is processed (a create creates), then the
//                  connection is closed without an answer
//   "slow"         kDelay of `slow`, then a normal answer
// Fails (kUsage) naming the accepted kinds.
Result<Fault> parse_fault_kind(std::string_view kind,
                               std::chrono::milliseconds slow = kDefaultSlow);

// The KIND of a fault parse_fault_kind() makes ("503", "slow", ...); fault_name() otherwise.
std::string fault_label(const Fault& fault);

struct ScriptedFault {
  std::size_t nth = 0;  // 1-based request number (connection number for drop-before)
  Fault fault;
};

// "N:KIND", e.g. "2:429". N >= 1. Fails (kUsage) saying what is wrong.
Result<ScriptedFault> parse_scripted_fault(std::string_view text,
                                           std::chrono::milliseconds slow = kDefaultSlow);

// The response of a kStatus fault for `request`: `fault.body` verbatim when set, otherwise Graph's
// error envelope with `fault.code` or the status' usual code (429 TooManyRequests, 503
// ServiceNotAvailable, 504 GatewayTimeout, ...); request-id/client-request-id/Date headers as for
// any Graph answer, and Retry-After when `fault.retry_after` is set.
HttpResponse status_fault_response(const Fault& fault, const HttpRequest& request);

}  // namespace gt::emulator
