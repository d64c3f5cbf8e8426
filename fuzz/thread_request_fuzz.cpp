// Fuzzes decode_thread_request (create --input, stdin): never crashes, and a thread that decodes
// encodes to JSON that decodes again to the same request. And bulk creation's fast path,
// decode_plain_thread_request, takes only documents the full decoder finds nothing wrong with,
// and decodes those to the same request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  gt::ThreadRequest plain;
  if (gt::decode_plain_thread_request(json, plain)) {
    gt::DecodedThread full;
    GT_FUZZ_CHECK(gt::decode_thread_request_issues(json, full).empty());
    GT_FUZZ_CHECK(full.dropped.empty());
    GT_FUZZ_CHECK(gt::encode_thread_request(plain) == gt::encode_thread_request(full.request));
  }
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
