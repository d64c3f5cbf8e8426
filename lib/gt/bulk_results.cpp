#include "gt/bulk_results.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "gt/byte_scan.hpp"
#include "gt/utf8.hpp"

namespace gt {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxResultLineBytes = std::size_t{1} << 20;

std::string_view to_std(json::string_view s) {
  return {s.data(), s.size()};
}

// Appends `s` as a JSON string, as json::serialize writes one (\" \\ \b \t \n \f \r, \u00xx for the
// other control characters, everything else as it is), except that every byte that does not
// belong to a well-formed UTF-8 sequence becomes U+FFFD, so that the line is always valid JSON
// text (Boost.JSON writes string bytes as they are). Runs of plain ASCII are copied whole: result
// lines are written once per item of a bulk run.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t plain = i + json_plain_prefix(s.substr(i));
    out.append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(s, i);
      if (length == 0) {
        out.append("\xEF\xBF\xBD");
        ++i;
      } else {
        out.append(s.data() + i, length);
        i += length;
      }
      continue;
    }
    out += '\\';
    switch (c) {
      case '"':
      case '\\':
        out += static_cast<char>(c);
        break;
      case '\b':
        out += 'b';
        break;
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\f':
        out += 'f';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out.append("u00");
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++i;
  }
  out += '"';
}

// `"key":` then the value, with a comma before every member but the first.
class LineWriter {
 public:
  static constexpr std::size_t kMaxKey = 16;  // "clientRequestId" is the longest
  explicit LineWriter(std::string& out) : out_(out) {}
  // One append per key (four were a third of a result line's cost): keys are short literals.
  void key(std::string_view k) {
    char text[kMaxKey + 4];
    char* p = text;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    k = k.substr(0, kMaxKey);  // never more: the keys are this file's literals
    std::memcpy(p, k.data(), k.size());
    p += k.size();
    *p++ = '"';
    *p++ = ':';
    out_.append(text, static_cast<std::size_t>(p - text));
  }
  void string(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out_, v);
  }
  void number(std::string_view k, std::uint64_t v) {
    key(k);
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
  }
  void number(std::string_view k, int v) {
    key(k);
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_.append(v ? "true" : "false");
  }

 private:
  std::string& out_;
  bool first_ = true;
};

// At most 80 bytes of a line for a message: control characters out, not cut inside a character.
std::string snippet(std::string_view line) {
  std::string out;
  std::size_t i = 0;
  for (; i < line.size() && out.size() < 80;) {
    const std::size_t length = utf8_sequence_length(line, i);
    const auto c = static_cast<unsigned char>(line[i]);
    if (length == 0 || c < 0x20 || c == 0x7F) {
      out += '?';
      ++i;
    } else {
      out.append(line.substr(i, length));
      i += length;
    }
  }
  if (i < line.size()) out += "…";
  return out;
}

// Reads one line (without its '\n') from `sb`, keeping at most `max` bytes of it. Returns false
// when there was nothing left to read.
bool read_line(std::streambuf& sb, std::string& line, bool& had_newline, bool& too_long) {
  using traits = std::streambuf::traits_type;
  line.clear();
  had_newline = false;
  too_long = false;
  bool any = false;
  for (;;) {
    const traits::int_type ch = sb.sbumpc();
    if (traits::eq_int_type(ch, traits::eof())) return any;
    any = true;
    if (ch == '\n') {
      had_newline = true;
      return true;
    }
    if (line.size() < kMaxResultLineBytes) {
      line.push_back(traits::to_char_type(ch));
    } else {
      too_long = true;
    }
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

struct ParsedLine {
  std::size_t index = 0;
  Outcome outcome = Outcome::kFailed;
  std::string group;
  std::string id;
};

// Why `v` is not a result line, or "" when it is one (then `out` is filled).
std::string check_result_line(const json::value& v, ParsedLine& out) {
  if (!v.is_object()) return "not a JSON object";
  const json::object& object = v.get_object();

  const json::value* index = object.if_contains("index");
  if (index == nullptr) return "no \"index\"";
  if (index->is_uint64()) {
    out.index = static_cast<std::size_t>(index->get_uint64());
  } else if (index->is_int64() && index->get_int64() >= 0) {
    out.index = static_cast<std::size_t>(index->get_int64());
  } else {
    return "\"index\" is not a non-negative integer";
  }

  const json::value* outcome = object.if_contains("outcome");
  if (outcome == nullptr) return "no \"outcome\"";
  std::optional<Outcome> parsed;
  if (outcome->is_string()) parsed = parse_outcome(to_std(outcome->get_string()));
  if (!parsed) return "\"outcome\" is not one of created, failed, unknown, skipped";
  out.outcome = *parsed;

  for (const auto& [key, target] : {std::pair{"group", &out.group}, std::pair{"id", &out.id}}) {
    const json::value* value = object.if_contains(key);
    if (value == nullptr) continue;
    if (!value->is_string()) return "\"" + std::string(key) + "\" is not a string";
    *target = std::string(to_std(value->get_string()));
  }
  return "";
}

}  // namespace

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCreated:
      return "created";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (Outcome o : {Outcome::kCreated, Outcome::kFailed, Outcome::kUnknown, Outcome::kSkipped}) {
    if (name == outcome_name(o)) return o;
  }
  return std::nullopt;
}

