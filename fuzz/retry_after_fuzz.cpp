// Fuzzes parse_retry_after (the Retry-After header): never crashes and never negative; delta
// seconds are bounded by a year.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/retry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  // 2026-11-27T15:00:00Z, and the real clock.
  const std::chrono::system_clock::time_point fixed{std::chrono::seconds{1795791600}};
  for (const auto now : {fixed, std::chrono::system_clock::now()}) {
    const auto delay = gt::parse_retry_after(value, now);
    if (delay) GT_FUZZ_CHECK(delay->count() >= 0);
  }
  return 0;
}
