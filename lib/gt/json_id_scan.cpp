#include "gt/json_id_scan.hpp"

#include <cstdint>
#include <cstring>

#include "gt/ascii.hpp"
#include "gt/byte_scan.hpp"
#include "gt/utf8.hpp"

namespace gt {

namespace {

constexpr int kMaxDepth = 16;
constexpr int kMaxNumberDigits = 18;

class Scanner {
 public:
  explicit Scanner(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}

  // Reads the whole document; false when unsure.
  bool run() {
    skip_ws();
    if (p_ == end_ || *p_ != '{') return false;
    if (!value()) return false;
    skip_ws();
    return p_ == end_;
  }

  std::string_view id() const { return id_is_string_ ? id_ : std::string_view(); }

 private:
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // One value of any kind, at p_ (whitespace skipped already). Containers are read iteratively
  // with a bit per level saying whether it is an array.
  bool value() {
    std::uint32_t arrays = 0;  // bit d: the container at depth d+1 is an array
    int depth = 0;
    for (;;) {
      // A value starts here.
      if (p_ == end_) return false;
      const char c = *p_;
      if (c == '{' || c == '[') {
        if (++depth > kMaxDepth) return false;
        const bool array = c == '[';
        if (array) {
          arrays |= 1u << (depth - 1);
        } else {
          arrays &= ~(1u << (depth - 1));
        }
        ++p_;
        skip_ws();
        if (p_ != end_ && *p_ == (array ? ']' : '}')) {
          ++p_;
          --depth;
          if (depth == 1) top_level_value_not_string();
        } else {
          if (!array && !member_key(depth)) return false;
          continue;  // its first value
        }
      } else if (c == '"') {
        std::string_view s;
        bool escaped = false;
        if (!string(s, escaped)) return false;
        if (depth == 1 && tracking_) {
          if (escaped) return false;  // the id itself would need unescaping
          id_ = s;
          id_is_string_ = true;
          tracking_ = false;
        }
      } else {
        if (!scalar()) return false;
        if (depth == 1) top_level_value_not_string();
      }
      // After a value: a comma and the next one, or the ends of containers.
      for (;;) {
        if (depth == 0) return true;
        skip_ws();
        if (p_ == end_) return false;
        const bool array = (arrays >> (depth - 1)) & 1u;
        if (*p_ == ',') {
          ++p_;
          skip_ws();
          if (!array && !member_key(depth)) return false;
          break;
        }
        if (*p_ != (array ? ']' : '}')) return false;
        ++p_;
        --depth;
        if (depth == 1) top_level_value_not_string();
      }
    }
  }

  // At a key of an object at `depth`: reads it, the colon, and the whitespace before the value.
  bool member_key(int depth) {
    if (p_ == end_ || *p_ != '"') return false;
    std::string_view key;
    bool escaped = false;
    if (!string(key, escaped)) return false;
    if (depth == 1) {
      if (escaped) return false;  // it might unescape to "id"
      tracking_ = false;
      if (key.size() == 2 && ascii_iequals(key, "id")) {
        if (!have_id_key_) {
          have_id_key_ = true;
          id_key_ = key;
        }
        tracking_ = key == id_key_;
      }
    }
    skip_ws();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    skip_ws();
    return true;
  }

  void top_level_value_not_string() {
    if (!tracking_) return;
    id_ = {};
    id_is_string_ = false;
    tracking_ = false;
  }

  // At '"': reads the string; `s` is its raw text between the quotes.
  bool string(std::string_view& s, bool& escaped) {
    const char* start = ++p_;
    for (;;) {
      p_ += json_plain_prefix(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        s = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\') {
        const std::size_t n = escape_length();
        if (n == 0) return false;
        escaped = true;
        p_ += n;
      } else if (c >= 0x80) {
        const std::size_t n =
            utf8_sequence_length(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), 0);
        if (n == 0) return false;
        p_ += n;
      } else {
        return false;  // a control character
      }
    }
  }

  // The length of the escape at p_ (a backslash): 2 for \" \\ \/ \b \f \n \r \t, 6 for a \u that
  // is not a surrogate, 12 for a high surrogate followed by a low one (a character beyond U+FFFF,
  // such as an emoji); 0 for anything else, which the exact parser then judges.
  std::size_t escape_length() const {
    const std::ptrdiff_t left = end_ - p_;
    if (left < 2) return 0;
    if (p_[1] != 'u') return p_[1] != '\0' && std::strchr("\"\\/bfnrt", p_[1]) != nullptr ? 2 : 0;
    const int first = hex4(2);
    if (first < 0) return 0;
    if (first < 0xD800 || first > 0xDFFF) return 6;
    if (first > 0xDBFF || left < 12 || p_[6] != '\\' || p_[7] != 'u') return 0;
    const int second = hex4(8);
    return second >= 0xDC00 && second <= 0xDFFF ? 12 : 0;
  }

  // The four hex digits at p_ + at as a number, -1 if they are not four hex digits.
  int hex4(std::ptrdiff_t at) const {
    if (end_ - p_ < at + 4) return -1;
    int value = 0;
    for (std::ptrdiff_t i = at; i < at + 4; ++i) {
      const char h = p_[i];
      int digit = -1;
      if (h >= '0' && h <= '9') digit = h - '0';
      if (h >= 'a' && h <= 'f') digit = h - 'a' + 10;
      if (h >= 'A' && h <= 'F') digit = h - 'A' + 10;
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  // A number (no exponent, at most kMaxNumberDigits digits) or true/false/null.
  bool scalar() {
    const auto literal = [&](std::string_view word) {
      if (static_cast<std::size_t>(end_ - p_) < word.size() ||
          std::memcmp(p_, word.data(), word.size()) != 0) {
        return false;
      }
      p_ += word.size();
      return true;
    };
    switch (*p_) {
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool number() {
    const auto digit = [&] { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; };
    int digits = 0;
    if (*p_ == '-') ++p_;
    if (!digit()) return false;
    if (*p_ == '0') {
      ++p_;
      ++digits;
    } else {
      while (digit()) ++p_, ++digits;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digit()) return false;
      while (digit()) ++p_, ++digits;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) return false;
    return digits <= kMaxNumberDigits;
  }

  const char* p_;
  const char* const end_;
  bool have_id_key_ = false;
  std::string_view id_key_;  // the first top-level key equal to "id" in any case
  bool tracking_ = false;    // the value being read is id_key_'s
  std::string_view id_;
  bool id_is_string_ = false;
};

}  // namespace

CreatedIdScan scan_created_id(std::string_view body) {
  Scanner scanner(body);
  if (!scanner.run()) return {};
  return {true, scanner.id()};
}

}  // namespace gt
