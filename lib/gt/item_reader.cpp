#include "gt/item_reader.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "gt/ascii.hpp"
#include "gt/json_codec.hpp"

namespace gt {
namespace {

namespace json = boost::json;

constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// "'x'" for a printable ASCII byte, "byte 0x1B" otherwise, for "got …" in messages.
std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7F) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

std::string item_label_of(std::size_t index, std::size_t line) {
  return "item " + std::to_string(index) + " (line " + std::to_string(line) + ")";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ItemReader

ItemReader::ItemReader(std::istream& in, std::string source_name, std::size_t max_item_bytes,
                       std::size_t read_chunk_bytes)
    : in_(in),
      source_(std::move(source_name)),
      max_item_bytes_(std::max<std::size_t>(max_item_bytes, 1)),
      chunk_bytes_(std::max<std::size_t>(read_chunk_bytes, 1)) {}

std::string ItemReader::item_label(std::size_t index, std::size_t line) const {
  return item_label_of(index, line);
}

void ItemReader::note_memory() {
  high_water_ = std::max(high_water_, buffer_.capacity() + item_.capacity());
}

// Reads the next chunk into buffer_. Takes what the stream has buffered (at most one chunk) and
// waits only when it has nothing, so a line from a slow pipe is handed out when it ends rather
// than when a whole chunk has arrived.
bool ItemReader::fill() {
  pos_ = end_ = 0;
  if (eof_) return false;
  if (buffer_.empty()) buffer_.resize(chunk_bytes_);
  std::streambuf* sb = in_.rdbuf();
  if (sb == nullptr) {
    eof_ = true;
    return false;
  }
  using traits = std::streambuf::traits_type;
  std::streamsize available = sb->in_avail();
  if (available == 0) {
    // Nothing buffered: wait for at least one byte, then take what came with it.
    const bool at_end = traits::eq_int_type(sb->sgetc(), traits::eof());
    available = at_end ? -1 : std::max<std::streamsize>(sb->in_avail(), 1);
  }
  if (available < 0) {
    eof_ = true;
    return false;
  }
  const auto want =
      std::min<std::streamsize>(available, static_cast<std::streamsize>(chunk_bytes_));
  const std::streamsize got = sb->sgetn(buffer_.data(), want);
  if (got <= 0) {
    eof_ = true;
    return false;
  }
  end_ = static_cast<std::size_t>(got);
  note_memory();
  return true;
}

// Adds input bytes to the item being assembled, unless it has grown too large: from then on it is
// only scanned to find its end, and its text is let go. One byte of slack allows the '\r' of a
// CRLF line that is exactly max_item_bytes long; finish_item() applies the exact limit.
void ItemReader::append(const char* begin, const char* end) {
  if (!keep_text_ || oversized_ || begin == end) return;
  const auto n = static_cast<std::size_t>(end - begin);
  const std::size_t limit = max_item_bytes_ + 1;
  if (item_.size() + n > limit) {
    oversized_ = true;
    std::string().swap(item_);
    return;
  }
  if (item_.size() + n > item_.capacity()) {
    item_.reserve(std::min(std::max(item_.size() + n, 2 * item_.capacity()), limit));
  }
  item_.append(begin, n);
  note_memory();
}

RawItem ItemReader::finish_item(std::size_t line) {
  RawItem out;
  out.index = next_index_++;
  out.line = line;
  if (format_ == InputFormat::kNdjson && !item_.empty() && item_.back() == '\r') {
    item_.pop_back();  // the line break was "\r\n"
  }
  if (oversized_ || item_.size() > max_item_bytes_) {
    out.error = item_label(out.index, line) + ": longer than the limit of " +
                std::to_string(max_item_bytes_) + " bytes; skipped";
    std::string().swap(item_);
  } else {
    while (!item_.empty() && is_space(item_.back())) item_.pop_back();
    out.text = std::move(item_);
    item_ = std::string();
  }
  item_started_ = false;
  oversized_ = false;
  return out;
}

RawItem ItemReader::structural_error(std::size_t line, const std::string& what) {
  RawItem out;
  out.index = next_index_++;
  out.line = line;
  out.error = item_label(out.index, line) + ": " + what + " — " + source_ +
              " is not a valid JSON array here, so nothing after this point was read";
  std::string().swap(item_);
  done_ = true;
  return out;
}

std::optional<RawItem> ItemReader::next() {
  if (done_) return std::nullopt;
  if (format_ == InputFormat::kUnknown) {
    // Skip a byte order mark and leading whitespace; the first other byte decides the format.
    for (;;) {
      if (pos_ == end_ && !fill()) {
        if (bom_matched_ > 0 && bom_matched_ < 3) {
          // The start of a byte order mark and then the end: those bytes are a (bad) line.
          format_ = InputFormat::kNdjson;
          item_started_ = true;
          item_line_ = line_;
          append(reinterpret_cast<const char*>(kBom),
                 reinterpret_cast<const char*>(kBom) + bom_matched_);
          break;
        }
        done_ = true;
        return std::nullopt;
      }
      const char c = buffer_[pos_];
      if (bom_matched_ < 3) {
        if (static_cast<unsigned char>(c) == kBom[bom_matched_]) {
          ++bom_matched_;
          ++pos_;
          continue;
        }
        if (bom_matched_ > 0) {
          // Not a byte order mark after all: the bytes seen so far start the first line.
          format_ = InputFormat::kNdjson;
          item_started_ = true;
          item_line_ = line_;
          append(reinterpret_cast<const char*>(kBom),
                 reinterpret_cast<const char*>(kBom) + bom_matched_);
          break;
        }
        bom_matched_ = 3;  // no byte order mark
      }
      if (c == '\n') ++line_;
      if (is_space(c)) {
        ++pos_;
        continue;
      }
      if (c == '[') {
        format_ = InputFormat::kArray;
        array_line_ = line_;
        ++pos_;
      } else {
        format_ = InputFormat::kNdjson;
      }
      break;
    }
  }
  std::optional<RawItem> item = format_ == InputFormat::kArray ? next_array() : next_ndjson();
  if (!item) done_ = true;
  return item;
}

std::optional<RawItem> ItemReader::next_ndjson() {
  for (;;) {
    if (pos_ == end_ && !fill()) {
      // A last line without a line break is an item like any other.
      if (item_started_) return finish_item(item_line_);
      return std::nullopt;
    }
    const char* begin = buffer_.data() + pos_;
    const char* const stop = buffer_.data() + end_;
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', stop - begin));
    const char* const line_end = newline != nullptr ? newline : stop;
    if (!item_started_) {
      while (begin < line_end && is_space(*begin)) ++begin;
      if (begin < line_end) {
        item_started_ = true;
        item_line_ = line_;
      }
    }
    if (item_started_) append(begin, line_end);
    if (newline == nullptr) {
      pos_ = end_;
      continue;
    }
    pos_ = static_cast<std::size_t>(newline - buffer_.data()) + 1;
    ++line_;
    if (item_started_) return finish_item(item_line_);
  }
}

// One byte at a time through a small state machine, so that an element split across chunks (or a
// string escape split across them) needs no special case. The element's bytes are appended in
// runs: from `run` to the end of the chunk, or to the element's end.
std::optional<RawItem> ItemReader::next_array() {
  for (;;) {
    if (pos_ == end_ && !fill()) {
      if (state_ == ArrayState::kAfterClose) return std::nullopt;
      const std::size_t line = state_ == ArrayState::kInItem ? item_line_ : line_;
      return structural_error(line, "the input ended before the array opened on line " +
                                        std::to_string(array_line_) + " was closed with ']'");
    }
    const char* const data = buffer_.data();
    std::size_t run = pos_;
    for (std::size_t i = pos_; i < end_; ++i) {
      const char c = data[i];
      switch (state_) {
        case ArrayState::kExpectFirst:
        case ArrayState::kExpectItem:
          if (c == '\n') ++line_;
          if (is_space(c)) break;
          if (c == ']' && state_ == ArrayState::kExpectFirst) {
            state_ = ArrayState::kAfterClose;  // an empty array
            break;
          }
          if (c == ']' || c == ',' || c == '}') {
            pos_ = i + 1;
            std::string what = c == ']'   ? "a ',' with no element after it before ']'"
                               : c == ',' ? "an empty element (',' where an element belongs)"
                                          : "'}' where an element belongs";
            return structural_error(line_, what);
          }
          // An element starts.
          state_ = ArrayState::kInItem;
          item_line_ = line_;
          run = i;
          brackets_.clear();
          in_string_ = escape_ = scalar_ = false;
          if (c == '{' || c == '[') {
            brackets_.push_back(c);
          } else if (c == '"') {
            in_string_ = true;
          } else {
            scalar_ = true;  // a number or literal: not a thread, but still an item
          }
          break;

        case ArrayState::kInItem:
          if (scalar_) {
            if (is_space(c) || c == ',' || c == ']' || c == '}' || c == '[' || c == '{' ||
                c == '"') {
              // The scalar ends before this byte, which is looked at again after the element.
              append(data + run, data + i);
              pos_ = i;
              state_ = ArrayState::kAfterItem;
              return finish_item(item_line_);
            }
            break;
          }
          if (in_string_ && !escape_ && c != '"' && c != '\\' && c != '\n') {
            // Most of an item is string content: skip to the next byte that matters.
            while (i + 1 < end_ && data[i + 1] != '"' && data[i + 1] != '\\' &&
                   data[i + 1] != '\n') {
              ++i;
            }
            break;
          }
          if (c == '\n') ++line_;
          if (in_string_) {
            if (escape_) {
              escape_ = false;
            } else if (c == '\\') {
              escape_ = true;
            } else if (c == '"') {
              in_string_ = false;
            }
          } else if (c == '"') {
            in_string_ = true;
          } else if (c == '{' || c == '[') {
            if (brackets_.size() >= kMaxItemDepth) {
              pos_ = i + 1;
              return structural_error(line_, "an element nested more than " +
                                                 std::to_string(kMaxItemDepth) + " levels deep");
            }
            brackets_.push_back(c);
          } else if (c == '}' || c == ']') {
            const char open = c == '}' ? '{' : '[';
            if (brackets_.back() != open) {
              pos_ = i + 1;
              return structural_error(
                  line_, std::string("'") + c + "' closes a '" + brackets_.back() + "'");
            }
            brackets_.pop_back();
          }
          if (!in_string_ && brackets_.empty()) {
            // The closing bracket or quote of the element.
            append(data + run, data + i + 1);
            pos_ = i + 1;
            state_ = ArrayState::kAfterItem;
            return finish_item(item_line_);
          }
          break;

        case ArrayState::kAfterItem:
          if (c == '\n') ++line_;
          if (is_space(c)) break;
          if (c == ',') {
            state_ = ArrayState::kExpectItem;
          } else if (c == ']') {
            state_ = ArrayState::kAfterClose;
          } else {
            pos_ = i + 1;
            return structural_error(line_, "expected ',' or ']' after the previous element, got " +
                                               describe_byte(c) + " (is a ',' missing?)");
          }
          break;

        case ArrayState::kAfterClose:
          if (c == '\n') ++line_;
          if (is_space(c)) break;
          pos_ = i + 1;
          return structural_error(line_, "text after the array's closing ']': " + describe_byte(c));
      }
    }
    if (state_ == ArrayState::kInItem) append(data + run, data + end_);
    pos_ = end_;
  }
}

Result<std::size_t> ItemReader::count_items(const std::string& path) {
  const std::string prefix = "cannot count the items of " + path + ": ";
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec) return Error::usage(prefix + ec.message());
  if (!std::filesystem::is_regular_file(status)) return Error::usage(prefix + "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::usage(prefix + std::strerror(errno));
  ItemReader reader(in, path, kDefaultMaxItemBytes, std::size_t{256} << 10);
  reader.keep_text_ = false;
  std::size_t count = 0;
  while (reader.next()) ++count;
  return count;
}

// ---------------------------------------------------------------------------------------------
// decode_bulk_item

namespace {

std::string_view to_std(json::string_view s) {
  return {s.data(), s.size()};
}

std::size_t skip_space(std::string_view text, std::size_t i) {
  while (i < text.size() && is_space(text[i])) ++i;
  return i;
}

// REQUIRES: text[i] is the opening quote of a valid JSON string. Returns the index after its
// closing quote.
std::size_t end_of_string(std::string_view text, std::size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return text.size();
}

// REQUIRES: a valid JSON value starts at text[i]. Returns the index just after it.
std::size_t end_of_value(std::string_view text, std::size_t i) {
  if (text[i] == '"') return end_of_string(text, i);
  if (text[i] != '{' && text[i] != '[') {
    while (i < text.size() && !is_space(text[i]) && text[i] != ',' && text[i] != '}' &&
           text[i] != ']') {
      ++i;
    }
    return i;
  }
  std::size_t depth = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      i = end_of_string(text, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return text.size();
}

struct Member {
  std::string key;         // decoded
  std::string_view value;  // the value's text exactly as written
};

// The members of a top-level object in the order written, duplicates included (a json::object
// keeps only one of two equal keys).
// REQUIRES: text is one valid JSON object, possibly surrounded by whitespace.
std::vector<Member> members_of(std::string_view text) {
  std::vector<Member> members;
  std::size_t i = skip_space(text, 0) + 1;  // past '{'
  for (;;) {
    i = skip_space(text, i);
    if (i >= text.size() || text[i] == '}') break;
    const std::size_t key_end = end_of_string(text, i);
    json::error_code ec;
    const json::value key = json::parse(text.substr(i, key_end - i), ec);
    i = skip_space(text, key_end) + 1;  // past ':'
    i = skip_space(text, i);
    const std::size_t value_end = end_of_value(text, i);
    members.push_back({key.is_string() ? std::string(to_std(key.get_string())) : std::string(),
                       text.substr(i, value_end - i)});
    i = skip_space(text, value_end);
    if (i < text.size() && text[i] == ',') ++i;
  }
  return members;
}

// "number 5", "an array", "\"\"", for "got …" in messages.
std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number " + json::serialize(v);
    case json::kind::string: {
      const std::string_view s = to_std(v.get_string());
      if (s.size() <= 60) return json_quote(s);
      std::size_t cut = 60;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      return json_quote(std::string(s.substr(0, cut)) + "…");
    }
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "something else";
}

// The same message shapes as decode_thread_request: one issue on one line, several in a list.
Error issues_error(const std::vector<JsonIssue>& issues, std::string_view what,
                   const std::string& source) {
  if (issues.size() == 1) return Error::usage(source + ": " + format_issues(issues, ""));
  return Error::usage("invalid " + std::string(what) + " in " + source + ":\n" +
                      format_issues(issues));
}

// A conversationThread's properties, writable and computed: keys that belong inside "thread".
const std::vector<std::string_view> kThreadProperties = {
    "topic", "posts",          "toRecipients", "ccRecipients",          "isLocked",
    "id",    "hasAttachments", "preview",      "lastDeliveredDateTime", "uniqueSenders"};

constexpr std::string_view kEnvelopeShape = R"({"group": "ID", "thread": {…}})";

// Checks an envelope's members; fills group and thread text when they are right.
std::vector<JsonIssue> check_envelope(const std::vector<Member>& members, std::string& group,
                                      std::string& thread_key, std::string_view& thread_text) {
  std::vector<JsonIssue> issues;
  const Member* group_member = nullptr;
  const Member* thread_member = nullptr;
  for (const Member& m : members) {
    const bool is_group = ascii_iequals(m.key, "group");
    if (is_group || ascii_iequals(m.key, "thread")) {
      const Member*& slot = is_group ? group_member : thread_member;
      if (slot != nullptr) {
        issues.push_back({m.key, "given twice"});
      } else {
        slot = &m;
      }
      continue;
    }
    const auto property = std::find_if(kThreadProperties.begin(), kThreadProperties.end(),
                                       [&](std::string_view p) { return ascii_iequals(p, m.key); });
    if (property != kThreadProperties.end() || m.key.find('@') != std::string::npos) {
      issues.push_back({m.key, "belongs inside \"thread\": {\"group\": …, \"thread\": {" +
                                   json_quote(m.key) + ": …}}"});
      continue;
    }
    const std::string suggestion = did_you_mean(m.key, {"group", "thread"});
    if (!suggestion.empty()) {
      issues.push_back({m.key, "unknown key (did you mean " + json_quote(suggestion) + "?)"});
    } else {
      issues.push_back({m.key, "unknown key; an envelope is " + std::string(kEnvelopeShape) +
                                   " and nothing else"});
    }
  }
  if (group_member == nullptr) {
    issues.push_back(
        {"", "missing \"group\" (the group's id); an envelope is " + std::string(kEnvelopeShape)});
  } else {
    json::error_code ec;
    const json::value value = json::parse(group_member->value, ec);
    const bool blank = value.is_string() &&
                       std::all_of(value.get_string().begin(), value.get_string().end(), is_space);
    if (!value.is_string() || blank) {
      issues.push_back({group_member->key,
                        "expected the group's id (a non-empty string), got " + describe(value)});
    } else {
      group = std::string(to_std(value.get_string()));
    }
  }
  if (thread_member == nullptr) {
    issues.push_back({"", "missing \"thread\" (the conversationThread); an envelope is " +
                              std::string(kEnvelopeShape)});
  } else if (thread_member->value.empty() || thread_member->value.front() != '{') {
    json::error_code ec;
    const json::value value = json::parse(thread_member->value, ec);
    issues.push_back(
        {thread_member->key, "expected an object (a conversationThread), got " + describe(value)});
  } else {
    thread_key = thread_member->key;
    thread_text = thread_member->value;
  }
  return issues;
}

// An object is taken for an envelope when it has a "group" or "thread" key, or a near miss of
// one that is not a thread property ("grup"), so that the message is about the envelope.
bool looks_like_envelope(const json::object& object) {
  for (const auto& member : object) {
    const std::string_view key = to_std(member.key());
    if (ascii_iequals(key, "group") || ascii_iequals(key, "thread")) return true;
  }
  for (const auto& member : object) {
    const std::string_view key = to_std(member.key());
    const bool thread_property =
        key.find('@') != std::string_view::npos ||
        std::any_of(kThreadProperties.begin(), kThreadProperties.end(),
                    [&](std::string_view p) { return ascii_iequals(p, key); });
    if (!thread_property && !did_you_mean(key, {"group", "thread"}).empty()) return true;
  }
  return false;
}

}  // namespace

Result<BulkItem> decode_bulk_item(const RawItem& raw, std::string_view default_group) {
  if (!raw.error.empty()) return Error::usage(raw.error);
  BulkItem out;
  out.index = raw.index;
  out.line = raw.line;

  // The common case first, in one parse: a conversationThread for the default group. An envelope
  // never decodes as a thread ("group" and "thread" are not thread properties), so only items
  // that do not decode are parsed again below to tell an envelope from a broken thread.
  if (!default_group.empty()) {
    // Most items are plain threads, decoded without building a document; any other (an envelope,
    // a problem, an annotation, another spelling) is decoded the long way, which has the messages.
    if (decode_plain_thread_request(raw.text, out.thread)) {
      out.group = std::string(default_group);
      return out;
    }
    out.thread = ThreadRequest();
    DecodedThread decoded;
    if (decode_thread_request_issues(raw.text, decoded).empty()) {
      out.group = std::string(default_group);
      out.thread = std::move(decoded.request);
      out.dropped = std::move(decoded.dropped);
      return out;
    }
  }
  // Only an item that is not the common case needs its name for messages.
  const std::string source = item_label_of(raw.index, raw.line);

  json::error_code ec;
  const json::value parsed = json::parse(raw.text, ec);
  const bool envelope = !ec && parsed.is_object() && looks_like_envelope(parsed.get_object());

  if (!envelope) {
    // Not JSON, not an object, or a conversationThread: decode_thread_request says which.
    if (!ec && parsed.is_object() && default_group.empty()) {
      return Error::usage(source +
                          ": no group: give --group or an envelope {\"group\":…,\"thread\":…}");
    }
    Result<DecodedThread> decoded = decode_thread_request(raw.text, source);
    if (!decoded) return std::move(decoded).error();
    out.group = std::string(default_group);
    out.thread = std::move(decoded->request);
    out.dropped = std::move(decoded->dropped);
    return out;
  }

  std::string thread_key;  // "thread" as written
  std::string_view thread_text;
  const std::vector<JsonIssue> envelope_issues =
      check_envelope(members_of(raw.text), out.group, thread_key, thread_text);
  if (!envelope_issues.empty()) return issues_error(envelope_issues, "envelope", source);

  DecodedThread decoded;
  std::vector<JsonIssue> issues = decode_thread_request_issues(thread_text, decoded);
  // Paths from inside the envelope start at "thread" as written ("… and 3 more problems" has no
  // path and keeps none).
  for (JsonIssue& issue : issues) {
    if (!issue.path.empty()) issue.path = thread_key + "." + issue.path;
  }
  if (!issues.empty()) return issues_error(issues, "thread", source);
  out.thread = std::move(decoded.request);
  for (std::string& path : decoded.dropped) out.dropped.push_back(thread_key + "." + path);
  return out;
}

}  // namespace gt
