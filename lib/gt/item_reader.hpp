// gt/item_reader: the items of a bulk input (`create --input FILE|-`), one at a time, in constant
// memory.
//
// The input is either NDJSON (one item a line) or one JSON array of items. The first byte that is
// not whitespace decides: '[' means an array, anything else NDJSON. A UTF-8 byte order mark at the
// very start is skipped in both. The reader never holds the whole input: it reads at most one chunk
// (64 KiB by default) at a time and keeps at most one item's text (max_item_bytes) besides it, so
// 100,000 items take the memory of one.
//
// NDJSON: every line with something other than whitespace on it is an item; blank lines are not
// items (but count as lines). "\r\n" line ends are fine. The item's text is the line without
// surrounding whitespace; it is not parsed here, so a line that is not JSON is an item that fails
// to decode later, and the lines after it are read as usual. A line longer than max_item_bytes
// (from its first non-whitespace byte, without the "\n" or "\r\n") is a failed item; it is
// skipped without being buffered.
//
// JSON array: a small scanner (strings, escapes, bracket nesting; no parsing) hands out each
// top-level element's text exactly as written. Whitespace and line breaks may appear anywhere
// between tokens; an empty array has no items. An element longer than max_item_bytes is a failed
// item, skipped by scanning. A structural error in the array itself — a missing ',' between
// elements, an empty element ("[1,,2]", "[1,]"), a bracket that closes what was not opened, text
// after the closing ']', the end of the input before it, or an element nested more than
// kMaxItemDepth levels deep — becomes one failed item describing the problem, and then the input
// ends: nothing after such a point can be trusted. Elements are handed out as soon as they end,
// so those before the error are processed.
//
// Every item, failed or not, gets the next index, so there is exactly one result per item.
// Messages name the item by its 0-based index (the same number as the result line's "index") and
// the 1-based line where it starts: "item 6 (line 7): …".
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gt/error.hpp"
#include "gt/model.hpp"

namespace gt {

inline constexpr std::size_t kDefaultMaxItemBytes = std::size_t{4} << 20;  // 4 MiB
inline constexpr std::size_t kDefaultReadChunkBytes = std::size_t{64} << 10;
// Array elements nested deeper than this end the input with a structural error (Graph's
// conversationThread is 5 levels deep; the JSON decoder stops at 32).
inline constexpr std::size_t kMaxItemDepth = 1000;

// One item as split out of the input, not yet parsed.
struct RawItem {
  std::size_t index = 0;  // 0-based position among the items of the input
  std::size_t line = 0;   // 1-based line where the item starts (where the problem is, for a
                          // structural error)
  std::string text;       // the item's JSON text; empty when `error` is set
  std::string error;      // why the item could not be split out: "item 6 (line 7): …"; "" if ok

  bool ok() const { return error.empty(); }
};

enum class InputFormat { kUnknown, kNdjson, kArray };

class ItemReader {
 public:
  // `source_name` names the input in messages about the array as a whole ("stdin",
  // "--input items.json"). max_item_bytes bounds one item's text; read_chunk_bytes is how much is
  // read from `in` at once (tests use tiny chunks to split items across reads).
  // REQUIRES: `in` outlives the reader; max_item_bytes > 0; read_chunk_bytes > 0.
  ItemReader(std::istream& in, std::string source_name,
             std::size_t max_item_bytes = kDefaultMaxItemBytes,
             std::size_t read_chunk_bytes = kDefaultReadChunkBytes);

  ItemReader(const ItemReader&) = delete;
  ItemReader& operator=(const ItemReader&) = delete;

  // The next item, or nullopt at the end of the input (and on every call after it, including
  // after a structural error has been returned as a failed item).
  //
  // Reads what `in` has available, at most one chunk at a time, and blocks only when it has
  // nothing buffered, so an item from a slow producer (a pipe) comes out as soon as its line or
  // element ends. A stream whose streambuf buffers (std::ifstream, std::cin after
  // std::ios::sync_with_stdio(false)) is read in whole chunks; an unbuffered one byte by byte.
  std::optional<RawItem> next();

