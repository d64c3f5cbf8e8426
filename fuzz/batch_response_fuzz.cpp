// Fuzzes decode_batch_response (the answer to POST /$batch): never crashes; a decoded inner body
// is "" or a complete JSON value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/batch.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto answers = gt::decode_batch_response(body);
  if (!answers) {
    GT_FUZZ_CHECK(answers.error().kind == gt::ErrorKind::kGraph);
    return 0;
  }
  for (const auto& answer : *answers) {
    GT_FUZZ_CHECK(answer.response.body.empty() || gt::is_complete_json(answer.response.body));
  }
  return 0;
}
