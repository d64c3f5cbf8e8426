#include "gt/json_id_scan.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "gt/json_codec.hpp"

using namespace gt;

namespace {

// What the exact parser gives: the id of decode_created_thread, "" when that fails.
std::string exact_id(const std::string& body) {
  const Result<CreatedThread> r = decode_created_thread(body);
  return r ? r->id : std::string();
}

const char* const kGraphAnswer =
    R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups('g')/threads/$entity",)"
    R"("id":"AAQkADBmYjI1ZjE0LWJlbmNoAAAQAAAA=","topic":"Wartung heute \u00fcber Nacht",)"
    R"("hasAttachments":false,"lastDeliveredDateTime":"2026-11-27T12:00:00Z",)"
    R"("uniqueSenders":["Bench Bot","Zoë Ünal"],"preview":"Line one\r\nLine \"two\"",)"
    R"("isLocked":false,"size":-12.5,"count":0,"nested":{"a":[1,[2,{"b":null}],true],"id":"no"}})";

}  // namespace

TEST_CASE("scan_created_id is sure of the common shapes of a created thread") {
  // The Graph answer as it is (with a \u escape), and with the character written as UTF-8.
  std::string graph = kGraphAnswer;
  graph.replace(graph.find("\\u00fcber"), 9,
                "\xC3\xBC"
                "ber");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {graph, "AAQkADBmYjI1ZjE0LWJlbmNoAAAQAAAA="},
      {kGraphAnswer, "AAQkADBmYjI1ZjE0LWJlbmNoAAAQAAAA="},
      {R"({"preview":"caf\u00E9 \ud83d\ude00 \u0041\u0000","id":"x"})", "x"},
      {R"({"id":"a"})", "a"},
      {" \t\r\n{ \"id\" : \"a\" } \n", "a"},
      {R"({"ID":"upper"})", "upper"},
      {R"({"id":"first","id":"last"})", "last"},
      {R"({"Id":"a","id":"b","Id":"c"})", "c"},
      {R"({"Id":5,"id":"b"})", ""},
      {R"({"id":"a","id":null})", ""},
      {R"({"id":"a","id":{}})", ""},
      {R"({"id":"a","id":[]})", ""},
      {R"({"id":"a","id":{"x":"y"}})", ""},
      {R"({"id":["a"]})", ""},
      {R"({"id":{"id":"nested"}})", ""},
      {R"({"x":[{"id":"n"}],"id":"top"})", "top"},
      {R"({"id":"top","x":{"id":"n"}})", "top"},
      {R"({"id":""})", ""},
      {R"({})", ""},
      {R"({"topic":"no id"})", ""},
      {R"({"n":[0,-0,1.5,-12.25,123456789012345678],"t":true,"f":false,"z":null,"id":"x"})", "x"},
      {R"({"s":"tab\tquote\"slash\/back\\bfnr\b\f\n\r","id":"x"})", "x"},
      {"{\"id\":\"\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\xED\x9F\xBF\xF4\x8F\xBF\xBF\"}",
       "\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\xED\x9F\xBF\xF4\x8F\xBF\xBF"},
  };
  for (const auto& [body, id] : cases) {
    CAPTURE(body);
    const CreatedIdScan scan = scan_created_id(body);
    CHECK(scan.sure);
    CHECK(scan.id == id);
    CHECK(exact_id(body) == id);  // the table itself agrees with the exact parser
  }
}

