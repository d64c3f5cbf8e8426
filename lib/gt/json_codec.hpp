// gt/json_codec: ThreadRequest <-> JSON, Graph responses -> model types.
//
// The only gt_core file (besides auth.cpp) that includes Boost.JSON; the emulator has its own.
// Output is built in a fixed key order so that the same request always serializes to the same
// bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gt/error.hpp"
#include "gt/model.hpp"

namespace gt {

// A problem found in JSON input, located by its JSON path ("posts[0].body.contentType"). Paths
// spell property names as the input did ("Posts[0].Body" if that is what was written), so the
// user can find them.
struct JsonIssue {
  std::string path;     // "" for the document itself
  std::string message;  // "expected \"text\" or \"html\", got \"htm\" (did you mean \"html\"?)"
};

// Renders issues as "path: message" lines (just "message" when the path is empty), each prefixed
// by `indent`, joined by '\n', without a trailing newline.
std::string format_issues(const std::vector<JsonIssue>& issues, std::string_view indent = "  ");

struct DecodedThread {
  ThreadRequest request;
  // Paths of properties that were present but are computed by the service (id, hasAttachments,
  // lastDeliveredDateTime, uniqueSenders, preview, posts[i].receivedDateTime, ...) or are OData
  // annotations ("@odata.context"). They were dropped so that a thread printed by this tool can be
  // fed back as input; callers warn about them once.
  std::vector<std::string> dropped;
};

// Decodes a conversationThread as documented by Graph (topic, posts, toRecipients, ccRecipients,
// isLocked; posts[].body, newParticipants, from, sender, categories, extensions, attachments).
// Property names match case-insensitively (Graph accepts "Topic") and are canonicalized.
// On failure returns kUsage with every issue found (syntax errors carry line:column; unknown
// properties carry a "did you mean" for near misses; wrong types say what was expected), at most
// 20 plus a line saying how many more there were. The message is "<source>: path: message" for a
// single issue, otherwise "invalid thread in <source>:" and one format_issues line per issue.
// A property given twice (in any case) is an issue. Annotations (keys containing '@') are dropped;
// "@odata.type", where given, must name the expected type ("#microsoft.graph.post", '#' optional).
// `source` names the input for the message ("--input thread.json", "stdin").
Result<DecodedThread> decode_thread_request(std::string_view json, std::string_view source);

// Lower-level form used by tests and the emulator: the same decoding, returning the issues
// (empty on success). Syntax errors are one issue with an empty path, "line L, column C: what"
// (columns count code points). Never throws for any input.
std::vector<JsonIssue> decode_thread_request_issues(std::string_view json, DecodedThread& out);

// The common case of decode_thread_request_issues, without building a document: decodes straight
// from the parse events when `json` is a conversationThread written with the canonical property
// names only (exactly "topic", "posts", "body", "emailAddress", ...), each given once, with values
// of the right types, and no annotations, computed properties, extensions or attachments. Returns
// true with `out` filled exactly as decode_thread_request_issues fills DecodedThread::request
// (which then reports no issue and drops nothing); false for anything else, including every
// document with an issue, leaving `out` unspecified: the caller then decodes it with
// decode_thread_request_issues, whose messages it needs. Allocates only what `out` holds.
bool decode_plain_thread_request(std::string_view json, ThreadRequest& out);

// Serializes exactly the fields that are set, in Graph's documented order:
// topic, toRecipients, ccRecipients, isLocked, posts[{body{contentType,content}, newParticipants,
// from, sender, categories, extensions, attachments}]. Compact, no trailing newline.
// REQUIRES: extensions_json/attachments_json elements are serialized JSON objects (as decoding
// produces); one that does not parse is sent as null.
std::string encode_thread_request(const ThreadRequest& request);

// The body of POST /groups/{id}/threads/{id}/reply: {"post": <post>}, the post serialized as in a
// thread (body{contentType,content}, newParticipants, ...). Compact, no trailing newline.
std::string encode_reply_request(const Post& post);

// The body of PATCH /groups/{id}/threads/{id} that locks or unlocks it: {"isLocked":true|false}.
std::string encode_lock_request(bool is_locked);

// Reads a 2xx response body. A body that is not a JSON object fails (kGraph) quoting at most 200
// bytes of what was received, control characters removed; an object without "id" is accepted (id
// stays empty) and properties of the wrong type are ignored. raw_json is always the input.
Result<CreatedThread> decode_created_thread(std::string_view body);

// decode_created_thread(body)->id, or "" when that fails. For bulk creation, which needs only
// the id of each answer: gt/json_id_scan reads the common shapes in one pass without building
// the document (still checking it whole, and resolving duplicate and case-variant keys as
// decode_created_thread does); anything outside its subset goes through decode_created_thread.
std::string decode_created_thread_id(std::string_view body);

// Reads a list page {"value": [thread, ...], "@odata.nextLink": "..."}. Each thread is decoded as
// decode_created_thread does, with raw_json its compact serialization (key order kept). A body that
// is not that shape fails (kGraph) quoting what came.
Result<ThreadPage> decode_thread_page(std::string_view body);

// Graph's error envelope: {"error":{"code","message","innerError":{"request-id","date",
// "client-request-id"}}}. innerError/innererror and its keys match case-insensitively; the
// innermost nested innerError "code" is not used (Graph's top-level code is the stable one).
struct GraphErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
  std::string client_request_id;
  std::string date;
};
std::optional<GraphErrorBody> decode_graph_error(std::string_view body);

// Re-indents a JSON document (2 spaces) for a terminal; returns the input unchanged when it does
// not parse. Works on the text, so key order, duplicate keys, number spellings and escapes are
// kept exactly; DEL and C1 control characters inside strings (legal raw in JSON, dangerous on a
// terminal) are written as \u escapes, which leaves the values unchanged. No trailing newline.
std::string pretty_json(std::string_view json);

// How layout_json writes a JSON document.
struct JsonLayout {
  bool indent = true;  // 2-space indentation; false: one line without any whitespace between tokens
  bool color = false;  // ANSI colours as jq and gh use them: keys bold blue, strings green,
                       // numbers/true/false/null cyan
};
// pretty_json generalised: the same text-preserving re-layout (values, escapes, key order and
// duplicate keys kept; DEL and C1 controls escaped), indented or on one line, coloured or not.
// Returns the input unchanged when it does not parse. No trailing newline.
std::string layout_json(std::string_view json, const JsonLayout& layout);

// Quotes `s` as a JSON string literal (with the quotes).
std::string json_quote(std::string_view s);

// Whether `text` is exactly one complete JSON value (surrounding whitespace allowed).
bool is_complete_json(std::string_view text);

// Levenshtein-based suggestion (case-insensitive): the candidate closest to `word` if it is close
// enough to be a plausible typo (distance <= 2 and shorter than `word`, or a case-only
// difference), otherwise "". Ties go to the earlier candidate.
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace gt
