#include "gt/item_reader.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace gt {
namespace {

// Every item as one string: "index@line text" or "index@line ! error".
std::vector<std::string> items_of(const std::string& input, std::size_t chunk,
                                  std::size_t max_item_bytes = kDefaultMaxItemBytes) {
  std::istringstream in(input);
  ItemReader reader(in, "stdin", max_item_bytes, chunk);
  std::vector<std::string> out;
  while (std::optional<RawItem> item = reader.next()) {
    std::string head = std::to_string(item->index) + "@" + std::to_string(item->line);
    out.push_back(item->ok() ? head + " " + item->text : head + " ! " + item->error);
    if (out.size() > 1000) break;  // a reader that never ends should fail, not hang
  }
  CHECK_FALSE(reader.next().has_value());  // and stays at the end
  return out;
}

// The same input read in chunks of 1, 2, 3 and 5 bytes and in one chunk must split the same way:
// every item and every state of the scanner is split across reads somewhere.
std::vector<std::string> items_in_any_chunks(const std::string& input,
                                             std::size_t max_item_bytes = kDefaultMaxItemBytes) {
  const std::vector<std::string> whole = items_of(input, kDefaultReadChunkBytes, max_item_bytes);
  for (std::size_t chunk : {1, 2, 3, 5}) {
    CAPTURE(chunk);
    CHECK(items_of(input, chunk, max_item_bytes) == whole);
  }
  return whole;
}

InputFormat format_of(const std::string& input) {
  std::istringstream in(input);
  ItemReader reader(in, "stdin");
  (void)reader.next();
  return reader.format();
}

using Items = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// NDJSON

TEST_CASE("item reader: NDJSON lines are items, blank lines, CRLF and a BOM are tolerated") {
  struct Case {
    const char* name;
    std::string input;
    Items expected;
  };
  const std::vector<Case> cases = {
      {"two lines", "{\"a\":1}\n{\"b\":2}\n", {"0@1 {\"a\":1}", "1@2 {\"b\":2}"}},
      {"no final line break", "{\"a\":1}\n{\"b\":2}", {"0@1 {\"a\":1}", "1@2 {\"b\":2}"}},
      {"blank and whitespace-only lines are not items",
       "\n  \n{\"a\":1}\n\t\n\n{\"b\":2}\n\n",
       {"0@3 {\"a\":1}", "1@6 {\"b\":2}"}},
      {"CRLF", "{\"a\":1}\r\n\r\n{\"b\":2}\r\n", {"0@1 {\"a\":1}", "1@3 {\"b\":2}"}},
      {"BOM", "\xEF\xBB\xBF{\"a\":1}\n{}\n", {"0@1 {\"a\":1}", "1@2 {}"}},
      {"BOM and CRLF and blank lines", "\xEF\xBB\xBF\r\n{\"a\":1}\r\n \r\n", {"0@2 {\"a\":1}"}},
      {"surrounding whitespace is trimmed", "  {\"a\": 1}  \t\n", {"0@1 {\"a\": 1}"}},
      {"a line that is not JSON is still an item", "not json\n{}\n", {"0@1 not json", "1@2 {}"}},
      {"a later line starting with '[' is a line", "{}\n[1, 2]\n", {"0@1 {}", "1@2 [1, 2]"}},
      {"the start of a BOM is content", "\xEF\xBB{}\n", {"0@1 \xEF\xBB{}"}},
      {"the start of a BOM, then the end", "\xEF", {"0@1 \xEF"}},
      {"empty input", "", {}},
      {"only whitespace", "\n \r\n\t", {}},
      {"only a BOM", "\xEF\xBB\xBF", {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(items_in_any_chunks(c.input) == c.expected);
  }
}

TEST_CASE("item reader: a NDJSON line longer than the limit is a failed item, skipped") {
  const std::string input = "{\"a\":1}\n{\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n{}\n";
  CHECK(items_in_any_chunks(input, 10) ==
        Items{"0@1 {\"a\":1}", "1@2 ! item 1 (line 2): longer than the limit of 10 bytes; skipped",
              "2@3 {}"});
  // Exactly at the limit is fine, with either line break; leading blanks do not count.
  CHECK(items_in_any_chunks("{\"a\":1}\r\n  {\"b\":2}\n", 7) ==
        Items{"0@1 {\"a\":1}", "1@2 {\"b\":2}"});
  CHECK(items_in_any_chunks("{\"a\":10}\n", 7) ==
        Items{"0@1 ! item 0 (line 1): longer than the limit of 7 bytes; skipped"});
}

TEST_CASE("item reader: the first non-whitespace byte decides the format") {
  CHECK(format_of("") == InputFormat::kUnknown);
  CHECK(format_of(" \n ") == InputFormat::kUnknown);
  CHECK(format_of("{}") == InputFormat::kNdjson);
  CHECK(format_of("\n\n  [") == InputFormat::kArray);
  CHECK(format_of("\xEF\xBB\xBF[]") == InputFormat::kArray);
  CHECK(format_of("]") == InputFormat::kNdjson);
}

// ---------------------------------------------------------------------------------------------
// JSON array

TEST_CASE("item reader: array elements are handed out exactly as written") {
  struct Case {
    const char* name;
    std::string input;
    Items expected;
  };
  const std::vector<Case> cases = {
      {"empty array", "[]", {}},
      {"empty array with whitespace", " \n[ \n\t]\n\n", {}},
      {"two objects", R"([{"a":1},{"b":2}])", {R"(0@1 {"a":1})", R"(1@1 {"b":2})"}},
      {"pretty-printed, lines counted",
       "[\n  {\"a\": 1},\n  {\n    \"b\": [1, 2]\n  }\n]\n",
       {"0@2 {\"a\": 1}", "1@3 {\n    \"b\": [1, 2]\n  }"}},
      {"strings with brackets, commas and escaped quotes",
       R"([{"t":"],[{\",\\"}, {"u":"\\\"}]\""} ,{"v":"\u005d"}])",
       {R"(0@1 {"t":"],[{\",\\"})", R"(1@1 {"u":"\\\"}]\""})", R"(2@1 {"v":"\u005d"})"}},
      {"nested arrays",
       R"([[1,[2,3]],[[]], {"a":[[{}]]}])",
       {"0@1 [1,[2,3]]", "1@1 [[]]", R"(2@1 {"a":[[{}]]})"}},
      {"scalars and strings are items too",
       R"([1, "x,]" ,true,null, -2.5e3 ])",
       {"0@1 1", R"(1@1 "x,]")", "2@1 true", "3@1 null", "4@1 -2.5e3"}},
      {"a string with a line break counts the line", "[\"a\nb\",\n{}]", {"0@1 \"a\nb\"", "1@3 {}"}},
      {"BOM", "\xEF\xBB\xBF[{}]", {"0@1 {}"}},
      {"CRLF", "[\r\n{},\r\n{}\r\n]\r\n", {"0@2 {}", "1@3 {}"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Items items = items_in_any_chunks(c.input);
    CHECK(items == c.expected);
  }
}

TEST_CASE("item reader: every element's text is the JSON value it was in the array") {
  const std::string input =
      R"([{"t":"],[{\",\\","n":[1,{"x":"}"}]}, "\"]" , [[],{}], 12 ,{"e":"\u00e9\n"}])";
  boost::json::error_code ec;
  const boost::json::value whole = boost::json::parse(input, ec);
  REQUIRE_FALSE(ec);
  std::istringstream in(input);
  ItemReader reader(in, "stdin", kDefaultMaxItemBytes, 3);
  std::size_t n = 0;
  while (std::optional<RawItem> item = reader.next()) {
    REQUIRE(item->ok());
    REQUIRE(n < whole.as_array().size());
    const boost::json::value element = boost::json::parse(item->text, ec);
    CHECK_FALSE(ec);
    CHECK(element == whole.as_array()[n]);
    ++n;
  }
  CHECK(n == whole.as_array().size());
}

