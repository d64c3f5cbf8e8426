// Fuzzes decode_thread_request (create --input, stdin): never crashes, and a thread that decodes
// encodes to JSON that decodes again to the same request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto decoded = gt::decode_thread_request(json, "fuzz");
  if (!decoded) {
    GT_FUZZ_CHECK(!decoded.error().message.empty());
    return 0;
  }
  const std::string encoded = gt::encode_thread_request(decoded->request);
  auto again = gt::decode_thread_request(encoded, "re-encoded");
  GT_FUZZ_CHECK(again.ok());
  GT_FUZZ_CHECK(gt::encode_thread_request(again->request) == encoded);
  return 0;
}
