#include "gt/format.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "gt/json_codec.hpp"

namespace gt {
namespace {

CreatedThread thread_of(std::string id, std::optional<std::string> topic,
                        std::optional<std::string> last_delivered, std::optional<bool> is_locked,
                        std::optional<std::string> preview) {
  CreatedThread t;
  t.id = std::move(id);
  t.topic = std::move(topic);
  t.last_delivered = std::move(last_delivered);
  t.is_locked = is_locked;
  t.preview = std::move(preview);
  return t;
}

std::string table(const std::vector<CreatedThread>& threads, std::size_t width = 0) {
  std::ostringstream out;
  FormatOptions options;
  options.width = width;
  write_thread_table(out, threads, options);
  return out.str();
}

std::string written(const CreatedThread& t, OutputFormat format, bool pretty = false) {
  std::ostringstream out;
  FormatOptions options;
  options.pretty_json = pretty;
  write_thread(out, t, format, options);
  return out.str();
}

std::string error_text(const Error& e) {
  std::ostringstream err;
  write_error(err, "graph-threads", e);
  return err.str();
}

TEST_CASE("parse_output_format and output_format_name") {
  CHECK(parse_output_format("json") == OutputFormat::kJson);
  CHECK(parse_output_format("table") == OutputFormat::kTable);
  CHECK(parse_output_format("id") == OutputFormat::kId);
  CHECK_FALSE(parse_output_format("yaml").has_value());
  CHECK_FALSE(parse_output_format("").has_value());
  CHECK_FALSE(parse_output_format("JSON").has_value());
  for (OutputFormat f : {OutputFormat::kJson, OutputFormat::kTable, OutputFormat::kId}) {
    CHECK(parse_output_format(output_format_name(f)) == f);
  }
}

TEST_CASE("write_thread json prints the body as received, or re-indented") {
  CreatedThread t;
  t.id = "x";
  t.raw_json = "{\"id\":\"x\",\"n\":1.50}\r\n";
  CHECK(written(t, OutputFormat::kJson) == "{\"id\":\"x\",\"n\":1.50}\n");
  CHECK(written(t, OutputFormat::kJson, true) == "{\n  \"id\": \"x\",\n  \"n\": 1.50\n}\n");
}

TEST_CASE("write_thread id prints the id alone") {
  CHECK(written(thread_of("AAQk==", "T", std::nullopt, std::nullopt, std::nullopt),
                OutputFormat::kId) == "AAQk==\n");
  CHECK(written(CreatedThread{}, OutputFormat::kId) == "");
  CHECK(written(thread_of("AA\x1b[2JQk", std::nullopt, std::nullopt, std::nullopt, std::nullopt),
                OutputFormat::kId) == "AAQk\n");
}

TEST_CASE("write_thread table prints a header and one row") {
  const CreatedThread t = thread_of("AAQkAGI=", "Hello", "2024-05-01T10:00:00Z", false, "Hi all");
  CHECK(written(t, OutputFormat::kTable) ==
        "ID        TOPIC  LAST DELIVERED        LOCKED  PREVIEW\n"
        "AAQkAGI=  Hello  2024-05-01T10:00:00Z  no      Hi all\n");
}

TEST_CASE("table: missing values print as '-', LOCKED is yes/no/-") {
  CHECK(table({thread_of("", std::nullopt, std::nullopt, std::nullopt, std::nullopt),
               thread_of("a", "", "", true, " \n ")}) ==
        "ID  TOPIC  LAST DELIVERED  LOCKED  PREVIEW\n"
        "-   -      -               -       -\n"
        "a   -      -               yes     -\n");
}

TEST_CASE("table: columns are as wide as their widest cell") {
  CHECK(table({thread_of("1", "A much longer topic", "d", false, "p"),
               thread_of("22222222222", "B", "d", true, "a longer preview")}) ==
        "ID           TOPIC                LAST DELIVERED  LOCKED  PREVIEW\n"
        "1            A much longer topic  d               no      p\n"
        "22222222222  B                    d               yes     a longer preview\n");
}

TEST_CASE("table: values are put on one line and control characters are removed") {
  const std::string hostile =
      "Evil\x1b]0;pwned\x07 topic\n\twith\r\nlines   \x1b[31mred\x1b[0m \xc2\x9b"
      "2Jx \x7f\x01"
      "end\xc2\x85"
      "done";
  const std::string out = table({thread_of("i", hostile, std::nullopt, std::nullopt, "ok")});
  CHECK(out ==
        "ID  TOPIC                                 LAST DELIVERED  LOCKED  PREVIEW\n"
        "i   Evil topic with lines red x end done  -               -       ok\n");
  CHECK(out.find('\x1b') == std::string::npos);
}

TEST_CASE("table: invalid UTF-8 becomes U+FFFD") {
  CHECK(table({thread_of("i",
                         "a\xff"
                         "b",
                         std::nullopt, std::nullopt, "\xe2\x82")}) ==
        "ID  TOPIC  LAST DELIVERED  LOCKED  PREVIEW\n"
        "i   a\xEF\xBF\xBD"
        "b    -               -       \xEF\xBF\xBD\xEF\xBF\xBD\n");
}

struct WidthCase {
  std::size_t width;
  std::string expected;
};

TEST_CASE("table: with a width, preview then topic are shortened, the id never is") {
  const CreatedThread t = thread_of("ID1", "A fairly long topic here", "2024-05-01", true,
                                    "Preview text that goes on and on");
  const std::vector<WidthCase> cases = {
      {0,
       "ID   TOPIC                     LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly long topic here  2024-05-01      yes     Preview text that goes on and on\n"},
      {200,
       "ID   TOPIC                     LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly long topic here  2024-05-01      yes     Preview text that goes on and on\n"},
      {87,
       "ID   TOPIC                     LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly long topic here  2024-05-01      yes     Preview text that goes on and on\n"},
      {80,
       "ID   TOPIC                     LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly long topic here  2024-05-01      yes     Preview text that goes o…\n"},
      {50,
       "ID   TOPIC         LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly lo…  2024-05-01      yes     Previe…\n"},
      {48,  // the cut lands after a space, which is dropped before the "…"
       "ID   TOPIC       LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fairly…   2024-05-01      yes     Previe…\n"},
      {10,  // too narrow to fit: topic and preview keep the width of their headers
       "ID   TOPIC  LAST DELIVERED  LOCKED  PREVIEW\n"
       "ID1  A fa…  2024-05-01      yes     Previe…\n"},
  };
  for (const WidthCase& c : cases) {
    CAPTURE(c.width);
    CHECK(table({t}, c.width) == c.expected);
  }
}

TEST_CASE("table: shortening never cuts inside a multi-byte character") {
  const CreatedThread t = thread_of("i", "t", std::nullopt, std::nullopt, "ééééééééé");
  CHECK(table({t}, 42) ==
        "ID  TOPIC  LAST DELIVERED  LOCKED  PREVIEW\n"
        "i   t      -               -       éééééé…\n");
  const CreatedThread wide = thread_of("i", "✓✓✓✓✓✓✓✓", std::nullopt, std::nullopt, "p");
  CHECK(table({wide}, 38) ==
        "ID  TOPIC  LAST DELIVERED  LOCKED  PREVIEW\n"
        "i   ✓✓✓✓…  -               -       p\n");
}

TEST_CASE("write_error: message line, details only when set, hint") {
  SUBCASE("a usage error") {
    CHECK(error_text(Error::usage("--group: must not be empty")) ==
          "graph-threads: --group: must not be empty\n");
  }
  SUBCASE("every detail") {
    Error e;
    e.kind = ErrorKind::kGraph;
    e.message = "Graph could not find the group";
    e.http_status = 404;
    e.code = "ErrorItemNotFound";
    e.request_id = "abc";
    e.client_request_id = "def";
    e.date = "2026-01-02T03:04:05";
    e.hint = "check --group";
    CHECK(error_text(e) ==
          "graph-threads: Graph could not find the group\n"
          "  HTTP 404, code ErrorItemNotFound, request-id abc, client-request-id def, "
          "date 2026-01-02T03:04:05\n"
          "  hint: check --group\n");
  }
  SUBCASE("some details") {
    Error e;
    e.kind = ErrorKind::kOutcomeUnknown;
    e.message = "the connection broke after the request was sent";
    e.http_status = 0;
    e.client_request_id = "def";
    CHECK(error_text(e) ==
          "graph-threads: the connection broke after the request was sent\n"
          "  client-request-id def\n");
  }
  SUBCASE("a hint without details") {
    CHECK(error_text(Error::auth("no token", "run az login")) ==
          "graph-threads: no token\n"
          "  hint: run az login\n");
  }
  SUBCASE("a multi-line message is printed as given") {
    CHECK(error_text(Error::usage("invalid thread in stdin:\n  topic: x\n  isLocked: y\n")) ==
          "graph-threads: invalid thread in stdin:\n  topic: x\n  isLocked: y\n");
  }
  SUBCASE("control characters from the server are removed") {
    Error e;
    e.kind = ErrorKind::kGraph;
    e.message = "denied \x1b[2J\x1b]0;owned\x07now\r";
    e.http_status = 403;
    e.code = "Error\x1b[31mAccessDenied";
    CHECK(error_text(e) ==
          "graph-threads: denied now\n"
          "  HTTP 403, code ErrorAccessDenied\n");
  }
  SUBCASE("an empty message falls back to the kind") {
    CHECK(error_text(Error::network("")) == "graph-threads: network error\n");
  }
}

}  // namespace
}  // namespace gt

