// gt/retry: when an attempt may be repeated, and after how long.
//
// Why a retry is or is not safe is decided here and nowhere else:
//  - nothing of the request was written (refused, reset during connect, handshake timeout): the
//    server cannot have acted on it, so any request may be repeated;
//  - 429 and 503: Graph says the request failed and asks to come back after Retry-After; repeated;
//  - 504: the gateway gave up waiting for the backend, which may still have acted. Repeated only
//    for idempotent requests; for a POST that creates something it is "outcome unknown";
//  - a request that was written without a complete answer is never repeated automatically.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gt/http.hpp"

namespace gt {

enum class Idempotency { kUnsafe, kIdempotent };

struct RetryPolicy {
  int max_retries = 3;  // attempts after the first
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_backoff{30000};
};

// Parses a Retry-After value: delta seconds ("10", "2.128") or an HTTP-date
// ("Fri, 27 Nov 2026 15:00:00 GMT", relative to `now`). Negative, unparseable or more than 365
// days ahead (either form) -> nullopt; a date in the past -> 0. Never negative.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

enum class RetryVerdict {
  kRetry,    // wait `delay`, then repeat
  kGiveUp,   // report the failure as it is
  kUnknown,  // report "outcome unknown" (the request may have taken effect)
};

struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::kGiveUp;
  std::chrono::milliseconds delay{0};
  std::string reason;  // "Retry-After 2s", "backoff 1.4s", "connection refused", ...
};

// `attempt` is 1 for the first try. `jitter` returns a value in [0, 1); the backoff for retry n is
// base_delay * 2^(n-1) scaled by (0.5 + jitter/2), capped at max_backoff.
RetryDecision decide_after_response(const HttpResponse& response, int attempt,
                                    Idempotency idempotency, const RetryPolicy& policy,
                                    std::chrono::system_clock::time_point now,
                                    const std::function<double()>& jitter);
RetryDecision decide_after_transport_error(const TransportError& error, int attempt,
                                           Idempotency idempotency, const RetryPolicy& policy,
                                           const std::function<double()>& jitter);

// Human form of a delay: "250 ms", "2.1 s", "3 min 5 s".
std::string format_delay(std::chrono::milliseconds d);

}  // namespace gt
