// gt/byte_scan: scans over short strings, many bytes a step, for the per-request checks that run
// on every header and every result line of a bulk run (a byte-by-byte loop there was ~2k
// instructions a request). Sixteen bytes a step with SSE2 where the compiler targets it (every
// x86-64), then eight with word-at-a-time bit tricks (SWAR): for a 64-bit word v,
// (v - 0x01..01) & ~v & 0x80..80 is non-zero exactly when some byte of v is zero, so
// "some byte equals c" is that test on v ^ (c * 0x01..01). Each function gives exactly what the
// obvious byte loop gives.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gt {

namespace byte_scan_detail {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

inline std::uint64_t load(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// High bit set in each byte that is zero (bytes above the first zero byte may be flagged
// falsely, which only matters for finding the position, not for "any").
inline std::uint64_t zero_bytes(std::uint64_t v) {
  return (v - kOnes) & ~v & kHighs;
}
inline std::uint64_t equal_bytes(std::uint64_t v, unsigned char c) {
  return zero_bytes(v ^ (kOnes * c));
}
// High bit set in each byte below n (n <= 128): same caveat.
inline std::uint64_t below_bytes(std::uint64_t v, unsigned char n) {
  return (v - kOnes * n) & ~v & kHighs;
}

}  // namespace byte_scan_detail

// Whether `s` holds a CR, an LF or a NUL: the bytes that would end or split an HTTP header line.
// Runs on thirteen strings a bulk request, most of them short, so the bytes after the last
// 16-byte step are never looked at one by one: a word is first tested for any byte below 0x0E
// (one subtraction; header text has none) and looked at closely only then, the last word
// overlaps the one before it, and 4 to 7 bytes are read as two 4-byte halves.
inline bool has_cr_lf_or_nul(std::string_view s) {
  using namespace byte_scan_detail;
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes a step: a bearer token alone is one to two kilobytes, checked every request.
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i nul = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                                      _mm_cmpeq_epi8(v, nul));
    if (_mm_movemask_epi8(hits) != 0) return true;
  }
#endif
  const auto hit = [](std::uint64_t v) {
    return below_bytes(v, 0x0E) != 0 &&
           (equal_bytes(v, '\r') | equal_bytes(v, '\n') | zero_bytes(v)) != 0;
  };
  if (i == n) return false;
  if (n >= 8) {
    for (; i + 8 < n; i += 8) {
      if (hit(load(p + i))) return true;
    }
    return hit(load(p + n - 8));
  }
  if (n >= 4) {
    std::uint32_t first;
    std::uint32_t last;
    std::memcpy(&first, p, sizeof first);
    std::memcpy(&last, p + n - 4, sizeof last);
    return hit(std::uint64_t{first} | std::uint64_t{last} << 32);
  }
  for (; i < n; ++i) {
    if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') return true;
  }
  return false;
}

// Whether every byte of `s` may appear in an HTTP field value or reason phrase: HTAB, SP to '~',
// and obs-text (0x80 to 0xFF); that is, no control character other than HTAB and no DEL.
inline bool all_field_text(std::string_view s) {
  using namespace byte_scan_detail;
  const auto ok = [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t v = load(s.data() + i);
    // Bytes of 0x80 and above pass below_bytes (their high bit is masked out by ~v).
    if ((below_bytes(v, 0x20) | equal_bytes(v, 0x7f)) == 0) continue;
    for (std::size_t k = i; k < i + 8; ++k) {  // a control byte, or a tab: look closer
      if (!ok(static_cast<unsigned char>(s[k]))) return false;
    }
  }
  for (; i < s.size(); ++i) {
    if (!ok(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// The length of the longest prefix of `s` that a JSON string can hold as it is: no control
// character (below 0x20), no '"', no '\\', and only ASCII (bytes from 0x80 need a UTF-8 check).
inline std::size_t json_plain_prefix(std::string_view s) {
  using namespace byte_scan_detail;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time where every x86-64 has the instructions. As signed bytes, both the
  // control characters (0 to 0x1F) and the bytes from 0x80 (negative) are below 0x20.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
    }
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t v = load(s.data() + i);
    const std::uint64_t hits =
        below_bytes(v, 0x20) | (v & kHighs) | equal_bytes(v, '"') | equal_bytes(v, '\\');
    if (hits != 0) {
      // The lowest flagged byte is a true one (false flags only follow a true one), and on a
      // little-endian machine the lowest byte of the word is the first in memory.
      if constexpr (std::endian::native == std::endian::little) {
        return i + static_cast<std::size_t>(std::countr_zero(hits)) / 8;
      }
      break;  // find it byte by byte
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return i;
}

}  // namespace gt
