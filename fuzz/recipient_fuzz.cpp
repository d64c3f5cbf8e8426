// Fuzzes parse_recipient (--to, --cc, JSON recipients): never crashes, and a parsed recipient
// formats to text that parses back to the same recipient.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = gt::parse_recipient(text, "--to");
  if (!parsed) return 0;
  const std::string formatted = gt::format_recipient(*parsed);
  auto again = gt::parse_recipient(formatted, "formatted");
  GT_FUZZ_CHECK(again.ok());
  GT_FUZZ_CHECK(*again == *parsed);
  return 0;
}
