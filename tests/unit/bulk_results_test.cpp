#include "gt/bulk_results.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace gt {
namespace {

namespace json = boost::json;

ItemResult created(std::size_t index, std::string group, std::string id) {
  ItemResult r;
  r.index = index;
  r.group = std::move(group);
  r.outcome = Outcome::kCreated;
  r.status = 201;
  r.id = std::move(id);
  r.attempts = 1;
  return r;
}

ItemResult failed(std::size_t index, std::string group, std::string message) {
  ItemResult r;
  r.index = index;
  r.group = std::move(group);
  r.outcome = Outcome::kFailed;
  r.error.message = std::move(message);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Outcome

TEST_CASE("result: outcome names and back") {
  const std::vector<std::pair<Outcome, std::string>> names = {{Outcome::kCreated, "created"},
                                                              {Outcome::kFailed, "failed"},
                                                              {Outcome::kUnknown, "unknown"},
                                                              {Outcome::kSkipped, "skipped"}};
  for (const auto& [outcome, name] : names) {
    CHECK(outcome_name(outcome) == name);
    CHECK(parse_outcome(name) == outcome);
  }
  CHECK_FALSE(parse_outcome("Created").has_value());
  CHECK_FALSE(parse_outcome("").has_value());
}

TEST_CASE("result: item_error takes what a result line needs from an Error") {
  Error e(ErrorKind::kOutcomeUnknown, "no answer", "check the group");
  e.code = "C";
  e.request_id = "r";
  e.client_request_id = "c";
  e.http_status = 504;
  const ItemError ie = item_error(e);
  CHECK(ie.code == "C");
  CHECK(ie.message == "no answer");
  CHECK(ie.request_id == "r");
  CHECK(ie.client_request_id == "c");
  CHECK(ie.kind == ErrorKind::kOutcomeUnknown);
}

// ---------------------------------------------------------------------------------------------
// encode_result_line

TEST_CASE("result: result lines have a fixed key order and omit what is empty") {
  ItemResult full = created(7, "g-1", "AAQk=");
  full.topic = "Q3";
  full.attempts = 2;
  full.reconciled = true;
  full.resent = true;

  ItemResult unknown;
  unknown.index = 2;
  unknown.group = "g";
  unknown.outcome = Outcome::kUnknown;
  unknown.attempts = 1;
  unknown.error = {.code = "", .message = "no answer", .request_id = "", .client_request_id = "c1"};

  ItemResult graph_error = failed(3, "g", "Access denied");
  graph_error.status = 403;
  graph_error.attempts = 1;
  graph_error.error.code = "ErrorAccessDenied";
  graph_error.error.request_id = "r1";
  graph_error.error.client_request_id = "c1";

  ItemResult skipped;
  skipped.index = 4;
  skipped.group = "g";
  skipped.outcome = Outcome::kSkipped;
  skipped.id = "old";
  skipped.error.message = "not written for skipped";

  ItemResult empty_failure;
  empty_failure.index = 5;

  struct Case {
    const char* name;
    ItemResult result;
    std::string line;
  };
  const std::vector<Case> cases = {
      {"created, everything", full,
       R"({"index":7,"group":"g-1","outcome":"created","status":201,"id":"AAQk=","topic":"Q3",)"
       R"("attempts":2,"reconciled":true,"resent":true})"},
      {"created, plain", created(0, "g", "id0"),
       R"({"index":0,"group":"g","outcome":"created","status":201,"id":"id0","attempts":1})"},
      {"unknown", unknown,
       R"({"index":2,"group":"g","outcome":"unknown","attempts":1,)"
       R"("error":{"message":"no answer","clientRequestId":"c1"}})"},
      {"failed at Graph", graph_error,
       R"({"index":3,"group":"g","outcome":"failed","status":403,"attempts":1,"error":)"
       R"({"code":"ErrorAccessDenied","message":"Access denied","requestId":"r1",)"
       R"("clientRequestId":"c1"}})"},
      {"failed input", failed(1, "", "item 1 (line 2): no group"),
       R"({"index":1,"group":"","outcome":"failed","error":{"message":"item 1 (line 2): no group"}})"},
      {"skipped has no error", skipped,
       R"({"index":4,"group":"g","outcome":"skipped","id":"old"})"},
      {"failed with nothing known", empty_failure,
       R"({"index":5,"group":"","outcome":"failed","error":{}})"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(encode_result_line(c.result) == c.line);
  }
}

TEST_CASE("result: any string content gives a valid JSON line that parses back") {
  const std::vector<std::string> strings = {
      "plain",
      "quote \" backslash \\ slash /",
      std::string("nul \0 and bell \a", 16),
      "line\nbreak\r\ttab \x1b[31mred\x1b[0m",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",  // é € 😀
      "\xC2\x85 next line, \x7F del",
      "\xE2\x80\xA8 line separator",
  };
  for (const std::string& s : strings) {
    CAPTURE(s);
    ItemResult r = failed(1, s, s);
    r.id = s;
    r.topic = s;
    r.error.code = s;
    r.error.request_id = s;
    r.error.client_request_id = s;
    const std::string line = encode_result_line(r);
    CHECK(line.find('\n') == std::string::npos);
    json::error_code ec;
    const json::value v = json::parse(line, ec);
    REQUIRE_FALSE(ec);
    const json::object& o = v.as_object();
    CHECK(o.at("group").as_string() == s);
    CHECK(o.at("id").as_string() == s);
    CHECK(o.at("topic").as_string() == s);
    const json::object& e = o.at("error").as_object();
    for (const char* key : {"code", "message", "requestId", "clientRequestId"}) {
      CHECK(e.at(key).as_string() == s);
    }
  }
}

TEST_CASE("result: strings are escaped byte for byte as Boost.JSON escapes them") {
  std::string ascii;
  for (int c = 0; c < 0x80; ++c) ascii += static_cast<char>(c);
  const std::vector<std::string> strings = {
      "",
      "plain",
      ascii,
      "quote \" backslash \\ slash /",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
      "\xC2\x85 next line, \x7F del",
      "\x1b[31mred\x1b[0m\r\n",
  };
  for (const std::string& s : strings) {
    CAPTURE(s);
    ItemResult r = created(0, "g", "id");
    r.topic = s.empty() ? "x" : s;
    const std::string expected = "\"topic\":" + json::serialize(json::string(r.topic)) + ",";
    CHECK(encode_result_line(r).find(expected) != std::string::npos);
  }
}

TEST_CASE("result: bytes that are not UTF-8 become U+FFFD, so the line stays valid JSON") {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {std::string("a\xFF") + "b", std::string("a\xEF\xBF\xBD") + "b"},
      {"\xC3", "\xEF\xBF\xBD"},                                  // cut short at the end
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong '/'
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // a surrogate
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF
      {std::string("\xE2\x82") + "x", std::string("\xEF\xBF\xBD\xEF\xBF\xBD") + "x"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    ItemResult r = created(0, c.in, "id");
    const std::string line = encode_result_line(r);
    json::error_code ec;
    const json::value v = json::parse(line, ec);
    REQUIRE_FALSE(ec);
    CHECK(v.at("group").as_string() == c.out);
  }
}

// ---------------------------------------------------------------------------------------------
// read_resume_file

Result<ResumeSet> resume_from(const std::string& text) {
  std::istringstream in(text);
  return read_resume_file(in, "--resume results.ndjson");
}

TEST_CASE("resume: created and skipped items are not sent again") {
  ItemResult unknown = failed(2, "g-1", "no answer");
  unknown.outcome = Outcome::kUnknown;
  ItemResult skipped;
  skipped.index = 3;
  skipped.group = "g-2";
  skipped.outcome = Outcome::kSkipped;
  skipped.id = "id3";
  const std::string text = encode_result_line(created(0, "g-1", "id0")) + "\n" +
                           encode_result_line(failed(1, "g-1", "bad")) + "\n" +
                           encode_result_line(unknown) + "\n" + encode_result_line(skipped) + "\n" +
                           encode_result_line(created(4, "g-1", "")) + "\n";
  const Result<ResumeSet> set = resume_from(text);
  REQUIRE(set.ok());
  CHECK(set->size() == 3);
  CHECK(set->lines() == 5);
  CHECK_FALSE(set->truncated_last_line());
  CHECK(set->find(0) == ResumeEntry{"g-1", "id0"});
  CHECK_FALSE(set->find(1).has_value());
  CHECK_FALSE(set->find(2).has_value());
  CHECK(set->find(3) == ResumeEntry{"g-2", "id3"});
  CHECK(set->find(4) == ResumeEntry{"g-1", ""});  // 201 without an id: still created
  CHECK_FALSE(set->find(5).has_value());
}

TEST_CASE("resume: blank lines, CRLF, a BOM, extra keys and no final line break are fine") {
  const Result<ResumeSet> set = resume_from(
      "\xEF\xBB\xBF{\"index\":0,\"group\":\"g\",\"outcome\":\"created\",\"id\":\"a\"}\r\n"
      "\r\n"
      "  \n"
      "{\"outcome\":\"created\",\"index\":1,\"future\":[1,2],\"id\":\"b\",\"group\":\"g\"}");
  REQUIRE(set.ok());
  CHECK(set->lines() == 2);
  CHECK_FALSE(set->truncated_last_line());
  CHECK(set->find(0) == ResumeEntry{"g", "a"});
  CHECK(set->find(1) == ResumeEntry{"g", "b"});
}

TEST_CASE("resume: a created line wins over others for the same index") {
  const Result<ResumeSet> set =
      resume_from(R"({"index":0,"group":"g","outcome":"failed","error":{}})"
                  "\n"
                  R"({"index":0,"group":"g","outcome":"created","id":"first"})"
                  "\n"
                  R"({"index":0,"group":"g","outcome":"skipped","id":"second"})"
                  "\n"
                  R"({"index":0,"group":"g","outcome":"unknown","error":{}})"
                  "\n");
  REQUIRE(set.ok());
  CHECK(set->size() == 1);
  CHECK(set->find(0) == ResumeEntry{"g", "first"});
}

TEST_CASE("resume: a last line cut short by a crash is ignored and flagged") {
  const std::string good = encode_result_line(created(0, "g", "id0")) + "\n";
  const std::string next = encode_result_line(created(1, "g", "id1"));
  // Every cut of the last line, down to its first byte.
  for (std::size_t cut = 1; cut < next.size(); ++cut) {
    CAPTURE(next.substr(0, cut));
    const Result<ResumeSet> set = resume_from(good + next.substr(0, cut));
    REQUIRE(set.ok());
    CHECK(set->truncated_last_line());
    CHECK(set->size() == 1);
    CHECK_FALSE(set->find(1).has_value());
  }
  // Complete but for the line break: read.
  const Result<ResumeSet> whole = resume_from(good + next);
  REQUIRE(whole.ok());
  CHECK_FALSE(whole->truncated_last_line());
  CHECK(whole->find(1) == ResumeEntry{"g", "id1"});
}

TEST_CASE("resume: a line that is not a result line is an error naming it") {
  const std::string good = encode_result_line(created(0, "g", "id0")) + "\n";
  struct Case {
    const char* name;
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"garbage", good + "hello world\n" + good,
       "--resume results.ndjson line 2: not a result line: not JSON (syntax error): hello world"},
      {"cut short but followed by a line break", good + "{\"index\":1,\"gro\n",
       "--resume results.ndjson line 2: not a result line: not JSON (incomplete JSON): "
       "{\"index\":1,\"gro"},
      {"garbage as the last line without a line break", good + "hello",
       "--resume results.ndjson line 2: not a result line: not JSON (syntax error): hello"},
      {"not an object", "[1]\n",
       "--resume results.ndjson line 1: not a result line: not a JSON "
       "object: [1]"},
      {"no index", R"({"outcome":"created"})",
       "--resume results.ndjson line 1: not a result "
       R"(line: no "index": {"outcome":"created"})"},
      {"negative index", R"({"index":-1,"outcome":"created"})",
       R"(--resume results.ndjson line 1: not a result line: "index" is not a non-negative )"
       R"(integer: {"index":-1,"outcome":"created"})"},
      {"fractional index", R"({"index":1.5,"outcome":"created"})",
       R"(--resume results.ndjson line 1: not a result line: "index" is not a non-negative )"
       R"(integer: {"index":1.5,"outcome":"created"})"},
      {"no outcome", R"({"index":1})",
       R"(--resume results.ndjson line 1: not a result line: no "outcome": {"index":1})"},
      {"bad outcome", R"({"index":1,"outcome":"done"})",
       R"(--resume results.ndjson line 1: not a result line: "outcome" is not one of created, )"
       R"(failed, unknown, skipped: {"index":1,"outcome":"done"})"},
      {"id not a string", R"({"index":1,"outcome":"created","id":5})",
       R"(--resume results.ndjson line 1: not a result line: "id" is not a string: )"
       R"({"index":1,"outcome":"created","id":5})"},
      {"control characters are not echoed", "\x1b[2Jbad\x07\n",
       "--resume results.ndjson line 1: not a result line: not JSON (syntax error): ?[2Jbad?"},
      {"a long line is cut in the message", good + std::string(200, 'x') + "\n",
       "--resume results.ndjson line 2: not a result line: not JSON (syntax error): " +
           std::string(80, 'x') + "…"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Result<ResumeSet> set = resume_from(c.text);
    REQUIRE_FALSE(set.ok());
    CHECK(set.error().kind == ErrorKind::kUsage);
    CHECK(set.error().message == c.message);
  }
}

TEST_CASE("resume: an empty file resumes nothing") {
  const Result<ResumeSet> set = resume_from("");
  REQUIRE(set.ok());
  CHECK(set->size() == 0);
  CHECK(set->lines() == 0);
  CHECK_FALSE(set->truncated_last_line());
}

TEST_CASE("resume: reads back what encode_result_line wrote, for many items") {
  std::string text;
  for (std::size_t i = 0; i < 1000; ++i) {
    ItemResult r = i % 3 == 0 ? failed(i, "g" + std::to_string(i % 2), "x")
                              : created(i, "g" + std::to_string(i % 2), "id" + std::to_string(i));
    text += encode_result_line(r) + "\n";
  }
  const Result<ResumeSet> set = resume_from(text);
  REQUIRE(set.ok());
  CHECK(set->lines() == 1000);
  CHECK(set->size() == 666);
  for (std::size_t i = 0; i < 1000; ++i) {
    CAPTURE(i);
    if (i % 3 == 0) {
      CHECK_FALSE(set->find(i).has_value());
    } else {
      CHECK(set->find(i) == ResumeEntry{"g" + std::to_string(i % 2), "id" + std::to_string(i)});
    }
  }
}

}  // namespace
}  // namespace gt
