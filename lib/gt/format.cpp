#include "gt/format.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gt/address.hpp"
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
// The table and tsv: one cell per column, a column per conversationThread property.

enum class Prop {
  kId,
  kTopic,
  kHasAttachments,
  kLastDelivered,
  kUniqueSenders,
  kPreview,
  kIsLocked,
  kToRecipients,
  kCcRecipients
};

struct PropInfo {
  std::string_view name;    // Graph's property name
  std::string_view header;  // the table's column header
  int shrink_rank;          // 0: never shortened; otherwise the order in which columns give way
};

// In thread_property_names() order.
constexpr std::array<PropInfo, 9> kProps = {{
    {"id", "ID", 0},
    {"topic", "TOPIC", 5},
    {"hasAttachments", "ATTACHMENTS", 0},
    {"lastDeliveredDateTime", "LAST DELIVERED", 0},
    {"uniqueSenders", "SENDERS", 2},
    {"preview", "PREVIEW", 1},
    {"isLocked", "LOCKED", 0},
    {"toRecipients", "TO", 4},
    {"ccRecipients", "CC", 3},
}};

constexpr std::array<Prop, 5> kDefaultColumns = {Prop::kId, Prop::kTopic, Prop::kLastDelivered,
                                                 Prop::kIsLocked, Prop::kPreview};

const PropInfo& info(Prop p) {
  return kProps[static_cast<std::size_t>(p)];
}

std::vector<Prop> columns_of(const FormatOptions& options) {
  if (options.columns.empty()) return {kDefaultColumns.begin(), kDefaultColumns.end()};
  std::vector<Prop> out;
  for (const std::string& name : options.columns) {
    for (std::size_t i = 0; i < kProps.size(); ++i) {
      if (kProps[i].name == name) out.push_back(static_cast<Prop>(i));
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::optional<std::string> recipients_text(const std::optional<std::vector<Recipient>>& rs) {
  if (!rs) return std::nullopt;
  std::vector<std::string> parts;
  for (const Recipient& r : *rs) parts.push_back(format_recipient(r));
  return join(parts);
}

std::optional<std::string> yes_no(std::optional<bool> b) {
  if (!b) return std::nullopt;
  return *b ? "yes" : "no";
}

// The cell's text as the service sent it (not yet made safe); nullopt when absent.
std::optional<std::string> raw_cell(const CreatedThread& t, Prop p) {
  switch (p) {
    case Prop::kId:
      return t.id;
    case Prop::kTopic:
      return t.topic;
    case Prop::kHasAttachments:
      return yes_no(t.has_attachments);
    case Prop::kLastDelivered:
      return t.last_delivered;
    case Prop::kUniqueSenders:
      return join(t.unique_senders);
    case Prop::kPreview:
      return t.preview;
    case Prop::kIsLocked:
      return yes_no(t.is_locked);
    case Prop::kToRecipients:
      return recipients_text(t.to_recipients);
    case Prop::kCcRecipients:
      return recipients_text(t.cc_recipients);
  }
  return std::nullopt;
}

// One line, controls removed; "" when absent.
std::string clean_cell(const CreatedThread& t, Prop p) {
  const std::optional<std::string> raw = raw_cell(t, p);
  return raw ? clean(*raw, Lines::kOne) : "";
}

using Row = std::vector<std::string>;
using Widths = std::vector<std::size_t>;

constexpr std::string_view kGap = "  ";

Row table_row(const CreatedThread& t, const std::vector<Prop>& cols) {
  Row row;
  for (Prop p : cols) {
    std::string text = clean_cell(t, p);
    row.push_back(text.empty() ? "-" : std::move(text));
  }
  return row;
}

// With a terminal width, the shrinkable columns give way in their rank order (preview first,
// topic last), none below its header's width. Ids, dates and yes/no are never shortened.
void fit(Widths& w, const std::vector<Prop>& cols, std::size_t width) {
  std::size_t total = cols.empty() ? 0 : kGap.size() * (cols.size() - 1);
  for (std::size_t c : w) total += c;
  for (int rank = 1; rank <= 5 && total > width; ++rank) {
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (info(cols[c]).shrink_rank != rank) continue;
      const std::size_t min = columns(info(cols[c]).header);
      const std::size_t give = std::min(total - width, w[c] > min ? w[c] - min : 0);
      w[c] -= give;
      total -= give;
    }
  }
}

void write_row(std::ostream& out, const Row& row, const Widths& w, const std::vector<Prop>& cols,
               bool header, bool color) {
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (header) {
      out << paint(row[c], "1", color);
    } else if (cols[c] == Prop::kIsLocked && row[c] == "yes") {
      out << paint(row[c], "33", color);
    } else {
      out << row[c];
    }
    if (c + 1 == row.size()) break;
    out << std::string(w[c] - columns(row[c]), ' ') << kGap;
  }
  out << '\n';
}

void write_tsv_row(std::ostream& out, const CreatedThread& t, const std::vector<Prop>& cols) {
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (c) out << '\t';
    out << clean_cell(t, cols[c]);
  }
  out << '\n';
}

