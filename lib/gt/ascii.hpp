// gt/ascii: case folding for protocol text — header and JSON property names, schemes, host names,
// proxy variables. Only A-Z change, whatever the locale (the program never sets one, and what
// these compare is ASCII by definition). One copy for everything that used to keep its own.
#pragma once

#include <string>
#include <string_view>

namespace gt {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `s` with A-Z turned into a-z.
inline std::string ascii_lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Whether `a` and `b` are equal but for the case of ASCII letters.
constexpr bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace gt
