// Test support: unsigned JWT-shaped tokens with a chosen payload.
#pragma once

#include <string>
#include <string_view>

namespace gt::test {

inline std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

// header.payload.signature with a fixed RS256 header and a fake signature.
inline std::string make_jwt(std::string_view payload_json) {
  return base64url(R"({"typ":"JWT","alg":"RS256"})") + "." + base64url(payload_json) +
         ".c2lnbmF0dXJl";
}

}  // namespace gt::test