TEST_CASE("item reader: an array element longer than the limit is a failed item, skipped") {
  const std::string input = R"([{"a":1},{"s":"]]]],,,,{{{{\"]]]"}, {"b":[1]}, "0123456789ab", 7])";
  CHECK(items_in_any_chunks(input, 10) ==
        Items{R"(0@1 {"a":1})", "1@1 ! item 1 (line 1): longer than the limit of 10 bytes; skipped",
              R"(2@1 {"b":[1]})",
              "3@1 ! item 3 (line 1): longer than the limit of 10 bytes; skipped", "4@1 7"});
}

TEST_CASE("item reader: a structural error in the array is one failed item, then the end") {
  const std::string tail =
      " — stdin is not a valid JSON array here, so nothing after this point "
      "was read";
  struct Case {
    const char* name;
    std::string input;
    Items expected;
  };
  const std::vector<Case> cases = {
      {"missing comma",
       "[{\"a\":1} {\"b\":2}, {\"c\":3}]",
       {"0@1 {\"a\":1}",
        "1@1 ! item 1 (line 1): expected ',' or ']' after the previous element, got '{' (is "
        "a ',' missing?)" +
            tail}},
      {"missing comma between scalars",
       "[1 2]",
       {"0@1 1",
        "1@1 ! item 1 (line 1): expected ',' or ']' after the previous element, got '2' (is "
        "a ',' missing?)" +
            tail}},
      {"text after the closing bracket",
       "[{}]\n x",
       {"0@1 {}", "1@2 ! item 1 (line 2): text after the array's closing ']': 'x'" + tail}},
      {"a second array",
       "[{}] [{}]",
       {"0@1 {}", "1@1 ! item 1 (line 1): text after the array's closing ']': '['" + tail}},
      {"the end before the closing bracket",
       "[{},\n{\"a\":",
       {"0@1 {}",
        "1@2 ! item 1 (line 2): the input ended before the array opened on line 1 was closed "
        "with ']'" +
            tail}},
      {"the end after an element",
       "\n[{}",
       {"0@2 {}",
        "1@2 ! item 1 (line 2): the input ended before the array opened on line 2 was closed "
        "with ']'" +
            tail}},
      {"the end after the opening bracket",
       "[",
       {"0@1 ! item 0 (line 1): the input ended before the array opened on line 1 was closed "
        "with ']'" +
        tail}},
      {"the end inside a string",
       "[\"abc",
       {"0@1 ! item 0 (line 1): the input ended before the array opened on line 1 was closed "
        "with ']'" +
        tail}},
      {"a bracket closing a brace",
       "[{}, {\"a\":[1}], {}]",
       {"0@1 {}", "1@1 ! item 1 (line 1): '}' closes a '['" + tail}},
      {"a brace where an element belongs",
       "[}]",
       {"0@1 ! item 0 (line 1): '}' where an element belongs" + tail}},
      {"an empty element",
       "[1,,2]",
       {"0@1 1", "1@1 ! item 1 (line 1): an empty element (',' where an element belongs)" + tail}},
      {"a leading comma",
       "[,1]",
       {"0@1 ! item 0 (line 1): an empty element (',' where an element belongs)" + tail}},
      {"a trailing comma",
       "[1,\n]",
       {"0@1 1", "1@2 ! item 1 (line 2): a ',' with no element after it before ']'" + tail}},
      {"a control byte",
       "[{}\x01]",
       {"0@1 {}",
        "1@1 ! item 1 (line 1): expected ',' or ']' after the previous element, got byte 0x01 "
        "(is a ',' missing?)" +
            tail}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(items_in_any_chunks(c.input) == c.expected);
  }
}

TEST_CASE("item reader: nesting deeper than the limit ends the input") {
  const std::string deep = "[{}," + std::string(kMaxItemDepth + 1, '[') + "]";
  CHECK(items_of(deep, 7) ==
        Items{"0@1 {}",
              "1@1 ! item 1 (line 1): an element nested more than 1000 levels deep — "
              "stdin is not a valid JSON array here, so nothing after this point was "
              "read"});
  const std::string ok =
      "[" + std::string(kMaxItemDepth, '[') + std::string(kMaxItemDepth, ']') + "]";
  const Items items = items_of(ok, 7);
  REQUIRE(items.size() == 1);
  CHECK(items[0].size() == 4 + 2 * kMaxItemDepth);
}

// ---------------------------------------------------------------------------------------------
// Streaming: memory and latency

// An input that does not exist anywhere in full: `count` items made one at a time as the reader
// asks for bytes, through a small get area.
class GeneratedInput : public std::streambuf {
 public:
  GeneratedInput(std::size_t count, bool array) : count_(count), array_(array) {}
  std::size_t bytes_made() const { return made_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    area_.clear();
    while (area_.size() < 4096 && stage_ <= count_ + 1) next_piece();
    if (area_.empty()) return traits_type::eof();
    made_ += area_.size();
    setg(area_.data(), area_.data(), area_.data() + area_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  void next_piece() {
    if (stage_ == 0) {
      if (array_) area_ += "[\n";
    } else if (stage_ <= count_) {
      const std::size_t i = stage_ - 1;
      if (array_ && i > 0) area_ += ",\n";
      area_ +=
          R"({"topic":"item )" + std::to_string(i) +
          R"(","posts":[{"body":{"contentType":"text","content":"some text, [with] \"brackets\" {}"}}]})";
      if (!array_) area_ += "\n";
    } else {
      if (array_) area_ += "\n]\n";
    }
    ++stage_;
  }

  std::size_t count_;
  bool array_;
  std::size_t stage_ = 0;
  std::size_t made_ = 0;
  std::string area_;
};

