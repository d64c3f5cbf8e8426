// gt/response_parser: framing, limits and errors of the HTTP/1.1 response parser both clients
// read answers with, fed whole and in every split.
#include "gt/response_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using gt::HttpResponse;
using gt::ParseError;
using gt::ResponseParser;

namespace {

struct Parsed {
  HttpResponse response;
  ParseError error = ParseError::kNone;
  bool done = false;
  bool keep_alive = false;
  bool need_eof = false;
  std::size_t used = 0;  // bytes of the input the response took
};

// Feeds `wire` in pieces of at most `step` bytes, as a socket would deliver them, keeping what
// the parser did not use for the next call; then `eof` if asked.
Parsed parse(const std::string& wire, std::size_t step, bool eof = false,
             std::size_t header_limit = 8192, std::uint64_t body_limit = 1 << 20) {
  Parsed p;
  ResponseParser parser(p.response, header_limit, body_limit);
  std::string pending;
  std::size_t fed = 0;
  while (!parser.done() && parser.error() == ParseError::kNone && fed < wire.size()) {
    const std::size_t n = std::min(step, wire.size() - fed);
    pending.append(wire, fed, n);
    fed += n;
    const std::size_t used = parser.put(pending);
    p.used += used;
    pending.erase(0, used);
  }
  if (eof) parser.put_eof();
  p.error = parser.error();
  p.done = parser.done();
  p.keep_alive = parser.keep_alive();
  p.need_eof = parser.need_eof();
  return p;
}

// The same in every step size from 1 byte to the whole input: framing may not depend on how the
// bytes arrive.
Parsed parse_all_ways(const std::string& wire, bool eof = false) {
  const Parsed whole = parse(wire, wire.size() + 1, eof);
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    CAPTURE(step);
    const Parsed p = parse(wire, step, eof);
    CHECK(p.error == whole.error);
    CHECK(p.done == whole.done);
    CHECK(p.response.status == whole.response.status);
    CHECK(p.response.body == whole.response.body);
    CHECK(p.response.headers.size() == whole.response.headers.size());
    CHECK(p.keep_alive == whole.keep_alive);
    if (p.done) CHECK(p.used == whole.used);
  }
  return whole;
}

}  // namespace

TEST_CASE("response parser: a Content-Length response, headers as sent, keep-alive") {
  const std::string wire =
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nrequest-id:  abc \r\n"
      "Content-Length: 11\r\n\r\n{\"id\":\"x\"}\n";
  const Parsed p = parse_all_ways(wire);
  CHECK(p.error == ParseError::kNone);
  CHECK(p.done);
  CHECK(p.response.status == 201);
  CHECK(p.response.reason == "Created");
  REQUIRE(p.response.headers.size() == 3);
  CHECK(p.response.headers[1].name == "request-id");
  CHECK(p.response.headers[1].value == "abc");
  CHECK(p.response.header("content-type") == "application/json");
  CHECK(p.response.body == "{\"id\":\"x\"}\n");
  CHECK(p.keep_alive);
  CHECK_FALSE(p.need_eof);
  CHECK(p.used == wire.size());
}

TEST_CASE("response parser: bytes after the response are left for the next one") {
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const Parsed p = parse(first + "HTTP/1.1 204 No Content\r\n\r\n", 4096);
  CHECK(p.done);
  CHECK(p.response.body == "ok");
  CHECK(p.used == first.size());
}

TEST_CASE("response parser: chunked bodies, with extensions and trailers") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 999\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nTrailer: yes\r\n\r\n";
  const Parsed p = parse_all_ways(wire);
  CHECK(p.error == ParseError::kNone);
  CHECK(p.done);
  CHECK(p.response.body == "hello abcdefghijklmnopqrstuvwxy");  // Content-Length ignored
  CHECK(p.keep_alive);
  CHECK(p.used == wire.size());
}

TEST_CASE("response parser: a body without length runs to the close") {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  const Parsed open = parse(wire, 3);
  CHECK_FALSE(open.done);
  CHECK(open.error == ParseError::kNone);
  const Parsed closed = parse_all_ways(wire, true);
  CHECK(closed.done);
  CHECK(closed.response.body == "all of it");
  CHECK(closed.need_eof);
  CHECK_FALSE(closed.keep_alive);
  // A transfer coding other than chunked last: the close ends it too.
  const Parsed gzip = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 64, true);
  CHECK(gzip.done);
  CHECK(gzip.need_eof);
  CHECK(gzip.response.body == "zz");
}

