// Fuzzes ItemReader (NDJSON or one JSON array, create --input) and decode_bulk_item over every
// item. The first byte picks the read chunk size (1..64) so items straddle reads. Invariants:
// every item gets the next index, memory stays within the documented bound, and a decoded item's
// thread re-encodes to JSON that decodes again.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_check.hpp"
#include "gt/item_reader.hpp"
#include "gt/json_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = static_cast<std::size_t>(data[0] % 64) + 1;
  constexpr std::size_t kMaxItem = 4096;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  gt::ItemReader reader(in, "fuzz", kMaxItem, chunk);
  std::size_t expected_index = 0;
  while (auto raw = reader.next()) {
    GT_FUZZ_CHECK(raw->index == expected_index);
    ++expected_index;
    GT_FUZZ_CHECK(raw->line >= 1);
    GT_FUZZ_CHECK(raw->ok() || raw->text.empty());
    GT_FUZZ_CHECK(raw->text.size() <= kMaxItem);
    auto item = gt::decode_bulk_item(*raw, expected_index % 2 ? "default-group" : "");
    if (!item) continue;
    GT_FUZZ_CHECK(item->index == raw->index);
    GT_FUZZ_CHECK(!item->group.empty());
    const std::string encoded = gt::encode_thread_request(item->thread);
    GT_FUZZ_CHECK(gt::decode_thread_request(encoded, "re-encoded").ok());
  }
  GT_FUZZ_CHECK(reader.items_read() == expected_index);
  GT_FUZZ_CHECK(!reader.next());
  GT_FUZZ_CHECK(reader.buffered_bytes_high_water() <= chunk + kMaxItem + 16);
  return 0;
}
