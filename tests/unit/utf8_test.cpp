#include "gt/utf8.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

// Decode-then-check reference: the sequence a lead byte announces, its continuation bytes, and
// the code point it spells not being overlong, a surrogate or above U+10FFFF.
std::size_t reference_length(const std::string& s) {
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (len > s.size()) return 0;
  unsigned cp = c & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return len;
}

}  // namespace

TEST_CASE("utf8_sequence_length agrees with decoding for every lead and second byte") {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (const std::string tail : {"", "\x80", "\x80\xBF", "A"}) {
        const std::string s =
            std::string(1, static_cast<char>(a)) + std::string(1, static_cast<char>(b)) + tail;
        CAPTURE(a);
        CAPTURE(b);
        CAPTURE(tail.size());
        REQUIRE(gt::utf8_sequence_length(s, 0) == reference_length(s));
      }
    }
  }
  CHECK(gt::utf8_sequence_length("\xE2\x82", 0) == 0);  // cut short
  CHECK(gt::invalid_utf8_at("ok \xC3\xA9 \xF0\x9F\x98\x80") == std::string::npos);
  CHECK(gt::invalid_utf8_at("ok \xC0\xAF") == 3);
  CHECK(gt::invalid_utf8_at("\xED\xA0\x80") == 0);  // a surrogate
}
