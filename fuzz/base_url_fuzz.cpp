// Fuzzes parse_base_url (--base-url, GRAPH_BASE_URL): never crashes; a parsed URL's origin plus
// path prefix parses back to the same BaseUrl.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = gt::parse_base_url(text, "--base-url");
  if (!url) return 0;
  GT_FUZZ_CHECK(url->scheme == "https" || url->scheme == "http");
  GT_FUZZ_CHECK(url->path_prefix.empty() || url->path_prefix.back() != '/');
  auto again = gt::parse_base_url(url->origin() + url->path_prefix, "origin");
  GT_FUZZ_CHECK(again.ok());
  GT_FUZZ_CHECK(*again == *url);
  return 0;
}
