#include "gt/format.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gt/json_codec.hpp"

namespace gt {
namespace {

// ---------------------------------------------------------------------------------------------
// Making untrusted text safe for a terminal. Thread topics, previews and Graph's messages come
// from other people; an ESC or C1 byte in them could move the cursor, recolour the screen, set
// the window title or worse. Every control character is dropped, and so is the rest of an escape
// sequence it starts, so "\x1b[31mred" prints as "red" rather than "[31mred".

struct CodePoint {
  char32_t value;
  std::size_t length;  // bytes consumed
  bool valid;
};

CodePoint decode_utf8(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return {0xFFFD, 1, false};
  }
  if (i + length > s.size()) return {0xFFFD, 1, false};
  for (std::size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0xFFFD, 1, false};
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return {0xFFFD, 1, false};
  }
  return {value, length, true};
}

bool is_control(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

bool is_line_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

// Skips a control string (OSC, DCS, SOS, PM, APC) up to and including its terminator: BEL,
// ESC '\' or the C1 string terminator.
std::size_t skip_control_string(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const CodePoint cp = decode_utf8(s, i);
    if (cp.value == 0x07 || cp.value == 0x9C) return i + cp.length;
    if (cp.value == 0x1B && i + 1 < s.size() && s[i + 1] == '\\') return i + 2;
    i += cp.length;
  }
  return i;
}

// Skips CSI parameter and intermediate bytes and the final byte.
std::size_t skip_csi(std::string_view s, std::size_t i) {
  while (i < s.size() && s[i] >= 0x20 && s[i] <= 0x3F) ++i;
  if (i < s.size() && s[i] >= 0x40 && s[i] <= 0x7E) ++i;
  return i;
}

// `i` is just past an ESC.
std::size_t skip_escape(std::string_view s, std::size_t i) {
  if (i >= s.size()) return i;
  const char c = s[i];
  if (c == '[') return skip_csi(s, i + 1);
  if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
    return skip_control_string(s, i + 1);
  }
  while (i < s.size() && s[i] >= 0x20 && s[i] <= 0x2F) ++i;  // intermediates, as in ESC ( B
  if (i < s.size() && s[i] >= 0x30 && s[i] <= 0x7E) ++i;
  return i;
}

// Returns the index just past the control character at `i` and whatever sequence it introduces.
std::size_t skip_control(std::string_view s, std::size_t i, const CodePoint& cp) {
  const std::size_t next = i + cp.length;
  switch (cp.value) {
    case 0x1B:
      return skip_escape(s, next);
    case 0x9B:
      return skip_csi(s, next);
    case 0x90:
    case 0x98:
    case 0x9D:
    case 0x9E:
    case 0x9F:
      return skip_control_string(s, next);
    default:
      return next;
  }
}

enum class Lines { kOne, kKeep };

// kOne: one line, every run of whitespace becomes a single space, trimmed. kKeep: line breaks
// and tabs kept as given. Both drop control characters and escape sequences and replace invalid
// UTF-8 with U+FFFD.
std::string clean(std::string_view s, Lines lines) {
  std::string out;
  bool pending_space = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const CodePoint cp = decode_utf8(s, i);
    if (lines == Lines::kKeep && (cp.value == '\n' || cp.value == '\t')) {
      out += static_cast<char>(cp.value);
      i += 1;
    } else if (lines == Lines::kOne && is_line_space(cp.value)) {
      pending_space = !out.empty();
      i += cp.length;
    } else if (is_control(cp.value)) {
      i = skip_control(s, i, cp);
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += cp.valid ? s.substr(i, cp.length) : std::string_view("\xEF\xBF\xBD");
      i += cp.length;
    }
  }
  return out;
}

// Columns are counted as code points (the input is clean UTF-8 by then).
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Shortens `s` to at most `width` columns, ending in "…" when something was cut.
std::string shorten(std::string_view s, std::size_t width) {
  if (columns(s) <= width) return std::string(s);
  if (width == 0) return "";
  std::size_t keep = width - 1;
  std::size_t end = 0;
  while (end < s.size() && keep > 0) {
    ++end;
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    --keep;
  }
  std::string out(s.substr(0, end));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "…";
}

// ---------------------------------------------------------------------------------------------
// The table.

enum Column : std::size_t { kId, kTopic, kLastDelivered, kLocked, kPreview, kColumnCount };
using Row = std::array<std::string, kColumnCount>;

constexpr std::string_view kGap = "  ";

std::string cell(const std::optional<std::string>& value) {
  std::string text = value ? clean(*value, Lines::kOne) : "";
  return text.empty() ? "-" : text;
}

Row row_of(const CreatedThread& t) {
  return {cell(t.id), cell(t.topic), cell(t.last_delivered),
          t.is_locked ? (*t.is_locked ? "yes" : "no") : "-", cell(t.preview)};
}

using Widths = std::array<std::size_t, kColumnCount>;

