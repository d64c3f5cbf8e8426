// Fuzzes decode_thread_page (a page of GET /groups/{id}/threads): never crashes; every thread's
// raw_json is itself a complete JSON value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto page = gt::decode_thread_page(body);
  if (!page) {
    GT_FUZZ_CHECK(page.error().kind == gt::ErrorKind::kGraph);
    return 0;
  }
  for (const auto& thread : page->threads) {
    GT_FUZZ_CHECK(gt::is_complete_json(thread.raw_json));
  }
  return 0;
}
