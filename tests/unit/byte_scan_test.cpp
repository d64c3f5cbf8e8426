// gt/byte_scan: the word-at-a-time scans give what the byte loops they replace give, for every
// byte value at every position of strings around the 8-byte word size.
#include "gt/byte_scan.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

bool has_cr_lf_or_nul_slow(std::string_view s) {
  for (const char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

bool all_field_text_slow(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!(c == '\t' || (c >= 0x20 && c != 0x7f))) return false;
  }
  return true;
}

std::size_t json_plain_prefix_slow(std::string_view s) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return i;
}

}  // namespace

TEST_CASE("byte scans agree with byte loops for every byte at every position") {
  // Up to 40 bytes: the sixteen-byte steps, the eight-byte steps after them and the byte tail.
  for (std::size_t length = 0; length <= 40; ++length) {
    for (std::size_t at = 0; at < std::max<std::size_t>(length, 1); ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(length, 'a');
        if (length > 0) s[at] = static_cast<char>(b);
        CAPTURE(length);
        CAPTURE(at);
        CAPTURE(b);
        CHECK(gt::has_cr_lf_or_nul(s) == has_cr_lf_or_nul_slow(s));
        CHECK(gt::json_plain_prefix(s) == json_plain_prefix_slow(s));
        CHECK(gt::all_field_text(s) == all_field_text_slow(s));
      }
    }
  }
  // Two special bytes in one word, the later one found first by nothing.
  const std::string two = std::string("abc\x01") + "de\"fgh";
  CHECK(gt::json_plain_prefix(two) == 3);
  const std::string high = "abcdefgh\xC3\xA9xyz";
  CHECK(gt::json_plain_prefix(high) == 8);
  CHECK(gt::has_cr_lf_or_nul(std::string_view("0123456789\r", 11)));
  CHECK_FALSE(gt::has_cr_lf_or_nul("a plain header value of some length"));
  CHECK(gt::all_field_text("tabs\tand obs-text \xC3\xA9 are fine\t"));
  CHECK_FALSE(gt::all_field_text("a DEL \x7f after eight"));
}