  // The format, once the first call to next() has seen the first non-whitespace byte
  // (kUnknown before, and for an input that is empty or only whitespace).
  InputFormat format() const { return format_; }

  // Items handed out so far (the index the next one will get).
  std::size_t items_read() const { return next_index_; }

  // The most memory the reader has held for input at once: its read buffer plus the capacity of
  // the item being assembled. At most read_chunk_bytes + max_item_bytes + 16, whatever the length
  // of the input (tests assert it).
  std::size_t buffered_bytes_high_water() const { return high_water_; }

  // Counts the items of the regular file at `path` by the same rules (a failed item counts as
  // one; a structural error counts as one and ends the count), in one pass without keeping any
  // item's text: NDJSON lines are found with memchr. For a progress bar's total.
  // Fails (kUsage) when the file cannot be opened or read, or is not a regular file (a pipe
  // cannot be read twice): "cannot count the items of <path>: <why>".
  static Result<std::size_t> count_items(const std::string& path);

 private:
  enum class ArrayState { kExpectFirst, kExpectItem, kInItem, kAfterItem, kAfterClose };

  bool fill();
  void note_memory();
  void append(const char* begin, const char* end);
  std::optional<RawItem> next_ndjson();
  std::optional<RawItem> next_array();
  RawItem finish_item(std::size_t line);
  RawItem structural_error(std::size_t line, const std::string& what);
  std::string item_label(std::size_t index, std::size_t line) const;

  std::istream& in_;
  std::string source_;
  std::size_t max_item_bytes_;
  std::size_t chunk_bytes_;
  bool keep_text_ = true;  // false when only counting

  std::vector<char> buffer_;  // the current chunk: [pos_, end_) not yet consumed
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool done_ = false;

  InputFormat format_ = InputFormat::kUnknown;
  std::size_t bom_matched_ = 0;  // bytes of a leading byte order mark seen so far
  std::size_t line_ = 1;         // line of the byte at pos_
  std::size_t next_index_ = 0;

  // The item being assembled.
  std::string item_;
  std::size_t item_line_ = 0;
  bool item_started_ = false;  // NDJSON: the line has a non-whitespace byte
  bool oversized_ = false;     // its text passed max_item_bytes and is being skipped

  // Array scanning.
  ArrayState state_ = ArrayState::kExpectFirst;
  std::size_t array_line_ = 0;  // where '[' was
  std::string brackets_;        // open '{' / '[' of the current element, innermost last
  bool in_string_ = false;
  bool escape_ = false;
  bool scalar_ = false;  // the element is a bare number or literal

  std::size_t high_water_ = 0;
};

// A decoded bulk item, ready for the caller's flag overrides and validation.
struct BulkItem {
  std::size_t index = 0;
  std::size_t line = 0;
  std::string group;  // from the envelope, else the default group
  ThreadRequest thread;
  std::vector<std::string> dropped;  // computed properties and annotations, as DecodedThread
};

// Decodes one item. The item is either a conversationThread object, created in `default_group`,
// or an envelope {"group": "ID", "thread": {…}} (in any order) that names its own group. An
// object with a "group" or "thread" key (matched case-insensitively, like thread properties), or
// with a near miss of one that is no thread property ("grup"), is taken for an envelope and must
// have exactly those two: "group" a non-empty string, "thread" an object. Any other key is an
// error that says where it belongs ("topic: belongs inside \"thread\"", "thred: unknown key (did
// you mean \"thread\"?)").
//
// Fails (kUsage) with a message naming the item ("item 3 (line 4): …"):
//   - raw.error is set: that message as it is;
//   - the envelope is malformed (above);
//   - there is no group: default_group is empty and the item is an object but not an envelope
//     (an item that is not JSON or not an object fails for that instead);
//   - the thread does not decode (decode_thread_request's messages; inside an envelope, paths
//     start with "thread.": "item 3 (line 4): thread.posts[0].body: unknown property …").
// Does not run validate_thread_request: the caller applies flag overrides first, then validates.
Result<BulkItem> decode_bulk_item(const RawItem& raw, std::string_view default_group);

}  // namespace gt
