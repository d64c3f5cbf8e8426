#include "gt/clock.hpp"

#include <algorithm>
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

}  // namespace gt
