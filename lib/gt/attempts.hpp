// gt/attempts: one HTTP request, sent until gt/retry says its outcome is final — the loop the
// Graph client and the sign-in client share. Each attempt gets a fresh client-request-id and one
// line in the verbose log ("> POST url  attempt 2/4  client-request-id …" and "< 201 Created
// 18 ms  …"); waits go through the Clock, so Ctrl-C ends them and tests never sleep.
//
// The loop decides nothing about meaning: it reports how it ended (Attempts::End) and the caller
// turns that into its own Error (a Graph error, a refused sign-in, ...).
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "gt/clock.hpp"
#include "gt/http.hpp"
#include "gt/retry.hpp"

namespace gt {

// What a client that sends requests needs from its surroundings (GraphClient, OAuthClient).
struct ClientDeps {
  Transport& transport;
  Clock& clock;
  std::function<std::string()> new_request_id;  // a fresh client-request-id per attempt
  std::function<double()> jitter;               // [0, 1) for backoff
  std::ostream* verbose = nullptr;              // attempt log (--verbose); never bodies or tokens
};

struct AttemptOptions {
  Idempotency idempotency = Idempotency::kUnsafe;
  RetryPolicy retry;
  // Attempts that `decide` may add beyond retry.max_retries (404 retries after a create): only
  // the bound -v shows as "attempt N/M".
  int extra_attempts = 0;
  // The deadline handed to the transport for an attempt that starts at `start`.
  std::function<Clock::time_point(Clock::time_point start)> attempt_deadline;
  // No attempt starts, and no retry wait is begun, that would end after this.
  Clock::time_point give_up_by = Clock::time_point::max();
  // No retry wait longer than this is begun (a Retry-After of an hour is an answer, not a plan).
  Clock::duration max_wait = Clock::duration::max();
  // Decides about a non-2xx answer; defaults to gt::decide_after_response.
  std::function<RetryDecision(const HttpResponse& response, int attempt)> decide;
  // Extra text for the "<" log line of an answer (ids, error codes); may be empty.
  std::function<std::string(const HttpResponse& response)> describe;
};

struct AttemptDeps {
  Transport& transport;
  Clock& clock;
  std::function<std::string()> new_request_id;
  std::function<double()> jitter;
  std::function<void(const std::string& line)> log;  // may be empty
};

struct Attempts {
  enum class End {
    kAnswered,     // `response` is final: 2xx, or not to be retried (see `decision`)
    kTransport,    // the last attempt failed in transport; `transport` says how, `decision`
                   // whether it may have been acted on (kUnknown) or not (kGiveUp)
    kInterrupted,  // SIGINT before, during (`transport` then set) or between attempts
    kOutOfTime,    // give_up_by reached before an attempt, or a retry wait would pass it
                   // or be longer than max_wait
  };
  End end = End::kAnswered;
  HttpResponse response;          // the last answer, if any
  bool answered = false;          // whether `response` holds one
  TransportError transport;       // the last transport failure, if any
  RetryDecision decision;         // how the last outcome was judged
  int attempts = 0;               // made so far
  std::string client_request_id;  // of the last attempt
};

// Sends build(client_request_id) until the outcome is final.
Attempts send_with_retries(const std::function<HttpRequest(const std::string&)>& build,
                           const AttemptOptions& options, AttemptDeps& deps);

// "201 Created", or just "201" without a reason phrase.
std::string status_line(const HttpResponse& response);

}  // namespace gt