namespace gt {
namespace {

CreatedThread listed(std::string id, std::string raw) {
  CreatedThread t;
  t.id = std::move(id);
  t.topic = "T";
  t.raw_json = std::move(raw);
  return t;
}

std::string list_output(OutputFormat format, bool pretty,
                        const std::vector<std::vector<CreatedThread>>& pages) {
  std::ostringstream out;
  ThreadListWriter w(out, format, {.pretty_json = pretty});
  for (const auto& p : pages) w.add(p);
  w.finish();
  return out.str();
}

TEST_CASE("ThreadListWriter: json is one array whatever the pages, ids are lines") {
  const std::vector<std::vector<CreatedThread>> pages = {
      {listed("a", R"({"id":"a"})"), listed("b", R"({"id":"b"})")}, {listed("c", R"({"id":"c"})")}};
  CHECK(list_output(OutputFormat::kJson, false, pages) ==
        "[\n{\"id\":\"a\"},\n{\"id\":\"b\"},\n{\"id\":\"c\"}\n]\n");
  CHECK(list_output(OutputFormat::kJson, true, pages) ==
        pretty_json(R"([{"id":"a"},{"id":"b"},{"id":"c"}])") + "\n");
  CHECK(list_output(OutputFormat::kId, false, pages) == "a\nb\nc\n");
  const std::string table = list_output(OutputFormat::kTable, false, pages);
  CHECK(table.rfind("ID", 0) == 0);
  CHECK(std::count(table.begin(), table.end(), '\n') == 4);
}

TEST_CASE("ThreadListWriter: an empty list is [] / a header / nothing") {
  CHECK(list_output(OutputFormat::kJson, false, {}) == "[]\n");
  CHECK(list_output(OutputFormat::kJson, false, {{}}) == "[]\n");
  CHECK(list_output(OutputFormat::kJson, true, {}) == "[]\n");
  CHECK(list_output(OutputFormat::kId, false, {}) == "");
  CHECK(list_output(OutputFormat::kTable, false, {}).rfind("ID", 0) == 0);
}

}  // namespace
}  // namespace gt
