#include "gt/response_parser.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <string_view>

#include "gt/ascii.hpp"
#include "gt/byte_scan.hpp"

namespace gt {

namespace {

// A chunk-size line longer than this (extensions included) is refused rather than buffered.
constexpr std::size_t kMaxChunkLine = 4096;

// RFC 9110 token characters, as a table: field names are checked byte by byte (values, by
// gt/byte_scan's all_field_text).
struct CharTables {
  bool token[256] = {};
  constexpr CharTables() {
    for (int c = 'a'; c <= 'z'; ++c) token[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) token[c] = true;
    for (int c = '0'; c <= '9'; ++c) token[c] = true;
    for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
      token[static_cast<unsigned char>(c)] = true;
    }
  }
};
constexpr CharTables kChars;

bool all_text(std::string_view s) {
  return all_field_text(s);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(token) for each comma-separated element of a header value, trimmed, empty ones skipped.
template <class Fn>
void for_each_element(std::string_view value, Fn fn) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// Decimal digits only (from_chars takes no sign or space for an unsigned type), all of `s`,
// without overflow.
bool parse_decimal(std::string_view s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

const char* parse_error_text(ParseError e) {
  switch (e) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kBadStatusLine:
      return "bad status line";
    case ParseError::kBadHeader:
      return "bad header field";
    case ParseError::kBadContentLength:
      return "bad Content-Length";
    case ParseError::kBadChunk:
      return "bad chunked encoding";
    case ParseError::kHeaderLimit:
      return "header limit exceeded";
    case ParseError::kBodyLimit:
      return "body limit exceeded";
    case ParseError::kPartial:
      return "partial message";
    case ParseError::kEndOfStream:
      return "end of stream";
  }
  return "unknown parse error";
}

ResponseParser::ResponseParser(HttpResponse& out, std::size_t header_limit,
                               std::uint64_t body_limit)
    : out_(out), header_limit_(header_limit), body_limit_(body_limit) {}

bool ResponseParser::keep_alive() const {
  if (until_eof_) return false;
  return http11_ ? !close_ : keep_alive_ && !close_;
}

std::size_t ResponseParser::put(std::string_view data) {
  if (!data.empty()) got_some_ = true;
  std::size_t used = 0;
  while (error_ == ParseError::kNone && state_ != State::kDone) {
    const std::string_view rest = data.substr(used);
    switch (state_) {
      case State::kBody:
      case State::kChunkData: {
        if (rest.empty()) return used;
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        out_.body.append(rest.data(), n);
        used += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::kBody ? State::kDone : State::kChunkEnd;
        break;
      }
      case State::kBodyToEof:
        if (!append_body(rest)) return used;
        return used + rest.size();
      default: {
        // A line: the status line, a header field, a chunk-size line, a chunk's CRLF, a trailer.
        // Trailer fields count against the header limit too: they are header fields.
        const bool in_header = state_ == State::kStatus || state_ == State::kHeaders;
        const bool counted = in_header || state_ == State::kTrailers;
        const void* nl = std::memchr(rest.data(), '\n', rest.size());
        if (!nl) {
          if (counted && header_bytes_ + rest.size() > header_limit_) {
            fail(ParseError::kHeaderLimit);
          } else if (!counted && rest.size() > kMaxChunkLine) {
            fail(ParseError::kBadChunk);
          }
          return used;
        }
        const std::size_t eol = static_cast<const char*>(nl) - rest.data();
        if (counted) {
          header_bytes_ += eol + 1;
          if (header_bytes_ > header_limit_) {
            fail(ParseError::kHeaderLimit);
            return used;
          }
        }
        if (eol == 0 || rest[eol - 1] != '\r') {
          fail(in_header ? (state_ == State::kStatus ? ParseError::kBadStatusLine
                                                     : ParseError::kBadHeader)
                         : ParseError::kBadChunk);
          return used;
        }
        const std::string_view line = rest.substr(0, eol - 1);
        used += eol + 1;
        switch (state_) {
          case State::kStatus:
            if (on_status_line(line)) state_ = State::kHeaders;
            break;
          case State::kHeaders:
            if (line.empty()) {
              on_header_end();
            } else {
              on_header_line(line);
            }
            break;
          case State::kChunkSize:
            on_chunk_size(line);
            break;
          case State::kChunkEnd:
            if (!line.empty()) {
              fail(ParseError::kBadChunk);
            } else {
              state_ = State::kChunkSize;
            }
            break;
          case State::kTrailers:
            if (line.empty()) state_ = State::kDone;  // trailer fields are dropped
            break;
          default:
            break;
        }
      }
    }
  }
  return used;
}

void ResponseParser::put_eof() {
  if (error_ != ParseError::kNone || state_ == State::kDone) return;
  if (state_ == State::kBodyToEof) {
    state_ = State::kDone;
  } else {
    fail(got_some_ ? ParseError::kPartial : ParseError::kEndOfStream);
  }
}

bool ResponseParser::on_status_line(std::string_view line) {
  // HTTP-version SP 3DIGIT SP reason-phrase; a missing reason (with or without its space) is
  // accepted, as servers send both.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ') {
    fail(ParseError::kBadStatusLine);
    return false;
  }
  http11_ = line[7] == '1';
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      fail(ParseError::kBadStatusLine);
      return false;
    }
    status = status * 10 + (line[i] - '0');
  }
  std::string_view reason = line.substr(12);
  if (!reason.empty()) {
    if (reason.front() != ' ' || !all_text(reason)) {
      fail(ParseError::kBadStatusLine);
      return false;
    }
    reason.remove_prefix(1);
  }
  if (status < 100) {
    fail(ParseError::kBadStatusLine);
    return false;
  }
  out_.status = status;
  out_.reason.assign(reason);
  return true;
}

