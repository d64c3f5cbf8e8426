// gt/format: writers for created threads and errors. They write to the std::ostream they are given
// and know nothing of terminals or HTTP; the caller decides (from Io) whether output is pretty.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "gt/error.hpp"
#include "gt/model.hpp"

namespace gt {

enum class OutputFormat { kJson, kTable, kId, kNdjson, kTsv };
// json | table | id | ndjson | tsv (exact spelling); nullopt for anything else.
std::optional<OutputFormat> parse_output_format(std::string_view name);
const char* output_format_name(OutputFormat f);
// Every format name, in the order above (for usage messages, --help and completions).
const std::vector<std::string>& output_format_names();

// The conversationThread properties Graph v1.0 answers with, in Graph's order: id, topic,
// hasAttachments, lastDeliveredDateTime, uniqueSenders, preview, isLocked, toRecipients,
// ccRecipients. (posts is a navigation property and cannot be selected.)
const std::vector<std::string>& thread_property_names();

// Checks a --select value: comma-separated property names, each letters only and one of
// thread_property_names() (matched case-insensitively, returned in its canonical spelling), no
// duplicates, at least one. Fails (kUsage) naming --select and the offending name, with a
// did-you-mean suggestion and the list of valid names.
Result<std::vector<std::string>> parse_thread_select(std::string_view value);

struct FormatOptions {
  bool pretty_json = false;  // re-indent JSON (terminal); otherwise bytes exactly as received
  bool color = false;        // ANSI colours: JSON as jq colours it, bold table header, LOCKED yes
  std::size_t width = 0;     // terminal width for tables; 0 = never truncate
  // table and tsv columns, as property names from thread_property_names() (--select); empty: id,
  // topic, lastDeliveredDateTime, isLocked, preview.
  std::vector<std::string> columns;
};

// json: the response object as received (re-indented when pretty_json, coloured when color), then
//       a newline; trailing whitespace of the body is dropped so that exactly one newline ends
//       the output.
// ndjson: the object on one line (whitespace between tokens dropped; values unchanged).
// table: a header row and one row per thread, columns two spaces apart and padded to the widest
//        cell (the last one not padded). Default columns ID, TOPIC, LAST DELIVERED, LOCKED,
//        PREVIEW; with `columns`, one per property (ID, TOPIC, ATTACHMENTS, LAST DELIVERED,
//        SENDERS, PREVIEW, LOCKED, TO, CC). Booleans print as yes/no, lists (senders,
//        recipients as "Name <a@b>") joined with ", ". Missing or empty values print as "-". Each
//        value is put on one line (whitespace runs -> one space) with control characters and the
//        escape sequences they start removed, so text from the service cannot drive the
//        terminal. Widths count code points. When `width` is set, preview, senders, cc, to and
//        then topic are shortened with "…" (never below their header's width) so that a row
//        fits; id, dates and yes/no never are. With color: the header bold, LOCKED yes yellow.
// tsv: the table's cells without header, padding, truncation or "-": one line per thread, cells
//      separated by one tab, a missing value an empty field (tabs and newlines inside values
//      became single spaces as in the table). Never coloured.
// id: the id and a newline (nothing when the response carried no id); control characters removed.
void write_thread(std::ostream& out, const CreatedThread& thread, OutputFormat format,
                  const FormatOptions& options);
void write_thread_table(std::ostream& out, const std::vector<CreatedThread>& threads,
                        const FormatOptions& options);

// Writes a list of threads as pages arrive (GET /threads with --all), in one of the formats:
//   json   a JSON array of the thread objects as received: "[" then one element per line, "]"
//          (re-indented as a whole at finish() when pretty_json, so it is buffered then);
//   ndjson one thread object per line, written as each page arrives;
//   table  the table above; buffered until finish() so that columns line up;
//   tsv    one row per thread, written as each page arrives;
//   id     one id per line, written as each page arrives.
// An empty list is "[]" / a header only / nothing.
class ThreadListWriter {
 public:
  ThreadListWriter(std::ostream& out, OutputFormat format, FormatOptions options);
  void add(const std::vector<CreatedThread>& page);
  void finish();  // REQUIRES: called once, after the last add()

 private:
  std::ostream& out_;
  OutputFormat format_;
  FormatOptions options_;
  std::vector<CreatedThread> buffered_;
  std::size_t written_ = 0;
};

// What reply, lock, unlock and delete print when -o asks for it: the thread acted on.
struct ActionResult {
  std::string id;                 // the thread id
  std::string group;              // the group id
  std::string action;             // "replied", "locked", "unlocked", "deleted"
  std::optional<bool> is_locked;  // lock/unlock: the state now
};
// json/ndjson: {"id":…,"group":…,"action":…[,"isLocked":b]} (indented and coloured per
// options, one line for ndjson); table: header ID, GROUP, ACTION and one row; tsv:
// id<TAB>group<TAB>action; id: the thread id.
void write_action(std::ostream& out, const ActionResult& result, OutputFormat format,
                  const FormatOptions& options);
// The JSON object of write_action, on one line.
std::string action_json(const ActionResult& result);

// `text` (from the service) on one line, as the table shows it: whitespace runs become one space,
// control characters and the escape sequences they start are dropped, invalid UTF-8 is U+FFFD.
std::string one_line(std::string_view text);

// Wraps `text` in the SGR sequence `sgr` ("1" bold, "31" red, ...) when `color`, else returns it.
std::string paint(std::string_view text, std::string_view sgr, bool color);

// Writes a failure for stderr:
//   graph-threads: <message>
//     HTTP 404, code ErrorItemNotFound, request-id …, client-request-id …, date …
//     hint: <hint>
// The detail line lists only the fields that are set and is left out when none is; the hint line
// only when there is a hint. A multi-line message is printed as given (the kind's name when it is
// empty). Since messages and codes may come from the service, control characters are removed
// everywhere: the message keeps only its newlines and tabs, details and hint are put on one line.
// `program` is the prefix ("graph-threads"); with `color` it is printed bold red.
void write_error(std::ostream& err, std::string_view program, const Error& error,
                 bool color = false);

}  // namespace gt
