#include "gt/uuid.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <random>

namespace gt {

std::string new_uuid() {
  // random_device is getrandom(2) on Linux; it only seeds a fast generator, because a
  // client-request-id needs uniqueness, not secrecy.
  static std::mutex mu;
  static std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  std::array<std::uint8_t, 16> b{};
  {
    std::lock_guard<std::mutex> lock(mu);
    const std::uint64_t hi = gen();
    const std::uint64_t lo = gen();
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<std::uint8_t>(hi >> (8 * i));
      b[8 + i] = static_cast<std::uint8_t>(lo >> (8 * i));
    }
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  char text[36];  // written in place, then copied once: one of these goes with every request
  std::size_t at = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[at++] = '-';
    text[at++] = kHex[b[i] >> 4];
    text[at++] = kHex[b[i] & 0x0f];
  }
  return std::string(text, sizeof text);
}

bool looks_like_guid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_pos ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace gt