// With a terminal width, the preview gives way first, then the topic; neither goes below its
// header. The id, the date and the lock state are never shortened.
void fit(Widths& w, std::size_t width) {
  const std::size_t fixed = w[kId] + w[kLastDelivered] + w[kLocked] + kGap.size() * 4;
  const std::size_t room = width > fixed ? width - fixed : 0;
  constexpr std::size_t kMinTopic = 5;    // "TOPIC"
  constexpr std::size_t kMinPreview = 7;  // "PREVIEW"
  if (w[kTopic] + w[kPreview] <= room) return;
  w[kPreview] = std::max(room > w[kTopic] ? room - w[kTopic] : 0, kMinPreview);
  if (w[kTopic] + w[kPreview] <= room) return;
  w[kTopic] = std::max(room > w[kPreview] ? room - w[kPreview] : 0, kMinTopic);
}

void write_row(std::ostream& out, const Row& row, const Widths& w) {
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    out << row[c];
    if (c + 1 == kColumnCount) break;
    out << std::string(w[c] - columns(row[c]), ' ') << kGap;
  }
  out << '\n';
}

std::string_view trim_trailing_space(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string error_details(const Error& e) {
  std::string out;
  auto add = [&](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    if (!out.empty()) out += ", ";
    out += label;
    out += clean(value, Lines::kOne);
  };
  if (e.http_status != 0) add("HTTP ", std::to_string(e.http_status));
  add("code ", e.code);
  add("request-id ", e.request_id);
  add("client-request-id ", e.client_request_id);
  add("date ", e.date);
  return out;
}

}  // namespace

std::optional<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "table") return OutputFormat::kTable;
  if (name == "id") return OutputFormat::kId;
  return std::nullopt;
}

const char* output_format_name(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kId:
      return "id";
  }
  return "json";
}

void write_thread(std::ostream& out, const CreatedThread& thread, OutputFormat format,
                  const FormatOptions& options) {
  switch (format) {
    case OutputFormat::kJson: {
      // Trailing whitespace is dropped so that a body ending in "\n" does not print a blank line.
      const std::string_view raw = trim_trailing_space(thread.raw_json);
      out << (options.pretty_json ? pretty_json(raw) : std::string(raw)) << '\n';
      return;
    }
    case OutputFormat::kTable:
      write_thread_table(out, {thread}, options);
      return;
    case OutputFormat::kId: {
      const std::string id = clean(thread.id, Lines::kOne);
      if (!id.empty()) out << id << '\n';
      return;
    }
  }
}

void write_thread_table(std::ostream& out, const std::vector<CreatedThread>& threads,
                        const FormatOptions& options) {
  const Row header = {"ID", "TOPIC", "LAST DELIVERED", "LOCKED", "PREVIEW"};
  std::vector<Row> rows;
  rows.reserve(threads.size());
  for (const CreatedThread& t : threads) rows.push_back(row_of(t));

  Widths w{};
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    w[c] = columns(header[c]);
    for (const Row& row : rows) w[c] = std::max(w[c], columns(row[c]));
  }
  if (options.width > 0) {
    fit(w, options.width);
    for (Row& row : rows) {
      row[kTopic] = shorten(row[kTopic], w[kTopic]);
      row[kPreview] = shorten(row[kPreview], w[kPreview]);
    }
  }
  write_row(out, header, w);
  for (const Row& row : rows) write_row(out, row, w);
}

ThreadListWriter::ThreadListWriter(std::ostream& out, OutputFormat format, FormatOptions options)
    : out_(out), format_(format), options_(options) {}

void ThreadListWriter::add(const std::vector<CreatedThread>& page) {
  const bool stream_json = format_ == OutputFormat::kJson && !options_.pretty_json;
  for (const CreatedThread& t : page) {
    if (stream_json) {
      out_ << (written_ == 0 ? "[\n" : ",\n") << trim_trailing_space(t.raw_json);
    } else if (format_ == OutputFormat::kId) {
      write_thread(out_, t, OutputFormat::kId, options_);
    } else {
      buffered_.push_back(t);
    }
    ++written_;
  }
  out_.flush();
}

void ThreadListWriter::finish() {
  switch (format_) {
    case OutputFormat::kJson:
      if (options_.pretty_json) {
        std::string array = "[";
        for (std::size_t i = 0; i < buffered_.size(); ++i) {
          array += (i ? "," : "") + std::string(trim_trailing_space(buffered_[i].raw_json));
        }
        out_ << pretty_json(array + "]") << '\n';
      } else {
        out_ << (written_ == 0 ? "[]\n" : "\n]\n");
      }
      break;
    case OutputFormat::kTable:
      write_thread_table(out_, buffered_, options_);
      break;
    case OutputFormat::kId:
      break;
  }
  out_.flush();
}

void write_error(std::ostream& err, std::string_view program, const Error& error) {
  std::string message(trim_trailing_space(clean(error.message, Lines::kKeep)));
  if (message.empty()) message = kind_name(error.kind);
  err << program << ": " << message << '\n';
  if (const std::string details = error_details(error); !details.empty()) {
    err << "  " << details << '\n';
  }
  const std::string hint(trim_trailing_space(clean(error.hint, Lines::kOne)));
  if (!hint.empty()) err << "  hint: " << hint << '\n';
}

}  // namespace gt
