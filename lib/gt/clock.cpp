#include "gt/clock.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

#include "gt/interrupt.hpp"

namespace gt {

Clock::time_point SystemClock::now() {
  return std::chrono::steady_clock::now();
}

std::chrono::system_clock::time_point SystemClock::wall_now() {
  return std::chrono::system_clock::now();
}

bool SystemClock::sleep_for(duration d) {
  // Sleep in short slices so that Ctrl-C during a Retry-After wait is noticed promptly.
  const auto end = now() + d;
  while (!interrupted()) {
    const auto left = end - now();
    if (left <= duration::zero()) return true;
    std::this_thread::sleep_for(std::min<duration>(left, std::chrono::milliseconds(50)));
  }
  return false;
}

std::string utc_timestamp(std::int64_t epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  return utc_timestamp(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace gt
