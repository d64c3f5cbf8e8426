// gt/clock: time as a seam. Retry waits (Retry-After, backoff) and deadlines go through a Clock so
// that tests can record every wait without ever sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gt {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  // Calendar time, for HTTP-dates in Retry-After and token expiry.
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  // Waits for `d`. Returns false if the wait was cut short by an interrupt (SIGINT).
  virtual bool sleep_for(duration d) = 0;
};

// The real clock: steady_clock, and sleeps that wake early when gt::interrupted() turns true.
class SystemClock final : public Clock {
 public:
  time_point now() override;
  std::chrono::system_clock::time_point wall_now() override;
  bool sleep_for(duration d) override;
};

// "2026-11-27T15:00:00Z": seconds since the epoch as the UTC timestamps Graph and Entra use.
std::string utc_timestamp(std::int64_t epoch_seconds);
std::string utc_timestamp(std::chrono::system_clock::time_point t);

}  // namespace gt
