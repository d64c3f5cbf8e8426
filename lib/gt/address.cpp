#include "gt/address.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gt {
namespace {

constexpr std::string_view kExpected =
    R"(expected an email address like a@b.example or "Name <a@b.example>")";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// C0, DEL, and C1 (U+0080..U+009F, which UTF-8 encodes as 0xC2 0x80..0x9F).
bool has_control_char(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && !is_space(s[i])) return true;
    if (c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

// Echoes user text back inside double quotes, escaping what would make the message ambiguous or
// unprintable.
std::string quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Non-ASCII bytes are allowed so that internationalized domains typed in Unicode pass; Graph
// decides whether it can route them.
std::string domain_problem(std::string_view domain) {
  if (domain.empty()) return "empty domain";
  if (domain.find('.') == std::string_view::npos) return "domain without a dot";
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "empty label in the domain";
    if (label.front() == '-' || label.back() == '-') {
      return "domain label starts or ends with '-'";
    }
    for (char c : label) {
      if (!is_ascii_alnum(c) && c != '-' && static_cast<unsigned char>(c) < 0x80) {
        return std::string("invalid character '") + c + "' in the domain";
      }
    }
    if (dot == std::string_view::npos) return "";
    start = dot + 1;
  }
}

// Strips the quotes of a quoted display name and undoes \" and \\ inside it.
std::optional<std::string> unquote_name(std::string_view name) {
  if (name.size() < 2 || name.back() != '"') return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < name.size(); ++i) {
    if (name[i] == '\\' && i + 2 < name.size()) {
      out += name[++i];
    } else if (name[i] == '"') {
      return std::nullopt;
    } else {
      out += name[i];
    }
  }
  return out;
}

struct Split {
  std::optional<std::string> name;
  std::string_view address;
  std::string problem;  // non-empty when the "Name <address>" structure itself is broken
};

// Splits `Name <address>` / `"Name" <address>` / `<address>` / `address`.
Split split_name_and_address(std::string_view text) {
  Split out;
  const std::size_t open = text.find('<');
  const std::size_t close = text.find('>');
  if (open == std::string_view::npos) {
    if (close != std::string_view::npos) out.problem = "unbalanced '>'";
    out.address = text;
    return out;
  }
  if (close == std::string_view::npos || close < open) {
    out.problem = "unbalanced '<'";
    return out;
  }
  if (text.find('<', open + 1) != std::string_view::npos ||
      text.find('>', close + 1) != std::string_view::npos) {
    out.problem = "more than one '<' or '>'";
    return out;
  }
  if (!trim(text.substr(close + 1)).empty()) {
    out.problem = "text after '>'";
    return out;
  }
  out.address = trim(text.substr(open + 1, close - open - 1));
  const std::string_view name = trim(text.substr(0, open));
  if (name.empty()) return out;
  if (has_control_char(name)) {
    out.problem = "control character in the name";
  } else if (name.front() == '"') {
    out.name = unquote_name(name);
    if (!out.name) out.problem = "unbalanced quotes in the name";
  } else if (name.find(',') != std::string_view::npos) {
    // "a@b.example, Bob <bob@c.example>" is two recipients in one flag, not a name with a comma.
    out.problem = "comma in an unquoted name; quote the name or give one recipient per flag";
  } else if (name.find('"') != std::string_view::npos) {
    out.problem = "unbalanced quotes in the name";
  } else {
    out.name = std::string(name);
  }
  if (out.name && trim(*out.name).empty()) out.name.reset();
  return out;
}

// Unquoted, a name loses surrounding whitespace when parsed back (parse_recipient trims it).
bool name_needs_quotes(std::string_view name) {
  return name.find_first_of(",;:<>@\"\\") != std::string_view::npos ||
         (!name.empty() && (is_space(name.front()) || is_space(name.back())));
}

}  // namespace

std::string address_problem(std::string_view address) {
  if (address.empty()) return "empty";
  if (has_control_char(address)) return "control character in the address";
  for (char c : address) {
    if (is_space(c)) return "whitespace in the address";
    if (c == ',') return "comma in the address";
    if (c == '<' || c == '>') return "angle bracket in the address";
    if (c == '"') return "quote in the address";
  }
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos) return "missing '@'";
  if (address.find('@', at + 1) != std::string_view::npos) return "more than one '@'";
  if (at == 0) return "empty local part";
  return domain_problem(address.substr(at + 1));
}

Result<Recipient> parse_recipient(std::string_view text, std::string_view what) {
  auto fail = [&](std::string_view reason) {
    std::string message(what);
    message += ' ';
    message += quoted(text);
    message += ": ";
    message += kExpected;
    message += " (";
    message += reason;
    message += ')';
    return Error::usage(std::move(message));
  };
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) return fail("empty");
  Split split = split_name_and_address(trimmed);
  if (!split.problem.empty()) return fail(split.problem);
  if (const std::string problem = address_problem(split.address); !problem.empty()) {
    return fail(problem);
  }
  return Recipient{EmailAddress{std::string(split.address), std::move(split.name)}};
}

std::string format_recipient(const Recipient& r) {
  const EmailAddress& e = r.email_address;
  if (!e.name || e.name->empty()) return e.address;
  if (!name_needs_quotes(*e.name)) return *e.name + " <" + e.address + ">";
  std::string out = "\"";
  for (char c : *e.name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\" <" + e.address + ">";
}

}  // namespace gt