bool ResponseParser::on_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding (RFC 9112 section 5.2): a continuation of the previous value.
    const std::string_view more = trim_ows(line);
    if (out_.headers.empty() || !all_text(more)) {
      fail(ParseError::kBadHeader);
      return false;
    }
    std::string& value = out_.headers.back().value;
    if (!more.empty()) value.append(value.empty() ? "" : " ").append(more);
    return true;
  }
  // The name is token characters up to the first colon (which is not one), read in one pass.
  std::size_t colon = 0;
  while (colon < line.size() && kChars.token[static_cast<unsigned char>(line[colon])]) ++colon;
  if (colon == 0 || colon == line.size() || line[colon] != ':') {
    fail(ParseError::kBadHeader);
    return false;
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!all_text(value)) {
    fail(ParseError::kBadHeader);
    return false;
  }
  // Constructed, then moved in: assign() into the empty strings of an emplaced field goes
  // through basic_string's general replace and was ~80 instructions a field dearer.
  out_.headers.push_back({std::string(line.data(), colon), std::string(value)});
  return true;
}

void ResponseParser::on_header_end() {
  // What the fields say about the connection and the body, read once the header is complete
  // (a folded continuation may have extended any of them).
  bool has_te = false;
  for (const Header& h : out_.headers) {
    const std::size_t len = h.name.size();
    if (len != 10 && len != 14 && len != 17) continue;  // none of the three names below
    if (ascii_iequals(h.name, "Connection")) {
      for_each_element(h.value, [&](std::string_view token) {
        if (ascii_iequals(token, "close")) close_ = true;
        if (ascii_iequals(token, "keep-alive")) keep_alive_ = true;
      });
    } else if (ascii_iequals(h.name, "Transfer-Encoding")) {
      has_te = true;
      chunked_ = false;  // only the last coding counts
      for_each_element(
          h.value, [&](std::string_view coding) { chunked_ = ascii_iequals(coding, "chunked"); });
    } else if (ascii_iequals(h.name, "Content-Length")) {
      bool bad = false;
      bool any = false;
      for_each_element(h.value, [&](std::string_view digits) {
        std::uint64_t n = 0;
        any = true;
        if (!parse_decimal(digits, n) || (has_length_ && n != length_)) bad = true;
        has_length_ = true;
        length_ = n;
      });
      if (bad || !any) {
        fail(ParseError::kBadContentLength);
        return;
      }
    }
  }
  const int status = out_.status;
  if (status / 100 == 1 || status == 204 || status == 304) {
    state_ = State::kDone;
  } else if (has_te) {
    // Transfer-Encoding overrides Content-Length; a last coding other than chunked leaves the
    // close as the only end of the body.
    if (chunked_) {
      state_ = State::kChunkSize;
    } else {
      until_eof_ = true;
      state_ = State::kBodyToEof;
    }
  } else if (has_length_) {
    if (length_ > body_limit_) {
      fail(ParseError::kBodyLimit);
      return;
    }
    out_.body.reserve(static_cast<std::size_t>(length_));
    remaining_ = length_;
    state_ = length_ == 0 ? State::kDone : State::kBody;
  } else {
    until_eof_ = true;
    state_ = State::kBodyToEof;
  }
}

bool ResponseParser::on_chunk_size(std::string_view line) {
  // chunk-size [; extensions]: hexadecimal digits, then optional whitespace and extensions.
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) break;
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
      fail(ParseError::kBadChunk);
      return false;
    }
    size = size * 16 + static_cast<std::uint64_t>(d);
  }
  const std::string_view after = trim_ows(line.substr(i));
  if (i == 0 || (!after.empty() && after.front() != ';')) {
    fail(ParseError::kBadChunk);
    return false;
  }
  if (size == 0) {
    state_ = State::kTrailers;
    return true;
  }
  if (size > body_limit_ - std::min<std::uint64_t>(body_limit_, out_.body.size())) {
    fail(ParseError::kBodyLimit);
    return false;
  }
  remaining_ = size;
  state_ = State::kChunkData;
  return true;
}

bool ResponseParser::append_body(std::string_view bytes) {
  if (bytes.size() > body_limit_ - std::min<std::uint64_t>(body_limit_, out_.body.size())) {
    fail(ParseError::kBodyLimit);
    return false;
  }
  out_.body.append(bytes);
  return true;
}

}  // namespace gt
