// emulator/limits without sockets or waiting: the clock is a variable the tests move.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "emulator/limits.hpp"

namespace {

using namespace std::chrono_literals;
using gt::emulator::LimitOptions;
using gt::emulator::Limits;
using gt::emulator::Rate;
using gt::emulator::Verdict;

// A clock that only moves when told to.
struct ManualClock {
  Limits::Clock::time_point t{std::chrono::hours(1000)};
  Limits::Now now() {
    return [this] { return t; };
  }
};

gt::HttpRequest request_with_client_id(std::string id) {
  gt::HttpRequest r;
  r.method = "POST";
  r.target = "/v1.0/groups/x/threads";
  r.headers = {{"client-request-id", std::move(id)}};
  return r;
}

}  // namespace

TEST_SUITE("emulator: limits") {
  TEST_CASE("parse_rate: N/s, N/min, N/h, everything else is a usage error") {
    struct Case {
      const char* text;
      std::uint64_t requests;
      std::chrono::milliseconds period;
    };
    for (const Case& c :
         {Case{"10/s", 10, 1s}, Case{"1/sec", 1, 1s}, Case{"600/min", 600, 1min},
          Case{"5/m", 5, 1min}, Case{"36000/h", 36000, 1h}, Case{"1000000/hour", 1000000, 1h}}) {
      INFO(c.text);
      const auto rate = gt::emulator::parse_rate(c.text);
      REQUIRE(rate.ok());
      CHECK(rate->requests == c.requests);
      CHECK(rate->period == c.period);
    }
    for (const char* bad : {"", "10", "10/", "/s", "0/s", "-1/s", "1.5/s", "10/d", "10 /s",
                            "1000001/s", "99999999999999999999999/s"}) {
      INFO(bad);
      const auto rate = gt::emulator::parse_rate(bad);
      REQUIRE_FALSE(rate.ok());
      CHECK(rate.error().kind == gt::ErrorKind::kUsage);
      CHECK(rate.error().message.find(std::string("\"") + bad + "\"") != std::string::npos);
    }
  }

  TEST_CASE("no limits: everything is admitted and nothing is tracked") {
    Limits limits(LimitOptions{});
    for (int i = 0; i < 100; ++i) CHECK(limits.admit("Bearer a").verdict == Verdict::kAdmitted);
    CHECK(limits.tracked_keys() == 0);
  }

  TEST_CASE("max_concurrent: the N+1th in flight is refused until a lease is released") {
    ManualClock clock;
    Limits limits({.latency = 2500ms, .max_concurrent = 2}, clock.now());
    auto first = limits.admit("Bearer a");
    auto second = limits.admit("Bearer a");
    REQUIRE(first.verdict == Verdict::kAdmitted);
    REQUIRE(second.verdict == Verdict::kAdmitted);
    const auto third = limits.admit("Bearer a");
    CHECK(third.verdict == Verdict::kOverConcurrency);
    CHECK(third.retry_after == 3s);  // one service time, rounded up
    // Another token has slots of its own.
    CHECK(limits.admit("Bearer b").verdict == Verdict::kAdmitted);
    first.lease.release();
    CHECK(limits.admit("Bearer a").verdict == Verdict::kAdmitted);
  }

  TEST_CASE("max_concurrent: a lease frees its slot when destroyed or moved from") {
    Limits limits({.max_concurrent = 1});
    {
      auto held = limits.admit("k");
      REQUIRE(held.verdict == Verdict::kAdmitted);
      Limits::Lease moved = std::move(held.lease);
      CHECK(limits.admit("k").verdict == Verdict::kOverConcurrency);
      Limits::Lease assigned;
      assigned = std::move(moved);
      CHECK(limits.admit("k").verdict == Verdict::kOverConcurrency);
    }
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
  }

  TEST_CASE("max_concurrent without latency: Retry-After is still at least 1") {
    Limits limits({.max_concurrent = 1});
    auto held = limits.admit("k");
    const auto refused = limits.admit("k");
    CHECK(refused.verdict == Verdict::kOverConcurrency);
    CHECK(refused.retry_after == 1s);
  }

  TEST_CASE("throttle: a burst of N, then one per period/N, Retry-After in whole seconds") {
    ManualClock clock;
    Limits limits({.throttle = Rate{.requests = 2, .period = 1s}}, clock.now());
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    auto refused = limits.admit("k");
    CHECK(refused.verdict == Verdict::kOverRate);
    CHECK(refused.retry_after == 1s);  // 500 ms, rounded up
    clock.t += 499ms;
    CHECK(limits.admit("k").verdict == Verdict::kOverRate);
    clock.t += 1ms;
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    CHECK(limits.admit("k").verdict == Verdict::kOverRate);
    // Refusals cost nothing: after a full period the whole burst is back.
    clock.t += 1s;
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    CHECK(limits.admit("k").verdict == Verdict::kOverRate);
    // Other tokens have buckets of their own.
    CHECK(limits.admit("other").verdict == Verdict::kAdmitted);
  }

  TEST_CASE("throttle: Retry-After is the wait until the next admission, rounded up") {
    ManualClock clock;
    Limits limits({.throttle = Rate{.requests = 1, .period = 1min}}, clock.now());
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
    CHECK(limits.admit("k").retry_after == 60s);
    clock.t += 10500ms;
    CHECK(limits.admit("k").retry_after == 50s);  // 49.5 s
    clock.t += 49500ms;
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);
  }

  TEST_CASE("concurrency is checked first, a concurrency refusal takes no token") {
    ManualClock clock;
    Limits limits({.max_concurrent = 1, .throttle = Rate{.requests = 2, .period = 1s}},
                  clock.now());
    auto held = limits.admit("k");
    REQUIRE(held.verdict == Verdict::kAdmitted);
    for (int i = 0; i < 5; ++i) CHECK(limits.admit("k").verdict == Verdict::kOverConcurrency);
    held.lease.release();
    CHECK(limits.admit("k").verdict == Verdict::kAdmitted);  // the second token
    CHECK(limits.admit("k").verdict == Verdict::kOverRate);
  }

  TEST_CASE("idle keys are forgotten when the table grows, keys in flight are kept") {
    ManualClock clock;
    Limits limits({.max_concurrent = 1, .throttle = Rate{.requests = 1, .period = 1s}},
                  clock.now());
    auto busy = limits.admit("busy");
    REQUIRE(busy.verdict == Verdict::kAdmitted);
    for (int i = 0; i < 5000; ++i) {
      CHECK(limits.admit("token-" + std::to_string(i)).verdict == Verdict::kAdmitted);
      clock.t += 1ms;  // each key's bucket is full again a second after its request
    }
    CHECK(limits.tracked_keys() < 2100);
    // The busy key survived every sweep: its slot is still taken.
    CHECK(limits.admit("busy").verdict == Verdict::kOverConcurrency);
  }

  TEST_CASE("throttled_response: Graph's envelope, codes and Retry-After") {
    Limits limits({.max_concurrent = 1});
    auto held = limits.admit("k");
    const auto concurrency = limits.admit("k");
    const gt::HttpResponse busy =
        gt::emulator::throttled_response(concurrency, request_with_client_id("c-1"));
    CHECK(busy.status == 429);
    CHECK(busy.header("Retry-After") == "1");
    CHECK(busy.header("client-request-id") == "c-1");
    CHECK(busy.body.find(R"("code":"ApplicationThrottled")") != std::string::npos);
    CHECK(busy.body.find("Application is over its MailboxConcurrency limit.") != std::string::npos);

    Limits::Admission rate;
    rate.verdict = Verdict::kOverRate;
    rate.retry_after = 7s;
    const gt::HttpResponse throttled =
        gt::emulator::throttled_response(rate, request_with_client_id("c-2"));
    CHECK(throttled.status == 429);
    CHECK(throttled.header("Retry-After") == "7");
    CHECK(throttled.body.find(R"("code":"TooManyRequests")") != std::string::npos);
  }
}
