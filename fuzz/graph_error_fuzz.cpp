// Fuzzes decode_graph_error (Graph's error envelope on a 4xx/5xx answer): never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)gt::decode_graph_error(body);
  return 0;
}
