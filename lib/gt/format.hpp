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

enum class OutputFormat { kJson, kTable, kId };
std::optional<OutputFormat> parse_output_format(std::string_view name);  // json | table | id
const char* output_format_name(OutputFormat f);

struct FormatOptions {
  bool pretty_json = false;  // re-indent JSON (terminal); otherwise bytes exactly as received
  std::size_t width = 0;     // terminal width for tables; 0 = never truncate
};

// json: the response object as received (re-indented when pretty_json), then a newline; trailing
//       whitespace of the body is dropped so that exactly one newline ends the output.
// table: a header row and one row per thread: ID, TOPIC, LAST DELIVERED, LOCKED, PREVIEW, columns
//        two spaces apart and padded to the widest cell (the last one not padded). Missing or
//        empty values print as "-". Each value is put on one line (whitespace runs -> one space)
//        with control characters and the escape sequences they start removed, so text from the
//        service cannot drive the terminal. Widths count code points. The id is never truncated;
//        when `width` is set, preview and then topic are shortened with "…" (never below their
//        header's width) so that a row fits.
// id: the id and a newline (nothing when the response carried no id); control characters removed.
void write_thread(std::ostream& out, const CreatedThread& thread, OutputFormat format,
                  const FormatOptions& options);
void write_thread_table(std::ostream& out, const std::vector<CreatedThread>& threads,
                        const FormatOptions& options);

// Writes a list of threads as pages arrive (GET /threads with --all), in one of the formats:
//   json  a JSON array of the thread objects as received: "[" then one element per line, "]"
//         (re-indented as a whole at finish() when pretty_json, so it is buffered then);
//   table the table above; buffered until finish() so that columns line up;
//   id    one id per line, written as each page arrives.
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

// Writes a failure for stderr:
//   graph-threads: <message>
//     HTTP 404, code ErrorItemNotFound, request-id …, client-request-id …, date …
//     hint: <hint>
// The detail line lists only the fields that are set and is left out when none is; the hint line
// only when there is a hint. A multi-line message is printed as given (the kind's name when it is
// empty). Since messages and codes may come from the service, control characters are removed
// everywhere: the message keeps only its newlines and tabs, details and hint are put on one line.
// `program` is the prefix ("graph-threads").
void write_error(std::ostream& err, std::string_view program, const Error& error);

}  // namespace gt