TEST_CASE("response parser: no body for 1xx, 204 and 304, whatever the header says") {
  for (const char* status : {"100 Continue", "204 No Content", "304 Not Modified"}) {
    CAPTURE(status);
    const std::string head = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\n\r\n";
    const Parsed p = parse(head + "HTTP/1.1 200 OK\r\n", 4096);
    CHECK(p.done);
    CHECK(p.response.body.empty());
    CHECK(p.used == head.size());
  }
}

TEST_CASE("response parser: what Connection and the version say about keep-alive") {
  const auto keep = [](const std::string& head) {
    return parse(head + "Content-Length: 0\r\n\r\n", 4096).keep_alive;
  };
  CHECK(keep("HTTP/1.1 200 OK\r\n"));
  CHECK_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: close\r\n"));
  CHECK_FALSE(keep("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\n"));
  CHECK_FALSE(keep("HTTP/1.0 200 OK\r\n"));
  CHECK(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"));
}

TEST_CASE("response parser: reason phrases, folded lines and Content-Length lists") {
  CHECK(parse("HTTP/1.1 201\r\nContent-Length: 0\r\n\r\n", 64).response.status == 201);
  CHECK(parse("HTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n", 64).response.reason.empty());
  const Parsed folded =
      parse("HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\nContent-Length: 0\r\n\r\n", 64);
  REQUIRE(folded.done);
  CHECK(folded.response.header("X-Long") == "one two three");
  const Parsed listed = parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", 64);
  CHECK(listed.done);
  CHECK(listed.response.body == "ok");
}

TEST_CASE("response parser: malformed responses are errors of the right kind") {
  struct Case {
    const char* wire;
    ParseError error;
  };
  const Case cases[] = {
      {"HTTP/2.0 200 OK\r\n\r\n", ParseError::kBadStatusLine},
      {"HTTP/1.1 20x OK\r\n\r\n", ParseError::kBadStatusLine},
      {"HTTP/1.1 099 Low\r\n\r\n", ParseError::kBadStatusLine},
      {"HTTP/1.1 200OK\r\n\r\n", ParseError::kBadStatusLine},
      {"ICY 200 OK\r\n\r\n", ParseError::kBadStatusLine},
      {"HTTP/1.1 200 OK\n\n", ParseError::kBadStatusLine},  // bare LF
      {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nX: y\n\r\n", ParseError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", ParseError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", ParseError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ParseError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       ParseError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       ParseError::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ParseError::kBadChunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", ParseError::kBadChunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
       ParseError::kBadChunk},
  };
  for (const Case& c : cases) {
    CAPTURE(c.wire);
    const Parsed p = parse_all_ways(c.wire);
    CHECK(p.error == c.error);
    CHECK_FALSE(p.done);
  }
}

TEST_CASE("response parser: the header and body limits") {
  const std::string big(100, 'v');
  // Complete lines over the limit, and an unfinished line that already is.
  CHECK(parse("HTTP/1.1 200 OK\r\nX: " + big + "\r\n\r\n", 4096, false, 64).error ==
        ParseError::kHeaderLimit);
  CHECK(parse("HTTP/1.1 200 OK\r\nX: " + big, 4096, false, 64).error == ParseError::kHeaderLimit);
  CHECK(parse("HTTP/1.1 200 OK\r\nX: 1\r\n\r\n", 4096, false, 64).error == ParseError::kNone);
  // Content-Length over the limit fails before any body byte; chunks and close-delimited
  // bodies fail when they pass it.
  const Parsed announced =
      parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 4096, false, 8192, 10);
  CHECK(announced.error == ParseError::kBodyLimit);
  CHECK(announced.response.status == 200);
  CHECK(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4096, false, 8192, 10).done);
  CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", 4096,
              false, 8192, 10)
            .error == ParseError::kBodyLimit);
  CHECK(parse("HTTP/1.1 200 OK\r\n\r\n" + big, 7, true, 8192, 10).error == ParseError::kBodyLimit);
  // Trailer fields count against the header limit.
  CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + big + "\r\n\r\n",
              4096, false, 80)
            .error == ParseError::kHeaderLimit);
}

TEST_CASE("response parser: a close inside a response, and before one") {
  CHECK(parse("", 1, true).error == ParseError::kEndOfStream);
  CHECK(parse("HTTP/1.1 200 O", 64, true).error == ParseError::kPartial);
  CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 64, true).error ==
        ParseError::kPartial);
  CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 64, true).error ==
        ParseError::kPartial);
  // After a complete response a close changes nothing.
  const Parsed done = parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 64, true);
  CHECK(done.done);
  CHECK(done.error == ParseError::kNone);
}
