// app/bulk_create: `graph-threads create --input` with many items — the input opened and judged
// (one thread or many), then the bulk engine run over it with result lines on stdout, a progress
// bar and a summary on stderr.
//
// One thread or many: a JSON array is many; otherwise, when the first line is a complete JSON
// value the input is NDJSON, and many when another non-blank line follows; otherwise the whole
// input is one JSON document (a pretty-printed thread). A bulk flag (--bulk, --concurrency,
// --batch, --max-rate, --validate-only, --reconcile, --resume) makes even one item a bulk run.
#pragma once

#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>

#include "app/create_command.hpp"
#include "app/session.hpp"

namespace gt::app {

struct OpenedInput {
  std::string source;                      // "--input items.ndjson", "stdin"
  bool many = false;                       // an array, or more than one NDJSON line
  bool one_document = false;               // the whole input is one (multi-line) JSON value
  std::optional<std::string> single_text;  // that value, or the single NDJSON line
  std::optional<std::size_t> total;        // items, when the input is a regular file
  // Where the items are read from (the bytes already looked at, then the rest): set when many
  // or single NDJSON.
  std::unique_ptr<std::istream> file;
  std::unique_ptr<std::streambuf> replay;
  std::unique_ptr<std::istream> stream;
};

// Opens --input (a file or stdin) and looks at its beginning. Fails (kUsage) when the file cannot
// be opened or the first value is larger than kMaxInputBytes.
Result<OpenedInput> open_input(const CreateOptions& options, const Env& env, Io& io);

// Runs a bulk create over `input`. Returns the exit code: 0 when every item was created (or
// skipped by --resume), 130 when interrupted, otherwise the worst item's.
int run_bulk_create(const CreateOptions& options, OpenedInput& input,
                    const ThreadOverrides& overrides, Session& session, Io& io, Deps& deps);

}  // namespace gt::app