TEST_CASE("item reader: 100,000 items stream through a bounded buffer") {
  constexpr std::size_t kItems = 100'000;
  constexpr std::size_t kChunk = 64 << 10;
  constexpr std::size_t kMaxItem = 4096;
  for (bool array : {false, true}) {
    CAPTURE(array);
    GeneratedInput source(kItems, array);
    std::istream in(&source);
    ItemReader reader(in, "stdin", kMaxItem, kChunk);
    std::size_t n = 0;
    while (std::optional<RawItem> item = reader.next()) {
      REQUIRE(item->ok());
      REQUIRE(item->index == n);
      if (n == 0 || n == kItems - 1) {
        CHECK(item->text.starts_with(R"({"topic":"item )" + std::to_string(n) + R"(",)"));
        CHECK(item->text.ends_with(R"(}}]})"));
        CHECK(item->line == (array ? 2 + n : 1 + n));
      }
      ++n;
    }
    CHECK(n == kItems);
    CHECK(reader.format() == (array ? InputFormat::kArray : InputFormat::kNdjson));
    CHECK(source.bytes_made() > 10'000'000);  // far more than was ever held
    CHECK(reader.buffered_bytes_high_water() <= kChunk + kMaxItem + 1);
  }
}

// Hands out fixed pieces, one per underflow, and counts how often it was asked: a pipe whose
// writer is slow.
class Pieces : public std::streambuf {
 public:
  explicit Pieces(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  std::size_t asked = 0;

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ++asked;
    if (next_ == pieces_.size()) return traits_type::eof();
    std::string& piece = pieces_[next_++];
    setg(piece.data(), piece.data(), piece.data() + piece.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::vector<std::string> pieces_;
  std::size_t next_ = 0;
};

TEST_CASE("item reader: an item is handed out without waiting for a full chunk") {
  for (bool array : {false, true}) {
    CAPTURE(array);
    Pieces source(array ? std::vector<std::string>{"[{\"a\":1}", ",{\"b\":2}", "]"}
                        : std::vector<std::string>{"{\"a\":1}\n", "{\"b\":2}\n"});
    std::istream in(&source);
    ItemReader reader(in, "stdin");
    std::optional<RawItem> first = reader.next();
    REQUIRE(first.has_value());
    CHECK(first->text == "{\"a\":1}");
    CHECK(source.asked == 1);  // the second piece was not waited for
    std::optional<RawItem> second = reader.next();
    REQUIRE(second.has_value());
    CHECK(second->text == "{\"b\":2}");
    CHECK_FALSE(reader.next().has_value());
  }
}

TEST_CASE("item reader: a stream without a buffer is read byte by byte") {
  Pieces source({"{", "\"a\"", ":1}\r", "\n", "\n", "[", "]"});
  std::istream in(&source);
  ItemReader reader(in, "stdin");
  std::vector<std::string> texts;
  while (std::optional<RawItem> item = reader.next()) texts.push_back(item->text);
  CHECK(texts == std::vector<std::string>{"{\"a\":1}", "[]"});
}

// ---------------------------------------------------------------------------------------------
// count_items

using gt::test::TempDir;

TEST_CASE("item reader: count_items counts by the same rules as reading") {
  TempDir dir;
  const std::vector<std::string> inputs = {
      "",
      "{\"a\":1}\n\n  \n{\"b\":2}\r\n{}",
      "\xEF\xBB\xBF{}\n{}\n",
      std::string(5'000'000, 'x') + "\n{}\n",  // a line over the limit is still an item
      "[]",
      " [ {\"a\":\"],\"}, [1,[2]], 3 ]\n",
      "[{}, {}",      // ends early: two items, and a failed one saying so
      "[{} {}, {}]",  // missing comma: two
      "[{}] x",       // trailing text: two
  };
  const std::vector<std::size_t> expected = {0, 3, 2, 2, 0, 3, 3, 2, 2};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    const std::string path = dir.str() + "/input" + std::to_string(i);
    std::ofstream(path, std::ios::binary) << inputs[i];
    const Result<std::size_t> counted = ItemReader::count_items(path);
    REQUIRE(counted.ok());
    CHECK(*counted == expected[i]);
    CHECK(items_of(inputs[i], kDefaultReadChunkBytes).size() == expected[i]);
  }
}

TEST_CASE("item reader: count_items fails for what is not a regular file") {
  TempDir dir;
  const Result<std::size_t> missing = ItemReader::count_items(dir.str() + "/nope.ndjson");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kUsage);
  CHECK(missing.error().message.starts_with("cannot count the items of " + dir.str() +
                                            "/nope.ndjson: "));
  const Result<std::size_t> directory = ItemReader::count_items(dir.str());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message ==
        "cannot count the items of " + dir.str() + ": not a regular file");
}

