// gt/bulk_results: the result lines of a bulk run, and reading them back for --resume.
//
// A bulk run writes one NDJSON line per input item, in input order:
//
//   {"index":0,"group":"G","outcome":"created","status":201,"id":"AAQk…","topic":"Q3",
//    "attempts":1}
//   {"index":1,"group":"G","outcome":"failed","status":400,"attempts":1,
//    "error":{"code":"ErrorInvalidRecipients","message":"…","requestId":"…",
//    "clientRequestId":"…"}}
//
// A later run given that file with --resume does not send again the items whose outcome was
// `created` (or `skipped`: created in a run before that); it writes them as `skipped` with the id
// from before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gt/error.hpp"

namespace gt {

// How an item ended.
enum class Outcome {
  kCreated,  // the thread exists: 2xx, or found by reconciliation
  kFailed,   // not created: an error answer, a failure before the request was written, or an
             // item that did not decode or validate
  kUnknown,  // the request was written but no complete answer came: it may exist
  kSkipped,  // not sent: an earlier run (--resume) created it
};

// "created", "failed", "unknown", "skipped".
const char* outcome_name(Outcome outcome);

// The inverse of outcome_name (exact spelling); nullopt for anything else.
std::optional<Outcome> parse_outcome(std::string_view name);

// Why an item failed or is unknown, as written under "error".
struct ItemError {
  std::string code;               // Graph's error.code, or "" (no answer, or our own check)
  std::string message;            // one or more lines for a human
  std::string request_id;         // Graph's request-id of the last answer, if any
  std::string client_request_id;  // the id we sent with the last attempt, if any
  // Not written: lets the caller compute the exit code of the run (kOutcomeUnknown for unknown).
  ErrorKind kind = ErrorKind::kGraph;
};

// The fields of an Error that go on a result line.
ItemError item_error(const Error& error);

struct ItemResult {
  std::size_t index = 0;  // the item's 0-based position in the input
  std::string group;      // the group it was (or would have been) created in
  Outcome outcome = Outcome::kFailed;
  int status = 0;           // HTTP status of the last answer; 0 when none
  std::string id;           // the thread's id (created, skipped); "" when unknown
  std::string topic;        // the thread's topic, when known
  int attempts = 0;         // requests sent for this item (0: never sent)
  bool reconciled = false;  // an unknown outcome found to be created by listing the group
  bool resent = false;      // an unknown outcome not found, and so sent once more
  ItemError error;          // written only for failed and unknown
};

// One result line, without the trailing newline. Keys in this order: index, group, outcome,
// status (when not 0), id (when not ""), topic (when not ""), attempts (when > 0), reconciled
// (only when true), resent (only when true), error (failed and unknown only) with code, message,
// requestId, clientRequestId (each only when not ""). Any string content gives valid JSON:
// control characters are escaped and bytes that are not UTF-8 become U+FFFD.
std::string encode_result_line(const ItemResult& result);
// The same line appended to `out` (a bulk run reuses one buffer for all its lines).
void append_result_line(std::string& out, const ItemResult& result);

// What an earlier run created, by item index.
struct ResumeEntry {
  std::string group;
  std::string id;
  bool operator==(const ResumeEntry&) const = default;
};

class ResumeSet {
 public:
  // The earlier result of item `index` if it was created (or skipped as created before); nullopt
  // when it must be sent (failed, unknown, or not in the file).
  std::optional<ResumeEntry> find(std::size_t index) const;

  std::size_t size() const { return entries_.size(); }  // items not to be sent again
  std::size_t lines() const { return lines_; }          // result lines read
  // The file's last line had no line break and was cut short (a run that died while writing
  // it): it was ignored. The caller should say so; that item is sent again.
  bool truncated_last_line() const { return truncated_last_line_; }

 private:
  friend Result<ResumeSet> read_resume_file(std::istream& in, const std::string& source);

  struct Stored {
    std::uint32_t group;  // into groups_: runs mostly use one group, so each is kept once
    std::string id;
  };
  std::unordered_map<std::size_t, Stored> entries_;
  std::vector<std::string> groups_;
  std::size_t lines_ = 0;
  bool truncated_last_line_ = false;
};

// Reads an earlier run's results line by line (memory: the set, and one line of at most 1 MiB).
// Blank lines are skipped; "\r\n" is fine. When an index appears more than once (results
// appended by several runs), a `created` or `skipped` line wins, and the first one of those.
// Fails (kUsage) on a line that is not a result line — not a JSON object, no non-negative integer
// "index", no "outcome" among the four, or a "group"/"id" that is not a string — naming it:
// "<source> line 7: not a result line: <why>: <the line's start>". The exception is a last line
// without a line break that is an unfinished JSON object: see truncated_last_line().
// `source` names the file in messages ("--resume results.ndjson").
Result<ResumeSet> read_resume_file(std::istream& in, const std::string& source);

}  // namespace gt
