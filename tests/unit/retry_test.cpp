#include "gt/retry.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using gt::Idempotency;
using gt::RetryVerdict;

namespace {
// 2026-11-27T15:00:00Z
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795791600));
const auto kHalf = [] { return 0.5; };

gt::HttpResponse status(int code, std::string retry_after = {}) {
  gt::HttpResponse r;
  r.status = code;
  if (!retry_after.empty()) r.headers.push_back({"Retry-After", std::move(retry_after)});
  return r;
}
}  // namespace

TEST_CASE("Retry-After accepts delta seconds, decimals and HTTP-dates") {
  struct Case {
    const char* value;
    std::optional<std::chrono::milliseconds> expected;
  };
  const Case cases[] = {
      {"10", 10000ms},
      {"0", 0ms},
      {"2.128", 2128ms},
      {" 3 ", 3000ms},
      {"Fri, 27 Nov 2026 15:00:30 GMT", 30000ms},
      {"Fri, 27 Nov 2026 14:00:00 GMT", 0ms},  // in the past: retry now
      {"", std::nullopt},
      {"-1", std::nullopt},
      {"soon", std::nullopt},
      {"10s", std::nullopt},
      {"Fri, 27 Nov 2026 15:00:30 UTC", std::nullopt},
      {"Fri, 27 Foo 2026 15:00:30 GMT", std::nullopt},
      // Found by fuzz/retry_after: years outside system_clock's nanosecond range overflowed
      // (undefined behaviour) when the date was converted to compare with `now`.
      {"Fri, 27 Nov 9886 15:00:30 GMT", std::nullopt},
      {"Sat, 27 Nov 2027 15:00:00 GMT", 31536000000ms},  // 365 days ahead: the limit
      {"Sat, 27 Nov 2027 15:00:01 GMT", std::nullopt},
      {"Mon, 01 Jan 1000 00:00:00 GMT", 0ms},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(gt::parse_retry_after(c.value, kNow) == c.expected);
  }
}

TEST_CASE("429 and 503 are retried after Retry-After, even for a create") {
  gt::RetryPolicy policy;
  for (int code : {429, 503}) {
    CAPTURE(code);
    const auto d =
        gt::decide_after_response(status(code, "7"), 1, Idempotency::kUnsafe, policy, kNow, kHalf);
    CHECK(d.verdict == RetryVerdict::kRetry);
    CHECK(d.delay == 7000ms);
    CHECK(d.reason == "Retry-After 7 s");
  }
}

TEST_CASE("without Retry-After the backoff doubles with jitter and is capped") {
  gt::RetryPolicy policy{.max_retries = 10, .base_delay = 1000ms, .max_backoff = 5000ms};
  // factor = 0.5 + jitter/2: jitter 0 -> 0.5, jitter 1 -> 1.0
  CHECK(gt::decide_after_response(status(429), 1, Idempotency::kUnsafe, policy, kNow, [] {
          return 0.0;
        }).delay == 500ms);
  CHECK(gt::decide_after_response(status(429), 2, Idempotency::kUnsafe, policy, kNow, [] {
          return 1.0;
        }).delay == 2000ms);
  CHECK(
      gt::decide_after_response(status(503), 3, Idempotency::kUnsafe, policy, kNow, kHalf).delay ==
      3000ms);
  CHECK(
      gt::decide_after_response(status(503), 8, Idempotency::kUnsafe, policy, kNow, kHalf).delay ==
      5000ms);
}

TEST_CASE("retries stop after max_retries") {
  gt::RetryPolicy policy{.max_retries = 2};
  CHECK(gt::decide_after_response(status(429, "1"), 2, Idempotency::kUnsafe, policy, kNow, kHalf)
            .verdict == RetryVerdict::kRetry);
  CHECK(gt::decide_after_response(status(429, "1"), 3, Idempotency::kUnsafe, policy, kNow, kHalf)
            .verdict == RetryVerdict::kGiveUp);
  gt::RetryPolicy none{.max_retries = 0};
  CHECK(
      gt::decide_after_response(status(503), 1, Idempotency::kUnsafe, none, kNow, kHalf).verdict ==
      RetryVerdict::kGiveUp);
}

TEST_CASE("504 is retried only when the request is idempotent") {
  gt::RetryPolicy policy;
  CHECK(gt::decide_after_response(status(504, "1"), 1, Idempotency::kUnsafe, policy, kNow, kHalf)
            .verdict == RetryVerdict::kUnknown);
  CHECK(
      gt::decide_after_response(status(504, "1"), 1, Idempotency::kIdempotent, policy, kNow, kHalf)
          .verdict == RetryVerdict::kRetry);
}

TEST_CASE("other statuses are final") {
  gt::RetryPolicy policy;
  for (int code : {400, 401, 403, 404, 409, 413, 415, 500, 502}) {
    CAPTURE(code);
    CHECK(gt::decide_after_response(status(code, "1"), 1, Idempotency::kIdempotent, policy, kNow,
                                    kHalf)
              .verdict == RetryVerdict::kGiveUp);
  }
}

TEST_CASE("transport failures: retried only when nothing was written and it may pass") {
  gt::RetryPolicy policy;
  struct Case {
    gt::TransportFailure failure;
    bool written;
    Idempotency idem;
    RetryVerdict expected;
  };
  using F = gt::TransportFailure;
  const Case cases[] = {
      {F::kConnectRefused, false, Idempotency::kUnsafe, RetryVerdict::kRetry},
      {F::kConnectFailed, false, Idempotency::kUnsafe, RetryVerdict::kRetry},
      {F::kConnectionLost, false, Idempotency::kUnsafe, RetryVerdict::kRetry},
      {F::kTimeout, false, Idempotency::kUnsafe, RetryVerdict::kRetry},
      {F::kConnectionLost, true, Idempotency::kUnsafe, RetryVerdict::kUnknown},
      {F::kTimeout, true, Idempotency::kUnsafe, RetryVerdict::kUnknown},
      {F::kTooLarge, true, Idempotency::kUnsafe, RetryVerdict::kUnknown},
      {F::kConnectionLost, true, Idempotency::kIdempotent, RetryVerdict::kRetry},
      {F::kDns, false, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
      {F::kTlsUntrusted, false, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
      {F::kTlsExpired, false, Idempotency::kIdempotent, RetryVerdict::kGiveUp},
      {F::kTlsHostMismatch, false, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
      {F::kTlsSelfSigned, false, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
      {F::kInterrupted, true, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
      {F::kLocal, false, Idempotency::kUnsafe, RetryVerdict::kGiveUp},
  };
  for (const auto& c : cases) {
    CAPTURE(gt::failure_name(c.failure));
    CAPTURE(c.written);
    gt::TransportError e;
    e.failure = c.failure;
    e.request_bytes_written = c.written;
    CHECK(gt::decide_after_transport_error(e, 1, c.idem, policy, kHalf).verdict == c.expected);
  }
}

TEST_CASE("delays read naturally") {
  CHECK(gt::format_delay(250ms) == "250 ms");
  CHECK(gt::format_delay(2000ms) == "2 s");
  CHECK(gt::format_delay(2128ms) == "2.1 s");
  CHECK(gt::format_delay(185000ms) == "3 min 5 s");
}