// ---------------------------------------------------------------------------------------------
// decode_bulk_item

RawItem raw(std::string text, std::size_t index = 3, std::size_t line = 4) {
  RawItem r;
  r.index = index;
  r.line = line;
  r.text = std::move(text);
  return r;
}

TEST_CASE("decode_bulk_item: a thread goes to the default group") {
  const Result<BulkItem> item = decode_bulk_item(
      raw(R"({"topic":"T","posts":[{"body":{"content":"hi"}}],"id":"x"})"), "g-default");
  REQUIRE(item.ok());
  CHECK(item->index == 3);
  CHECK(item->line == 4);
  CHECK(item->group == "g-default");
  CHECK(item->thread.topic == "T");
  REQUIRE(item->thread.posts.has_value());
  CHECK(item->thread.posts->at(0).body->content == "hi");
  CHECK(item->dropped == std::vector<std::string>{"id"});
}

TEST_CASE("decode_bulk_item: an envelope names its own group") {
  struct Case {
    const char* name;
    std::string text;
    std::string default_group;
  };
  const std::vector<Case> cases = {
      {"group first", R"({"group":"g-1","thread":{"topic":"T"}})", ""},
      {"thread first", R"({"thread":{"topic":"T"},"group":"g-1"})", ""},
      {"overrides --group", R"({"group":"g-1","thread":{"topic":"T"}})", "g-default"},
      {"keys in another case", R"( { "Group" : "g-1" , "Thread" : { "topic" : "T" } } )", ""},
      {"escaped key", R"({"gr\u006fup":"g-1","thread":{"topic":"T"}})", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Result<BulkItem> item = decode_bulk_item(raw(c.text), c.default_group);
    REQUIRE(item.ok());
    CHECK(item->group == "g-1");
    CHECK(item->thread.topic == "T");
  }
}

TEST_CASE("decode_bulk_item: thread paths inside an envelope start at \"thread\"") {
  const Result<BulkItem> ok = decode_bulk_item(
      raw(R"({"group":"g","thread":{"topic":"T","@odata.context":"x","posts":[{"id":"p"}]}})"), "");
  REQUIRE(ok.ok());
  CHECK(ok->dropped == std::vector<std::string>{"thread.@odata.context", "thread.posts[0].id"});

  const Result<BulkItem> one =
      decode_bulk_item(raw(R"({"group":"g","thread":{"topic":"T","posts":[{"bdy":{}}]}})"), "");
  REQUIRE_FALSE(one.ok());
  CHECK(one.error().kind == ErrorKind::kUsage);
  CHECK(one.error().message ==
        R"(item 3 (line 4): thread.posts[0].bdy: unknown property (did you mean "body"?))");

  const Result<BulkItem> two = decode_bulk_item(
      raw(R"({"Thread":{"topic":1,"topic":"x","isLocked":"no"},"group":"g"})"), "");
  REQUIRE_FALSE(two.ok());
  CHECK(two.error().message ==
        "invalid thread in item 3 (line 4):\n"
        "  Thread.topic: duplicate property\n"
        "  Thread.isLocked: expected true or false, got \"no\"");
}

TEST_CASE("decode_bulk_item: failures name the item and what is wrong") {
  struct Case {
    const char* name;
    std::string text;
    std::string default_group;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no group anywhere", R"({"topic":"T"})", "",
       "item 3 (line 4): no group: give --group or an envelope {\"group\":…,\"thread\":…}"},
      {"not JSON", R"({"topic":)", "g",
       "item 3 (line 4): line 1, column 10: unexpected end of input"},
      {"not JSON and no group: the syntax comes first", R"({"topic" "T"})", "",
       "item 3 (line 4): line 1, column 10: syntax error at '\"'"},
      {"not an object", "[1]", "g",
       "item 3 (line 4): expected a JSON object (a conversationThread), got an array"},
      {"thread invalid", R"({"topic":"T","isLocked":1})", "g",
       "item 3 (line 4): isLocked: expected true or false, got number 1"},
      {"envelope without thread", R"({"group":"g"})", "",
       R"(item 3 (line 4): missing "thread" (the conversationThread); an envelope is )"
       R"({"group": "ID", "thread": {…}})"},
      {"envelope without group", R"({"thread":{"topic":"T"}})", "g-default",
       R"(item 3 (line 4): missing "group" (the group's id); an envelope is )"
       R"({"group": "ID", "thread": {…}})"},
      {"empty group", R"({"group":"","thread":{}})", "",
       R"(item 3 (line 4): group: expected the group's id (a non-empty string), got "")"},
      {"blank group", R"({"group":"  ","thread":{}})", "",
       R"(item 3 (line 4): group: expected the group's id (a non-empty string), got "  ")"},
      {"group not a string", R"({"group":42,"thread":{}})", "",
       R"(item 3 (line 4): group: expected the group's id (a non-empty string), got number 42)"},
      {"thread not an object", R"({"group":"g","thread":[]})", "",
       R"(item 3 (line 4): thread: expected an object (a conversationThread), got an array)"},
      {"thread a string", R"({"group":"g","thread":"{}"})", "",
       R"(item 3 (line 4): thread: expected an object (a conversationThread), got "{}")"},
      {"a typo of group", R"({"grup":"g","thread":{}})", "",
       "invalid envelope in item 3 (line 4):\n"
       R"(  grup: unknown key (did you mean "group"?))"
       "\n"
       R"(  missing "group" (the group's id); an envelope is {"group": "ID", "thread": {…}})"},
      {"not an object and no group", "[1]", "",
       "item 3 (line 4): expected a JSON object (a conversationThread), got an array"},
      {"a typo beside the envelope", R"({"group":"g","thread":{},"thred":{}})", "",
       R"(item 3 (line 4): thred: unknown key (did you mean "thread"?))"},
      {"a thread property beside the envelope", R"({"group":"g","thread":{},"topic":"T"})", "",
       R"(item 3 (line 4): topic: belongs inside "thread": {"group": …, "thread": {"topic": …}})"},
      {"an unrelated key", R"({"group":"g","thread":{},"priority":1})", "",
       R"(item 3 (line 4): priority: unknown key; an envelope is {"group": "ID", "thread": {…}})"
       R"( and nothing else)"},
      {"group given twice", R"({"group":"g","thread":{},"GROUP":"h"})", "",
       R"(item 3 (line 4): GROUP: given twice)"},
      {"group beside thread properties", R"({"group":"g","topic":"T","posts":[]})", "",
       "invalid envelope in item 3 (line 4):\n"
       R"(  topic: belongs inside "thread": {"group": …, "thread": {"topic": …}})"
       "\n"
       R"(  posts: belongs inside "thread": {"group": …, "thread": {"posts": …}})"
       "\n"
       R"(  missing "thread" (the conversationThread); an envelope is {"group": "ID", )"
       R"("thread": {…}})"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Result<BulkItem> item = decode_bulk_item(raw(c.text), c.default_group);
    REQUIRE_FALSE(item.ok());
    CHECK(item.error().kind == ErrorKind::kUsage);
    CHECK(item.error().message == c.message);
  }
}

TEST_CASE("decode_bulk_item: an item the reader could not split out fails with its message") {
  RawItem failed;
  failed.index = 7;
  failed.line = 9;
  failed.error = "item 7 (line 9): longer than the limit of 10 bytes; skipped";
  const Result<BulkItem> item = decode_bulk_item(failed, "g");
  REQUIRE_FALSE(item.ok());
  CHECK(item.error().kind == ErrorKind::kUsage);
  CHECK(item.error().message == failed.error);
}

TEST_CASE("decode_bulk_item: does not validate (the caller overrides, then validates)") {
  // No posts, empty topic: invalid to send, but decodes.
  const Result<BulkItem> item = decode_bulk_item(raw(R"({"topic":""})"), "g");
  REQUIRE(item.ok());
  CHECK(item->thread.topic == "");
  CHECK_FALSE(item->thread.posts.has_value());
}

}  // namespace
}  // namespace gt
