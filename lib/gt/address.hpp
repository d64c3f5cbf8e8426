// gt/address: turns what a user types after --to/--cc/--participant into a Graph recipient.
//
// Accepted forms:
//   a@b.example                  -> {address}
//   Name <a@b.example>           -> {name, address}
//   "Last, First" <a@b.example>  -> quotes around the display name are removed
//   <a@b.example>                -> {address}
// The address must have exactly one '@', a non-empty local part, a domain made of dot-separated
// labels (letters, digits, '-'), and no spaces, angle brackets, commas or control characters.
// Deliberately not RFC 5322 in full: Graph rejects exotic forms anyway, and a typo such as
// "a@b" or "a@@b.c" is far more likely than a quoted local part.
#pragma once

#include <string>
#include <string_view>

#include "gt/error.hpp"
#include "gt/model.hpp"

namespace gt {

// Parses one recipient; surrounding whitespace is ignored and an empty display name ("" or none)
// leaves `name` unset. On failure returns a kUsage error whose message starts with `what` (the
// flag or JSON path the text came from), followed by the text as given and the reason, e.g.
//   --to "bob@": expected an email address like a@b.example or "Name <a@b.example>" (empty domain)
// An unquoted name containing a comma is rejected ("a@b.c, Bob <bob@c.d>" is two recipients).
Result<Recipient> parse_recipient(std::string_view text, std::string_view what);

// Checks a bare address (no display name). Returns an empty string when valid, otherwise a short
// reason ("empty", "missing '@'", "empty domain", ...).
std::string address_problem(std::string_view address);

// "Name <a@b.c>" or "a@b.c": the form used in tables and messages. A name with characters that
// need it (",;:<>@\"") or with whitespace at either end is quoted, so the result parses back
// with parse_recipient to the same recipient.
std::string format_recipient(const Recipient& r);

}  // namespace gt
