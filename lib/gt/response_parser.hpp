// gt/response_parser: an incremental HTTP/1.1 response parser that writes straight into an
// HttpResponse — how both Beast clients read answers (gt/beast_common), kept free of Beast so that
// it is cheap per response (no field-name table lookups, no intermediate containers) and can be
// tested and fuzzed on its own.
//
// Fed the bytes of a connection as they arrive, it reads the status line, the header fields
// (each as sent, in order, values without surrounding whitespace; obsolete line folding becomes a
// space), then the body framed as RFC 9112 section 6.3 says for a response: none for 1xx, 204 and
// 304; chunked when the last transfer coding is chunked (chunk extensions and trailer fields are
// read and dropped); Content-Length bytes; otherwise everything until the connection closes.
// Lines end with CRLF. Only HTTP/1.0 and HTTP/1.1 are accepted.
//
// Limits: the status line and header fields together may not exceed `header_limit` bytes
// (kHeaderLimit, also when an incomplete line already would), the body may not exceed
// `body_limit` bytes (kBodyLimit as soon as Content-Length announces more, before any byte of the
// body). Bytes after a complete response are not used: they belong to the next one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gt/http.hpp"

namespace gt {

enum class ParseError {
  kNone,
  kBadStatusLine,     // not "HTTP/1.0" or "HTTP/1.1", a three-digit status and a reason
  kBadHeader,         // a header line that is not "name: value" with allowed characters
  kBadContentLength,  // Content-Length not a number, or two that differ
  kBadChunk,          // a malformed chunk-size line, or no CRLF after a chunk's data
  kHeaderLimit,       // the status line and header fields exceed the header limit
  kBodyLimit,         // the body exceeds the body limit
  kPartial,           // the connection ended inside a response
  kEndOfStream,       // the connection ended before the first byte of a response
};

// "bad status line", ... for messages.
const char* parse_error_text(ParseError e);

class ResponseParser {
 public:
  // Writes into `out`, which must outlive the parser; `out` should be empty.
  ResponseParser(HttpResponse& out, std::size_t header_limit, std::uint64_t body_limit);

  // Parses as much of `data` as it can and returns how many bytes it used. It stops early at the
  // end of the response (the rest is the next response's), at an error, or before a line that
  // is not complete yet: pass the unused bytes again, followed by more.
  std::size_t put(std::string_view data);
  // The connection was closed: ends a body that runs until the close; kPartial if the response
  // was incomplete otherwise, kEndOfStream if not one byte of it had arrived.
  void put_eof();

  ParseError error() const { return error_; }
  bool header_done() const { return state_ > State::kHeaders; }
  bool done() const { return state_ == State::kDone; }
  bool got_some() const { return got_some_; }
  // Whether the connection may carry another request after this response: the body did not run
  // to the close, and HTTP/1.1 without "Connection: close" or HTTP/1.0 with "keep-alive".
  bool keep_alive() const;
  // The body is delimited by the connection closing.
  bool need_eof() const { return until_eof_; }

 private:
  enum class State {
    kStatus,
    kHeaders,
    kBody,
    kBodyToEof,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailers,
    kDone
  };

  bool on_status_line(std::string_view line);
  bool on_header_line(std::string_view line);
  void on_header_end();
  bool on_chunk_size(std::string_view line);
  bool append_body(std::string_view bytes);
  void fail(ParseError e) { error_ = e; }

  HttpResponse& out_;
  std::size_t header_limit_;
  std::uint64_t body_limit_;
  State state_ = State::kStatus;
  ParseError error_ = ParseError::kNone;
  bool got_some_ = false;
  bool http11_ = false;
  bool close_ = false;       // Connection: close
  bool keep_alive_ = false;  // Connection: keep-alive
  bool chunked_ = false;
  bool until_eof_ = false;
  bool has_length_ = false;
  std::uint64_t length_ = 0;     // Content-Length, when has_length_
  std::uint64_t remaining_ = 0;  // of the body, or of the current chunk
  std::size_t header_bytes_ = 0;
};

}  // namespace gt