TEST_CASE("scan_created_id is unsure outside its subset and of anything that is not JSON") {
  std::string deep17 = "{\"id\":\"a\",\"d\":";
  for (int i = 0; i < 16; ++i) deep17 += "[";
  for (int i = 0; i < 16; ++i) deep17 += "]";
  deep17 += "}";
  const std::vector<std::string> cases = {
      R"({"t":"\ud800","id":"x"})",             // a lone high surrogate
      R"({"t":"\udc00","id":"x"})",             // a lone low surrogate
      R"({"t":"\ud83d\u0041","id":"x"})",       // a high surrogate, then no low one
      R"({"t":"\ud83d"})",                      // a high surrogate at the end of the string
      R"({"t":"\u12G4"})",                      // not four hex digits
      R"({"t":"\u12"})",                        // cut short
      R"({"id":"\u0061"})",                     // the id needs unescaping
      R"({"\u0069d":"escaped key"})",           // a top-level key that might unescape to "id"
      R"({"i\"d":"x","id":"y"})",               // any escape in a top-level key
      R"({"id":"a\"b"})",                       // the id needs unescaping
      R"({"n":1e5,"id":"x"})",                  // an exponent
      R"({"n":1234567890123456789,"id":"x"})",  // 19 digits
      deep17,                                   // 17 levels
      "{\"id\":\"a\",\"t\":\"\xFF\"}",          // not UTF-8
      "{\"t\":\"\xC0\xAF\"}",                   // overlong
      "{\"t\":\"\xED\xA0\x80\"}",               // a surrogate
      "{\"t\":\"\xF4\x90\x80\x80\"}",           // above U+10FFFF
      "{\"t\":\"\xE2\x82\"}",                   // cut short
      "{\"t\":\"a\x01\"}",                      // a control character
      R"({"t":"\x"})",                          // not an escape
      R"({"id":"a"} x)",
      R"({"id":"a",})",
      R"({"id":"a"/*c*/})",
      R"({"id" "a"})",
      R"({"id":"a")",
      R"({"id":"a)",
      R"({"id":tru})",
      R"({"n":01})",
      R"({"n":-})",
      R"({"n":1.})",
      R"({"a":[1,]})",
      R"({"a":[1}})",
      R"({"a":{"b":1]})",
      R"({id:"a"})",
      R"(["id","a"])",
      R"("id")",
      "5",
      "",
      "\xEF\xBB\xBF{\"id\":\"a\"}",
  };
  for (const std::string& body : cases) {
    CAPTURE(body);
    CHECK_FALSE(scan_created_id(body).sure);
  }
}

TEST_CASE("scan_created_id never disagrees with the exact parser on damaged answers") {
  // Every prefix of a real answer, and every byte of it replaced by each of a set of bytes that
  // matter to JSON: where the scanner is sure, it must give what the exact parser gives.
  // The answer with its character as UTF-8, as it is (a \u escape), and with an emoji escaped as
  // a surrogate pair.
  std::string utf8 = kGraphAnswer;
  utf8.replace(utf8.find("\\u00fcber"), 9,
               "\xC3\xBC"
               "ber");
  std::string pair = kGraphAnswer;
  pair.replace(pair.find("\\u00fcber"), 9, "\\ud83d\\ude00");
  std::string bytes =
      "{}[]\":,\\ \t\n0-.eE1tfnuxdD8cC\x01\x7F"
      "\x80\xC3\xED\xF4\xFF";
  bytes.push_back('\0');
  int sure = 0;
  int checked = 0;
  const auto check = [&](const std::string& body) {
    const CreatedIdScan scan = scan_created_id(body);
    ++checked;
    if (!scan.sure) return;
    ++sure;
    if (scan.id != exact_id(body)) {
      CAPTURE(body);
      FAIL("the scanner was sure of a different id");
    }
  };
  for (const std::string& answer : {utf8, std::string(kGraphAnswer), pair}) {
    REQUIRE(scan_created_id(answer).sure);
    for (std::size_t n = 0; n <= answer.size(); ++n) check(answer.substr(0, n));
    for (std::size_t i = 0; i < answer.size(); ++i) {
      for (const char b : bytes) {
        std::string body = answer;
        body[i] = b;
        check(body);
      }
    }
  }
  // The check is only worth something if the scanner was sure of many of the variants.
  CHECK(sure > checked / 10);
}