ItemError item_error(const Error& error) {
  ItemError out;
  out.code = error.code;
  out.message = error.message;
  out.request_id = error.request_id;
  out.client_request_id = error.client_request_id;
  out.kind = error.kind;
  return out;
}

std::string encode_result_line(const ItemResult& result) {
  std::string out;
  append_result_line(out, result);
  return out;
}

void append_result_line(std::string& out, const ItemResult& result) {
  // Written directly in the documented key order (the same bytes json::serialize gives for a
  // json::object built in that order, without building one).
  out.reserve(out.size() + 96 + result.group.size() + result.id.size() + result.topic.size());
  out += '{';
  LineWriter line(out);
  line.number("index", static_cast<std::uint64_t>(result.index));
  line.string("group", result.group);
  line.string("outcome", outcome_name(result.outcome));
  if (result.status != 0) line.number("status", result.status);
  if (!result.id.empty()) line.string("id", result.id);
  if (!result.topic.empty()) line.string("topic", result.topic);
  if (result.attempts > 0) line.number("attempts", result.attempts);
  if (result.reconciled) line.boolean("reconciled", true);
  if (result.resent) line.boolean("resent", true);
  if (result.outcome == Outcome::kFailed || result.outcome == Outcome::kUnknown) {
    line.key("error");
    out += '{';
    LineWriter error(out);
    const ItemError& e = result.error;
    if (!e.code.empty()) error.string("code", e.code);
    if (!e.message.empty()) error.string("message", e.message);
    if (!e.request_id.empty()) error.string("requestId", e.request_id);
    if (!e.client_request_id.empty()) error.string("clientRequestId", e.client_request_id);
    out += '}';
  }
  out += '}';
}

std::optional<ResumeEntry> ResumeSet::find(std::size_t index) const {
  const auto it = entries_.find(index);
  if (it == entries_.end()) return std::nullopt;
  return ResumeEntry{groups_[it->second.group], it->second.id};
}

Result<ResumeSet> read_resume_file(std::istream& in, const std::string& source) {
  ResumeSet set;
  std::streambuf* sb = in.rdbuf();
  if (sb == nullptr) return set;
  std::unordered_map<std::string, std::uint32_t> group_numbers;
  std::string line;
  bool had_newline = false;
  bool too_long = false;
  for (std::size_t number = 1; read_line(*sb, line, had_newline, too_long); ++number) {
    std::string_view text = line;
    if (number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    text = trim(text);
    if (text.empty() && !too_long) continue;
    const auto not_a_result_line = [&](const std::string& why) {
      return Error::usage(source + " line " + std::to_string(number) +
                          ": not a result line: " + why + ": " + snippet(text));
    };
    if (too_long) {
      return not_a_result_line("longer than " + std::to_string(kMaxResultLineBytes) + " bytes");
    }

    json::stream_parser parser;
    json::error_code ec;
    parser.write(text.data(), text.size(), ec);
    const bool prefix_ok = !ec;
    if (!ec) parser.finish(ec);
    if (ec) {
      // A last line that is the start of an object and nothing wrong with it so far is a line a
      // run was writing when it died. Its item was not recorded as done, so it is sent again.
      if (!had_newline && prefix_ok && text.front() == '{') {
        set.truncated_last_line_ = true;
        break;
      }
      return not_a_result_line("not JSON (" + ec.message() + ")");
    }

    ParsedLine parsed;
    const std::string why = check_result_line(parser.release(), parsed);
    if (!why.empty()) return not_a_result_line(why);
    ++set.lines_;
    if (parsed.outcome != Outcome::kCreated && parsed.outcome != Outcome::kSkipped) continue;
    if (set.entries_.contains(parsed.index)) continue;
    const auto [group, added] =
        group_numbers.try_emplace(parsed.group, static_cast<std::uint32_t>(set.groups_.size()));
    if (added) set.groups_.push_back(parsed.group);
    set.entries_.emplace(parsed.index, ResumeSet::Stored{group->second, std::move(parsed.id)});
  }
  return set;
}

}  // namespace gt
