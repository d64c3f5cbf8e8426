// Fuzzes decode_created_thread (a 2xx body from Graph): never crashes; raw_json is the input; and
// decode_created_thread_id (bulk creation's DOM-free reading) finds exactly the id it finds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto created = gt::decode_created_thread(body);
  GT_FUZZ_CHECK(gt::decode_created_thread_id(body) == (created ? created->id : std::string()));
  if (created) {
    GT_FUZZ_CHECK(created->raw_json == body);
  } else {
    GT_FUZZ_CHECK(created.error().kind == gt::ErrorKind::kGraph);
  }
  return 0;
}