std::string json_text(std::string_view raw, const FormatOptions& options, bool one_line) {
  if (one_line) return layout_json(raw, JsonLayout{.indent = false, .color = options.color});
  if (options.pretty_json || options.color) {
    return layout_json(raw, JsonLayout{.indent = options.pretty_json, .color = options.color});
  }
  return std::string(raw);
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
  if (name == "ndjson") return OutputFormat::kNdjson;
  if (name == "tsv") return OutputFormat::kTsv;
  return std::nullopt;
}

const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> names = {"json", "table", "id", "ndjson", "tsv"};
  return names;
}

const std::vector<std::string>& thread_property_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const PropInfo& p : kProps) out.emplace_back(p.name);
    return out;
  }();
  return names;
}

Result<std::vector<std::string>> parse_thread_select(std::string_view value) {
  std::string valid;
  std::vector<std::string_view> candidates;
  for (const PropInfo& p : kProps) {
    valid += (valid.empty() ? "" : ", ") + std::string(p.name);
    candidates.push_back(p.name);
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = value.find(',', start);
    const std::string_view name = value.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (name.empty()) {
      return Error::usage(
          "--select: expected comma-separated property names, e.g. "
          "id,topic,toRecipients (got \"" +
          clean(value, Lines::kOne) + "\")");
    }
    const bool letters = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    const auto it = std::find_if(kProps.begin(), kProps.end(), [&](const PropInfo& p) {
      return p.name.size() == name.size() &&
             std::equal(name.begin(), name.end(), p.name.begin(),
                        [](char a, char b) { return (a | 0x20) == (b | 0x20); });
    });
    if (!letters || it == kProps.end()) {
      std::string msg = "--select: \"" + clean(name, Lines::kOne) + "\" is not a " +
                        (letters ? "conversationThread property" : "property name (letters only)");
      if (const std::string s = did_you_mean(name, candidates); letters && !s.empty()) {
        msg += " (did you mean \"" + s + "\"?)";
      }
      return Error::usage(msg + "; valid: " + valid);
    }
    if (std::find(out.begin(), out.end(), it->name) != out.end()) {
      return Error::usage("--select: \"" + std::string(it->name) + "\" is named twice");
    }
    out.emplace_back(it->name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string one_line(std::string_view text) {
  return clean(text, Lines::kOne);
}

std::string paint(std::string_view text, std::string_view sgr, bool color) {
  if (!color || text.empty()) return std::string(text);
  return "\x1b[" + std::string(sgr) + "m" + std::string(text) + "\x1b[0m";
}

const char* output_format_name(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kId:
      return "id";
    case OutputFormat::kNdjson:
      return "ndjson";
    case OutputFormat::kTsv:
      return "tsv";
  }
  return "json";
}

void write_thread(std::ostream& out, const CreatedThread& thread, OutputFormat format,
                  const FormatOptions& options) {
  switch (format) {
    case OutputFormat::kJson: {
      // Trailing whitespace is dropped so that a body ending in "\n" does not print a blank line.
      out << json_text(trim_trailing_space(thread.raw_json), options, false) << '\n';
      return;
    }
    case OutputFormat::kNdjson:
      out << json_text(trim_trailing_space(thread.raw_json), options, true) << '\n';
      return;
    case OutputFormat::kTable:
      write_thread_table(out, {thread}, options);
      return;
    case OutputFormat::kTsv:
      write_tsv_row(out, thread, columns_of(options));
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
  const std::vector<Prop> cols = columns_of(options);
  Row header;
  for (Prop p : cols) header.emplace_back(info(p).header);
  std::vector<Row> rows;
  rows.reserve(threads.size());
  for (const CreatedThread& t : threads) rows.push_back(table_row(t, cols));

  Widths w(cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c) {
    w[c] = columns(header[c]);
    for (const Row& row : rows) w[c] = std::max(w[c], columns(row[c]));
  }
  if (options.width > 0) {
    fit(w, cols, options.width);
    for (Row& row : rows) {
      for (std::size_t c = 0; c < cols.size(); ++c) row[c] = shorten(row[c], w[c]);
    }
  }
  write_row(out, header, w, cols, true, options.color);
  for (const Row& row : rows) write_row(out, row, w, cols, false, options.color);
}

ThreadListWriter::ThreadListWriter(std::ostream& out, OutputFormat format, FormatOptions options)
    : out_(out), format_(format), options_(options) {}

void ThreadListWriter::add(const std::vector<CreatedThread>& page) {
  const bool stream_json =
      format_ == OutputFormat::kJson && !options_.pretty_json && !options_.color;
  const bool stream_lines = format_ == OutputFormat::kId || format_ == OutputFormat::kNdjson ||
                            format_ == OutputFormat::kTsv;
  for (const CreatedThread& t : page) {
    if (stream_json) {
      out_ << (written_ == 0 ? "[\n" : ",\n") << trim_trailing_space(t.raw_json);
    } else if (stream_lines) {
      write_thread(out_, t, format_, options_);
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
      if (options_.pretty_json || options_.color) {
        std::string array = "[";
        for (std::size_t i = 0; i < buffered_.size(); ++i) {
          array += (i ? "," : "") + std::string(trim_trailing_space(buffered_[i].raw_json));
        }
        out_ << json_text(array + "]", options_, false) << '\n';
      } else {
        out_ << (written_ == 0 ? "[]\n" : "\n]\n");
      }
      break;
    case OutputFormat::kTable:
      write_thread_table(out_, buffered_, options_);
      break;
    case OutputFormat::kId:
    case OutputFormat::kNdjson:
    case OutputFormat::kTsv:
      break;
  }
  out_.flush();
}

std::string action_json(const ActionResult& r) {
  std::string j = "{\"id\":" + json_quote(r.id) + ",\"group\":" + json_quote(r.group) +
                  ",\"action\":" + json_quote(r.action);
  if (r.is_locked) j += std::string(",\"isLocked\":") + (*r.is_locked ? "true" : "false");
  return j + "}";
}

void write_action(std::ostream& out, const ActionResult& r, OutputFormat format,
                  const FormatOptions& options) {
  const std::string id = clean(r.id, Lines::kOne);
  const std::string group = clean(r.group, Lines::kOne);
  switch (format) {
    case OutputFormat::kJson:
      out << json_text(action_json(r), options, false) << '\n';
      break;
    case OutputFormat::kNdjson:
      out << json_text(action_json(r), options, true) << '\n';
      break;
    case OutputFormat::kTable: {
      const Row header = {"ID", "GROUP", "ACTION"};
      const Row row = {id.empty() ? "-" : id, group.empty() ? "-" : group, r.action};
      Widths w(3);
      for (std::size_t c = 0; c < 3; ++c) w[c] = std::max(columns(header[c]), columns(row[c]));
      const std::vector<Prop> cols(3, Prop::kId);
      write_row(out, header, w, cols, true, options.color);
      write_row(out, row, w, cols, false, options.color);
      break;
    }
    case OutputFormat::kTsv:
      out << id << '\t' << group << '\t' << r.action << '\n';
      break;
    case OutputFormat::kId:
      if (!id.empty()) out << id << '\n';
      break;
  }
}

void write_error(std::ostream& err, std::string_view program, const Error& error, bool color) {
  std::string message(trim_trailing_space(clean(error.message, Lines::kKeep)));
  if (message.empty()) message = kind_name(error.kind);
  err << paint(std::string(program) + ":", "1;31", color) << ' ' << message << '\n';
  if (const std::string details = error_details(error); !details.empty()) {
    err << "  " << details << '\n';
  }
  const std::string hint(trim_trailing_space(clean(error.hint, Lines::kOne)));
  if (!hint.empty()) err << "  hint: " << hint << '\n';
}

}  // namespace gt
