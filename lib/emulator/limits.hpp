// emulator/limits: Outlook-like admission control, keyed by bearer token (the whole Authorization
// header value; requests without one share the key ""). Pure: no sockets, no timers; the clock is
// injected, so tests step time by hand. The server asks admit() once per request and holds the
// returned Lease while the request is being served; it waits latency() itself, asynchronously.
//
//   max_concurrent  requests of one key in flight at once (Outlook: 4 per app). The N+1th gets
//                   kOverConcurrency until one finishes (its Lease is released).
//   throttle        a token bucket per key: `rate.requests` tokens, refilled evenly over
//                   `rate.period`. A request without a token gets kOverRate with Retry-After =
//                   the whole seconds (at least 1) until a request would be admitted again.
//
// A rejected request costs nothing: it takes no slot and no token. Concurrency is checked first.
//
// Memory: one small entry per key seen; entries that are idle (nothing in flight, bucket full) are
// dropped when the table grows, so a long-running emulator fed ever new tokens stays bounded by the
// number of keys active at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gt/error.hpp"
#include "gt/http.hpp"

namespace gt::emulator {

// `requests` per `period`; requests == 0 means "no rate limit".
struct Rate {
  std::uint64_t requests = 0;
  std::chrono::milliseconds period{1000};
};

// "10/s", "600/min", "36000/h" (also "/sec", "/m", "/hour"). Fails (kUsage) on anything else,
// on 0 and on absurd values (more than a million per period).
Result<Rate> parse_rate(std::string_view text);

struct LimitOptions {
  std::chrono::milliseconds latency{0};  // service time added to every admitted request
  std::size_t max_concurrent = 0;        // per key; 0: unlimited
  Rate throttle;                         // per key; requests == 0: unlimited

  bool any() const { return latency.count() > 0 || max_concurrent > 0 || throttle.requests > 0; }
};

enum class Verdict {
  kAdmitted,
  kOverConcurrency,  // answer 429 "ApplicationThrottled" (Outlook's MailboxConcurrency)
  kOverRate,         // answer 429 "TooManyRequests"
};

class Limits {
  struct Entry;

 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  // Holds one concurrency slot of a key until destroyed (or release()d). Move-only. An empty
  // Lease (rejected requests, or a default-constructed one) holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    void release();

   private:
    friend class Limits;
    Lease(Limits* owner, Entry* entry) : owner_(owner), entry_(entry) {}
    Limits* owner_ = nullptr;
    Entry* entry_ = nullptr;
  };

  struct Admission {
    Verdict verdict = Verdict::kAdmitted;
    // For rejections: the Retry-After to send, in whole seconds, at least 1. Zero when admitted.
    std::chrono::seconds retry_after{0};
    Lease lease;  // admitted: the slot to hold while serving
  };

  // `now` defaults to the steady clock. Thread-safe.
  explicit Limits(LimitOptions options, Now now = Clock::now);
  ~Limits();  // REQUIRES: every Lease has been released.
  Limits(const Limits&) = delete;
  Limits& operator=(const Limits&) = delete;

  const LimitOptions& options() const { return options_; }
  std::chrono::milliseconds latency() const { return options_.latency; }

  // Decides whether a request of `key` may be served now, and takes its slot and token if so.
  Admission admit(std::string_view key);

  // Keys currently tracked (for tests of the memory bound).
  std::size_t tracked_keys() const;

 private:
  struct Entry {
    std::size_t in_flight = 0;
    // Token bucket as GCRA: the time at which the bucket would be full again. A request is
    // admitted when that time, after adding this request's share, is at most one period ahead.
    Clock::time_point full_at{};
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void release(Entry* entry);
  void sweep_idle(Clock::time_point now);
  Clock::duration emission_interval() const;

  const LimitOptions options_;
  const Now now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;
  std::size_t sweep_at_;
};

// The answer the server sends for a rejection: 429 with Retry-After and Graph's error envelope
// ("ApplicationThrottled" / "Application is over its MailboxConcurrency limit." or
// "TooManyRequests" / "Please retry again later.").
// REQUIRES: admission.verdict != kAdmitted.
HttpResponse throttled_response(const Limits::Admission& admission, const HttpRequest& request);

}  // namespace gt::emulator
