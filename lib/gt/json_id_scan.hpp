// gt/json_id_scan: the fast path of decode_created_thread_id. Bulk creation reads the id of every
// created thread; running Boost.JSON's full parser over each ~400-byte answer was ~3.9k
// instructions a request, most of it in the parser's per-token machinery.
//
// scan_created_id reads the body once, checking it as it goes, and gives an answer only when it is
// sure that decode_created_thread_id's exact parser would give the same one: the body is a JSON
// object, every byte of it was checked against the JSON grammar, and nothing in it is outside the
// common subset this scanner handles. Outside that subset it says "unsure" and the caller runs the
// exact parser. Unsure, never wrong, for:
//  - a document that is not valid JSON or not an object (the exact parser decides what that gives);
//  - a \u escape that is a lone or misplaced UTF-16 surrogate, and any escape where it matters
//    (in a top-level key, which might spell "id", or in the id's value). Other escapes, \u
//    included, are checked and accepted (JSON writers such as OData's may escape every character
//    outside ASCII, so a real answer often has some);
//  - numbers with an exponent or more than 18 digits (parsers differ on where such numbers
//    overflow);
//  - nesting deeper than 16 (the exact parser's limit is 32);
//  - byte sequences that are not well-formed UTF-8 (the exact parser rejects them).
// When sure, the id follows decode_created_thread_id's rules: the first top-level key equal to
// "id" in any case, with the last value given for that exact key; "" when that value is not a
// string or when no such key exists.
#pragma once

#include <string_view>

namespace gt {

struct CreatedIdScan {
  bool sure = false;    // false: run the exact parser
  std::string_view id;  // when sure: the id (a view into the body), or "" for none
};

CreatedIdScan scan_created_id(std::string_view body);

}  // namespace gt
