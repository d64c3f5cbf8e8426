#include "gt/json_codec.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gt/ascii.hpp"
#include "gt/json_id_scan.hpp"

namespace gt {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxIssues = 20;

// ---------------------------------------------------------------------------------------------
// Small string helpers.

std::string_view to_std(json::string_view s) {
  return {s.data(), s.size()};
}

// Removes control characters (C0, DEL, C1) and cuts at a code point boundary, for quoting text
// that came from elsewhere (a response body) in a message.
std::string printable_snippet(std::string_view s, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i < s.size() && out.size() < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7F) {
      continue;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      ++i;  // a C1 control character, two bytes in UTF-8
    } else {
      out += s[i];
    }
  }
  // Never end inside a multi-byte character.
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
    out += s[i++];
  }
  if (i < s.size()) out += "…";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing with positions.

std::string position_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // count code points, not bytes
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string describe_parse_error(const json::error_code& ec, std::string_view text,
                                 std::size_t offset) {
  if (ec == json::error::incomplete) return "unexpected end of input";
  if (ec == json::error::extra_data) return "unexpected text after the JSON value";
  if (ec == json::error::too_deep) return "nesting too deep";
  if (ec == json::error::syntax && offset < text.size()) {
    const char c = text[offset];
    if (c == '\n' || c == '\t' || c == '\r') {
      return "syntax error: raw line break or tab (inside a string write \\n or \\t)";
    }
    if (c > 0x20 && c < 0x7F) return std::string("syntax error at '") + c + "'";
  }
  return ec.message();
}

// A json::object silently keeps only the last of two equal keys, so duplicates are found from the
// parse events (DocumentHandler passes them on). Keys are compared case-insensitively because
// Graph treats "Topic" and "topic" as the same property.
//
// This runs for every item of a bulk run, so it allocates nothing in the common case: the keys of
// the open objects live in one reused text buffer (a stack: an object's keys are dropped when it
// closes), a key is compared with its object's earlier keys by a linear scan (objects with more
// than kMaxScannedKeys keys get a set instead), and a path is spelled only for a duplicate.
class DuplicateKeyFinder {
 public:
  // Storage kept from one document to the next (see parse_thread_document).
  struct Scratch {
    struct Key {
      std::size_t offset = 0;  // in `text`
      std::size_t size = 0;
    };
    struct Frame {
      bool is_array = false;
      std::size_t index = 0;      // arrays: the element being parsed
      std::size_t first_key = 0;  // objects: where its keys start in `keys`
      // objects with many keys: their lower-cased keys, for a lookup that stays fast
      std::unique_ptr<std::set<std::string>> many;
    };
    std::vector<Frame> frames;
    std::vector<Key> keys;  // the keys of every open object, outermost first
    std::string text;       // their text, and the key being read at the end
  };

  static constexpr std::size_t kMaxScannedKeys = 32;

  explicit DuplicateKeyFinder(Scratch& scratch) : s_(scratch) {
    s_.frames.clear();
    s_.keys.clear();
    s_.text.clear();
  }

  std::vector<std::string> found;  // paths of the second and later occurrences

  // The parse events, as DocumentHandler passes them on.
  void object_begin() { open(false); }
  void array_begin() { open(true); }
  void end() {  // of an object or an array
    Scratch::Frame& frame = s_.frames.back();
    s_.keys.resize(frame.first_key);
    s_.text.resize(open_text_end());
    s_.frames.pop_back();
    value_done();
  }
  void key_part(json::string_view s) { s_.text.append(s.data(), s.size()); }
  void key(json::string_view s) {
    s_.text.append(s.data(), s.size());
    const std::size_t offset = open_text_end();
    const std::string_view key(s_.text.data() + offset, s_.text.size() - offset);
    const bool duplicate = seen_before(s_.frames.back(), key);
    // Recorded either way: it is its object's current key, which a path names.
    s_.keys.push_back({offset, key.size()});
    if (duplicate) found.push_back(current_path());
  }
  void value_done() {  // a string, number, true, false or null; or the end of an object or array
    if (!s_.frames.empty() && s_.frames.back().is_array) ++s_.frames.back().index;
  }

 private:
  // Where the text of the next key starts: after the last recorded key's.
  std::size_t open_text_end() const {
    if (s_.keys.empty()) return 0;
    return s_.keys.back().offset + s_.keys.back().size;
  }

  // Whether `key` (the last key read, at the end of the text) equals an earlier key of `frame`,
  // ignoring ASCII case.
  bool seen_before(Scratch::Frame& frame, std::string_view key) {
    const std::size_t count = s_.keys.size() - frame.first_key;
    if (frame.many) return !frame.many->insert(ascii_lowered(key)).second;
    for (std::size_t i = frame.first_key; i < s_.keys.size(); ++i) {
      const Scratch::Key& k = s_.keys[i];
      if (ascii_iequals(std::string_view(s_.text.data() + k.offset, k.size), key)) return true;
    }
    if (count + 1 > kMaxScannedKeys) {
      frame.many = std::make_unique<std::set<std::string>>();
      for (std::size_t i = frame.first_key; i < s_.keys.size(); ++i) {
        const Scratch::Key& k = s_.keys[i];
        frame.many->insert(ascii_lowered(std::string_view(s_.text.data() + k.offset, k.size)));
      }
      frame.many->insert(ascii_lowered(key));
    }
    return false;
  }

  void open(bool is_array) {
    Scratch::Frame& frame = s_.frames.emplace_back();
    frame.is_array = is_array;
    frame.first_key = s_.keys.size();
  }
  // ".key" for each enclosing object (its current key: the last one before the keys of the
  // frame nested in it) and "[i]" for each array, without the '.' of a top-level object.
  std::string current_path() const {
    std::string path;
    for (std::size_t f = 0; f < s_.frames.size(); ++f) {
      const Scratch::Frame& frame = s_.frames[f];
      if (frame.is_array) {
        path += '[';
        path += std::to_string(frame.index);
        path += ']';
        continue;
      }
      const std::size_t end =
          f + 1 < s_.frames.size() ? s_.frames[f + 1].first_key : s_.keys.size();
      const Scratch::Key& k = s_.keys[end - 1];
      if (f > 0) path += '.';
      path.append(s_.text.data() + k.offset, k.size);
    }
    return path;
  }

  Scratch& s_;
};

// The one pass over a thread document: builds its json::value exactly as json::stream_parser does
// (the same value_stack calls) and, from the same events, finds its duplicate keys.
class DocumentHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  DocumentHandler(DuplicateKeyFinder::Scratch& scratch, unsigned char* stack,
                  std::size_t stack_size)
      : duplicates(scratch), st(json::storage_ptr(), stack, stack_size) {}

  DuplicateKeyFinder duplicates;
  json::value_stack st;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    duplicates.object_begin();
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    duplicates.end();
    return true;
  }
  bool on_array_begin(json::error_code&) {
    duplicates.array_begin();
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    duplicates.end();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    duplicates.key_part(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    duplicates.key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return scalar();
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return scalar();
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return scalar();
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    st.push_double(d);
    return scalar();
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return scalar();
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return scalar();
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  bool scalar() {
    duplicates.value_done();
    return true;
  }
};

struct ParseOutcome {
  json::value value;
  std::string error;                    // "line L, column C: what"; empty on success
  std::vector<std::string> duplicates;  // paths of repeated keys (DuplicateKeyFinder)
};

// Parses as json::stream_parser's write() and finish() do, so the same documents are refused at
// the same offsets, and finds the duplicate keys in the same pass. The value is allocated from
// `storage`.
ParseOutcome parse_thread_document(std::string_view text, json::storage_ptr storage) {
  // One scratch per thread (the emulator decodes on several), reused by every document.
  thread_local DuplicateKeyFinder::Scratch scratch;
  // The parser's working stack starts on ours: most documents need no more.
  unsigned char stack[1024];
  json::basic_parser<DocumentHandler> parser(json::parse_options(), scratch, stack, sizeof stack);
  parser.handler().st.reset(std::move(storage));
  json::error_code ec;
  const std::size_t consumed = parser.write_some(true, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  std::size_t offset = consumed;
  if (!ec) {
    parser.write_some(false, nullptr, 0, ec);
    offset = text.size();
  }
  // A big document leaves big scratch buffers; they are not kept for the next one.
  if (scratch.text.capacity() > (std::size_t{1} << 20)) std::string().swap(scratch.text);
  if (scratch.keys.capacity() > (std::size_t{1} << 16)) {
    std::vector<DuplicateKeyFinder::Scratch::Key>().swap(scratch.keys);
  }
  if (ec) {
    return ParseOutcome{
        {}, position_of(text, offset) + ": " + describe_parse_error(ec, text, offset), {}};
  }
  // Constructed, not assigned: assigning to a value of another storage would copy it node by node.
  return ParseOutcome{
      parser.handler().st.release(), {}, std::move(parser.handler().duplicates.found)};
}

// ---------------------------------------------------------------------------------------------
// Describing what was found, for "expected X, got Y" messages.

std::string number_text(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, v.get_double());
  return std::string(buf, result.ptr);
}

std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "boolean true" : "boolean false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number " + number_text(v);
    case json::kind::string:
      return json_quote(printable_snippet(to_std(v.get_string()), 60));
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "something else";
}

// ---------------------------------------------------------------------------------------------
// Decoding a conversationThread.

// How one JSON object type of the request is checked.
struct Shape {
  std::string_view description;                 // "a post", for "a post accepts ..."
  std::string_view odata_type;                  // "microsoft.graph.post"
  std::vector<std::string_view> properties;     // accepted, canonical spelling
  std::vector<std::string_view> computed = {};  // read-only at Graph: dropped, not an error
};

const Shape kThreadShape{
    "a conversationThread",
    "microsoft.graph.conversationThread",
    {"topic", "posts", "toRecipients", "ccRecipients", "isLocked"},
    {"id", "hasAttachments", "lastDeliveredDateTime", "uniqueSenders", "preview"}};
const Shape kPostShape{
    "a post",
    "microsoft.graph.post",
    {"body", "newParticipants", "from", "sender", "categories", "extensions", "attachments"},
    {"id", "conversationId", "conversationThreadId", "receivedDateTime", "createdDateTime",
     "lastModifiedDateTime", "changeKey", "hasAttachments"}};
const Shape kItemBodyShape{"an itemBody", "microsoft.graph.itemBody", {"contentType", "content"}};
const Shape kRecipientShape{"a recipient", "microsoft.graph.recipient", {"emailAddress"}};
const Shape kEmailAddressShape{
    "an emailAddress", "microsoft.graph.emailAddress", {"address", "name"}};

std::string accepted_list(const Shape& shape) {
  std::string out;
  for (std::string_view p : shape.properties) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

class ThreadDecoder {
 public:
  ThreadDecoder(std::vector<JsonIssue>& issues, std::vector<std::string>& dropped)
      : issues_(issues), dropped_(dropped) {
    path_.reserve(64);
  }

  void add_issue(std::string path, std::string message) {
    if (issues_.size() < kMaxIssues) {
      issues_.push_back({std::move(path), std::move(message)});
    } else {
      ++not_shown_;
    }
  }

  void finish() {
    if (not_shown_ > 0) {
      add_issue_unlimited("", "… and " + std::to_string(not_shown_) + " more problem" +
                                  (not_shown_ == 1 ? "" : "s") + " not shown");
    }
  }

  void thread(const json::value& v, ThreadRequest& out) {
    if (!v.is_object()) {
      add_issue("", "expected a JSON object (a conversationThread), got " + describe(v));
      return;
    }
    members(v.get_object(), kThreadShape, [&](std::string_view name, const json::value& value) {
      if (name == "topic") {
        string_into(value, out.topic);
      } else if (name == "posts") {
        posts(value, out.posts);
      } else if (name == "toRecipients") {
        recipients(value, out.to_recipients);
      } else if (name == "ccRecipients") {
        recipients(value, out.cc_recipients);
      } else if (name == "isLocked") {
        if (value.is_bool()) {
          out.is_locked = value.get_bool();
        } else {
          issue("expected true or false, got " + describe(value));
        }
      }
    });
  }

 private:
  void add_issue_unlimited(std::string path, std::string message) {
    issues_.push_back({std::move(path), std::move(message)});
  }

  // An issue at the value being decoded.
  void issue(std::string message) { add_issue(path_, std::move(message)); }

  // The path of the value being decoded ("posts[0].body") is kept in one buffer: a member or an
  // element appends its selector for as long as it is decoded. Paths are copied out only for an
  // issue or a dropped property, so decoding a valid thread spells none.
  class Step {
   public:
    Step(std::string& path, std::string_view key) : path_(path), mark_(path.size()) {
      if (mark_ > 0) path_ += '.';
      path_ += key;
    }
    Step(std::string& path, std::size_t index) : path_(path), mark_(path.size()) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
      path_ += '[';
      path_.append(digits, end);
      path_ += ']';
    }
    ~Step() { path_.resize(mark_); }
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

   private:
    std::string& path_;
    std::size_t mark_;
  };

  // Walks the members of `object`: known properties go to `on_property` under their canonical
  // name; computed properties and OData annotations are recorded as dropped; anything else is an
  // unknown property. A property given twice (in any case) was already reported by
  // parse_thread_document, so only its first occurrence is used here.
  template <class OnProperty>
  void members(const json::object& object, const Shape& shape, OnProperty&& on_property) {
    std::uint32_t seen = 0;  // bit i: shape.properties[i] was given
    for (const auto& member : object) {
      const std::string_view key = to_std(member.key());
      const Step step(path_, key);
      if (key.find('@') != std::string_view::npos) {
        if (ascii_iequals(key, "@odata.type")) check_odata_type(member.value(), shape);
        dropped_.push_back(path_);
        continue;
      }
      const auto known = std::find_if(shape.properties.begin(), shape.properties.end(),
                                      [&](std::string_view p) { return ascii_iequals(p, key); });
      if (known != shape.properties.end()) {
        const std::uint32_t bit = std::uint32_t{1} << (known - shape.properties.begin());
        if ((seen & bit) == 0) {
          seen |= bit;
          on_property(*known, member.value());
        }
        continue;
      }
      if (std::any_of(shape.computed.begin(), shape.computed.end(),
                      [&](std::string_view p) { return ascii_iequals(p, key); })) {
        dropped_.push_back(path_);
        continue;
      }
      const std::string suggestion = did_you_mean(key, shape.properties);
      if (!suggestion.empty()) {
        issue("unknown property (did you mean " + json_quote(suggestion) + "?)");
      } else {
        issue("unknown property; " + std::string(shape.description) + " accepts " +
              accepted_list(shape));
      }
    }
  }

  // "@odata.type" may be given with or without the leading '#'.
  void check_odata_type(const json::value& value, const Shape& shape) {
    if (value.is_string()) {
      std::string_view given = to_std(value.get_string());
      if (!given.empty() && given.front() == '#') given.remove_prefix(1);
      if (ascii_iequals(given, shape.odata_type)) return;
    }
    const std::string expected = "#" + std::string(shape.odata_type);
    issue("expected " + json_quote(expected) + ", got " + describe(value));
  }

  void string_into(const json::value& value, std::optional<std::string>& out) {
    if (value.is_string()) {
      out.emplace(to_std(value.get_string()));
    } else {
      issue("expected a string, got " + describe(value));
    }
  }

  // Calls `element` for each item of an array property; reports a non-array.
  template <class OnElement>
  void array(const json::value& value, std::string_view expected, OnElement&& element) {
    if (!value.is_array()) {
      issue("expected " + std::string(expected) + ", got " + describe(value));
      return;
    }
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Step step(path_, i);
      element(items[i]);
    }
  }

  void posts(const json::value& value, std::optional<std::vector<Post>>& out) {
    out.emplace();
    if (value.is_array()) out->reserve(value.get_array().size());
    array(value, "an array of posts", [&](const json::value& item) { out->push_back(post(item)); });
  }

  Post post(const json::value& value) {
    Post out;
    if (!value.is_object()) {
      issue("expected a post object like {\"body\": {...}}, got " + describe(value));
      return out;
    }
    members(value.get_object(), kPostShape, [&](std::string_view name, const json::value& v) {
      if (name == "body") {
        out.body = item_body(v);
      } else if (name == "newParticipants") {
        recipients(v, out.new_participants);
      } else if (name == "from") {
        out.from = recipient(v);
      } else if (name == "sender") {
        out.sender = recipient(v);
      } else if (name == "categories") {
        categories(v, out.categories);
      } else if (name == "extensions") {
        typed_objects(v, "#microsoft.graph.openTypeExtension", out.extensions_json);
      } else if (name == "attachments") {
        typed_objects(v, "#microsoft.graph.fileAttachment", out.attachments_json);
      }
    });
    return out;
  }

  ItemBody item_body(const json::value& value) {
    ItemBody out;
    if (!value.is_object()) {
      issue(
          "expected an itemBody object like {\"contentType\": \"text\", "
          "\"content\": \"...\"}, got " +
          describe(value));
      return out;
    }
    members(value.get_object(), kItemBodyShape, [&](std::string_view name, const json::value& v) {
      if (name == "content") {
        string_into(v, out.content);
      } else if (name == "contentType") {
        out.content_type = body_type(v);
      }
    });
    return out;
  }

  std::optional<BodyType> body_type(const json::value& value) {
    if (value.is_string()) {
      const std::string_view given = to_std(value.get_string());
      if (ascii_iequals(given, "text")) return BodyType::kText;
      if (ascii_iequals(given, "html")) return BodyType::kHtml;
    }
    static const std::vector<std::string_view> kTypes = {"text", "html"};
    std::string message = "expected \"text\" or \"html\", got " + describe(value);
    if (value.is_string()) {
      const std::string suggestion = did_you_mean(to_std(value.get_string()), kTypes);
      if (!suggestion.empty()) message += " (did you mean " + json_quote(suggestion) + "?)";
    }
    issue(std::move(message));
    return std::nullopt;
  }

  void recipients(const json::value& value, std::optional<std::vector<Recipient>>& out) {
    out.emplace();
    array(value, "an array of recipients",
          [&](const json::value& item) { out->push_back(recipient(item)); });
  }

  Recipient recipient(const json::value& value) {
    Recipient out;
    if (!value.is_object()) {
      issue(
          "expected a recipient object like {\"emailAddress\": {\"address\": "
          "\"a@b.example\"}}, got " +
          describe(value));
      return out;
    }
    members(value.get_object(), kRecipientShape,
            [&](std::string_view, const json::value& v) { out.email_address = email_address(v); });
    return out;
  }

  EmailAddress email_address(const json::value& value) {
    EmailAddress out;
    if (!value.is_object()) {
      issue("expected an emailAddress object like {\"address\": \"a@b.example\"}, got " +
            describe(value));
      return out;
    }
    members(value.get_object(), kEmailAddressShape,
            [&](std::string_view name, const json::value& v) {
              if (name == "address") {
                std::optional<std::string> address;
                string_into(v, address);
                out.address = address.value_or("");
              } else if (!v.is_null()) {  // name: Graph serializes an absent name as null
                string_into(v, out.name);
              }
            });
    return out;
  }

  void categories(const json::value& value, std::optional<std::vector<std::string>>& out) {
    out.emplace();
    array(value, "an array of strings", [&](const json::value& item) {
      std::optional<std::string> category;
      string_into(item, category);
      if (category) out->push_back(std::move(*category));
    });
  }

  // Open extensions and attachments are passed through, but each must say what it is.
  void typed_objects(const json::value& value, std::string_view example,
                     std::optional<std::vector<std::string>>& out) {
    out.emplace();
    array(value, "an array of objects", [&](const json::value& item) {
      if (!item.is_object()) {
        issue("expected an object with \"@odata.type\", got " + describe(item));
        return;
      }
      const json::object& object = item.get_object();
      const auto type = std::find_if(object.begin(), object.end(), [](const auto& member) {
        return ascii_iequals(to_std(member.key()), "@odata.type");
      });
      if (type == object.end()) {
        issue("missing \"@odata.type\" (e.g. " + json_quote(example) + ")");
      } else if (!type->value().is_string()) {
        const Step step(path_, to_std(type->key()));
        issue("expected a string, got " + describe(type->value()));
      } else {
        out->push_back(json::serialize(object));
      }
    });
  }

  std::vector<JsonIssue>& issues_;
  std::vector<std::string>& dropped_;
  std::size_t not_shown_ = 0;
  std::string path_;  // of the value being decoded; "" for the document
};

// ---------------------------------------------------------------------------------------------
// Decoding the common case from the parse events (decode_plain_thread_request).

// Straight from basic_parser's events into a ThreadRequest, for the documents ThreadDecoder would
// accept without an issue or a dropped property, spelled with the canonical names only. Anything
// else stops the parse (`declined`), and the caller decodes the document the long way, so every
// message still comes from one place. Which documents get here decides nothing but the cost:
// what is decoded is what ThreadDecoder decodes from the same text.
class PlainThreadHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit PlainThreadHandler(ThreadRequest& out) : thread_(out) {}

  bool declined = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code& ec) {
    if (depth_ == 0) {
      if (started_) return decline(ec);
      started_ = true;
      return push(Ctx::kThread, ec);
    }
    switch (top().ctx) {
      case Ctx::kPosts:
        post_ = &thread_.posts->emplace_back();
        return push(Ctx::kPost, ec);
      case Ctx::kRecipients:
        recipient_ = &recipients_->emplace_back();
        return push(Ctx::kRecipient, ec);
      case Ctx::kPost:
        if (slot_ == Slot::kBody) {
          post_->body.emplace();
          return push(Ctx::kBody, ec);
        }
        if (slot_ == Slot::kFrom || slot_ == Slot::kSender) {
          std::optional<Recipient>& r = slot_ == Slot::kFrom ? post_->from : post_->sender;
          recipient_ = &r.emplace();
          return push(Ctx::kRecipient, ec);
        }
        return decline(ec);
      case Ctx::kRecipient:
        return slot_ == Slot::kEmailAddress ? push(Ctx::kEmail, ec) : decline(ec);
      default:
        return decline(ec);
    }
  }
  bool on_object_end(std::size_t, json::error_code&) { return pop(); }
  bool on_array_begin(json::error_code& ec) {
    if (depth_ == 0) return decline(ec);
    const Ctx ctx = top().ctx;
    if (ctx == Ctx::kThread) {
      switch (slot_) {
        case Slot::kPosts:
          thread_.posts.emplace();
          return push(Ctx::kPosts, ec);
        case Slot::kToRecipients:
          recipients_ = &thread_.to_recipients.emplace();
          return push(Ctx::kRecipients, ec);
        case Slot::kCcRecipients:
          recipients_ = &thread_.cc_recipients.emplace();
          return push(Ctx::kRecipients, ec);
        default:
          return decline(ec);
      }
    }
    if (ctx == Ctx::kPost && slot_ == Slot::kNewParticipants) {
      recipients_ = &post_->new_participants.emplace();
      return push(Ctx::kRecipients, ec);
    }
    if (ctx == Ctx::kPost && slot_ == Slot::kCategories) {
      post_->categories.emplace();
      return push(Ctx::kCategories, ec);
    }
    return decline(ec);
  }
  bool on_array_end(std::size_t, json::error_code&) { return pop(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    const std::string_view key = whole(s);
    Frame& frame = top();
    const std::vector<std::string_view>* names = nullptr;
    const Slot* slots = nullptr;
    switch (frame.ctx) {
      case Ctx::kThread:
        names = &kThreadShape.properties;
        slots = kThreadSlots;
        break;
      case Ctx::kPost:
        names = &kPostShape.properties;
        slots = kPostSlots;
        break;
      case Ctx::kBody:
        names = &kItemBodyShape.properties;
        slots = kBodySlots;
        break;
      case Ctx::kRecipient:
        names = &kRecipientShape.properties;
        slots = kRecipientSlots;
        break;
      case Ctx::kEmail:
        names = &kEmailAddressShape.properties;
        slots = kEmailSlots;
        break;
      default:
        return decline(ec);
    }
    for (std::size_t i = 0; i < names->size(); ++i) {
      if ((*names)[i] != key) continue;
      const std::uint32_t bit = std::uint32_t{1} << i;
      if ((frame.seen & bit) != 0 || slots[i] == Slot::kNone) return decline(ec);  // twice
      frame.seen |= bit;
      slot_ = slots[i];
      part_.clear();
      return true;
    }
    return decline(ec);  // another spelling, an annotation, a computed or unknown property
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
    const std::string_view value = whole(s);
    if (depth_ == 0) return decline(ec);
    const Ctx ctx = top().ctx;
    bool used = true;
    if (ctx == Ctx::kCategories) {
      post_->categories->emplace_back(value);
    } else if (ctx == Ctx::kThread && slot_ == Slot::kTopic) {
      thread_.topic.emplace(value);
    } else if (ctx == Ctx::kBody && slot_ == Slot::kContent) {
      post_->body->content.emplace(value);
    } else if (ctx == Ctx::kBody && slot_ == Slot::kContentType && ascii_iequals(value, "text")) {
      post_->body->content_type = BodyType::kText;
    } else if (ctx == Ctx::kBody && slot_ == Slot::kContentType && ascii_iequals(value, "html")) {
      post_->body->content_type = BodyType::kHtml;
    } else if (ctx == Ctx::kEmail && slot_ == Slot::kAddress) {
      recipient_->email_address.address = value;
    } else if (ctx == Ctx::kEmail && slot_ == Slot::kName) {
      recipient_->email_address.name.emplace(value);
    } else {
      used = false;
    }
    part_.clear();
    return used || decline(ec);
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code& ec) { return decline(ec); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code& ec) { return decline(ec); }
  bool on_double(double, json::string_view, json::error_code& ec) { return decline(ec); }
  bool on_bool(bool b, json::error_code& ec) {
    if (depth_ == 0 || top().ctx != Ctx::kThread || slot_ != Slot::kIsLocked) return decline(ec);
    thread_.is_locked = b;
    return true;
  }
  bool on_null(json::error_code& ec) {
    // An emailAddress's "name": null is how Graph writes an absent name; ThreadDecoder skips it.
    return (depth_ > 0 && top().ctx == Ctx::kEmail && slot_ == Slot::kName) || decline(ec);
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // What is open, innermost last: the thread, posts, a post, its body, a recipients array, a
  // recipient, its emailAddress, categories (six deep at most).
  enum class Ctx : std::uint8_t {
    kThread,
    kPosts,
    kPost,
    kBody,
    kRecipients,
    kRecipient,
    kEmail,
    kCategories
  };
  // What the last key of the innermost object names.
  enum class Slot : std::uint8_t {
    kNone,  // a property left to ThreadDecoder (extensions, attachments)
    kTopic,
    kPosts,
    kToRecipients,
    kCcRecipients,
    kIsLocked,
    kBody,
    kNewParticipants,
    kFrom,
    kSender,
    kCategories,
    kContentType,
    kContent,
    kEmailAddress,
    kAddress,
    kName
  };
  // In the order of each Shape's properties.
  static constexpr Slot kThreadSlots[] = {Slot::kTopic, Slot::kPosts, Slot::kToRecipients,
                                          Slot::kCcRecipients, Slot::kIsLocked};
  static constexpr Slot kPostSlots[] = {Slot::kBody,   Slot::kNewParticipants, Slot::kFrom,
                                        Slot::kSender, Slot::kCategories,      Slot::kNone,
                                        Slot::kNone};
  static constexpr Slot kBodySlots[] = {Slot::kContentType, Slot::kContent};
  static constexpr Slot kRecipientSlots[] = {Slot::kEmailAddress};
  static constexpr Slot kEmailSlots[] = {Slot::kAddress, Slot::kName};

  struct Frame {
    Ctx ctx = Ctx::kThread;
    std::uint32_t seen = 0;  // bit i: the shape's property i was given
  };
  static constexpr std::size_t kMaxDepth = 8;

  Frame& top() { return frames_[depth_ - 1]; }
  bool push(Ctx ctx, json::error_code& ec) {
    if (depth_ == kMaxDepth) return decline(ec);
    frames_[depth_++] = Frame{ctx, 0};
    return true;
  }
  bool pop() {
    --depth_;
    return true;
  }
  bool decline(json::error_code& ec) {
    declined = true;
    ec = json::error::syntax;
    return false;
  }
  // A key or string given in parts (escapes, or a buffer boundary) is put together in part_.
  std::string_view whole(json::string_view last) {
    if (part_.empty()) return {last.data(), last.size()};
    part_.append(last.data(), last.size());
    return part_;
  }

  ThreadRequest& thread_;
  Frame frames_[kMaxDepth];
  std::size_t depth_ = 0;
  bool started_ = false;
  Slot slot_ = Slot::kNone;
  Post* post_ = nullptr;                          // the post being decoded
  std::vector<Recipient>* recipients_ = nullptr;  // the recipients array being decoded
  Recipient* recipient_ = nullptr;                // the recipient being decoded
  std::string part_;
};

// ---------------------------------------------------------------------------------------------
// Encoding.

// Appends `s` as a JSON string literal, escaped exactly as json::serialize escapes it: '"' and
// '\\' with a backslash, \b \f \n \r \t by name, other control characters as \u00xx (lower-case
// hex); everything else, DEL and non-ASCII bytes included, as it is.
void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // 0: as it is; 'u': \u00xx; otherwise the letter after the backslash.
  static constexpr std::array<char, 256> kEscape = [] {
    std::array<char, 256> table{};
    for (int c = 0; c < 0x20; ++c) table[c] = 'u';
    table['\b'] = 'b';
    table['\f'] = 'f';
    table['\n'] = 'n';
    table['\r'] = 'r';
    table['\t'] = 't';
    table['"'] = '"';
    table['\\'] = '\\';
    return table;
  }();
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char escape = kEscape[c];
    if (escape == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (escape == 'u') {
      const char code[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(code, sizeof code);
    } else {
      const char code[2] = {'\\', escape};
      out.append(code, sizeof code);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// Writes compact JSON straight into a string: the bytes json::serialize writes for a json::value
// holding the same members in the same order, without building that value first (the body of
// every bulk item is written here).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // REQUIRES: `k` needs no escaping (the keys are Graph's property names).
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    out_ += '"';
    out_ += k;
    out_ += "\":";
    after_key_ = true;
  }
  void string(std::string_view s) {
    separate();
    append_quoted(out_, s);
    first_ = false;
  }
  void boolean(bool b) {
    separate();
    out_ += b ? "true" : "false";
    first_ = false;
  }
  // A serialized JSON value, written as json::serialize writes it after parsing; null when it
  // does not parse.
  void reserialized(std::string_view text) {
    separate();
    json::error_code ec;
    const json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
    out_ += ec ? "null" : json::serialize(v);
    first_ = false;
  }

 private:
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_ += ',';
    }
  }
  void open(char bracket) {
    separate();
    out_ += bracket;
    first_ = true;
  }
  void close(char bracket) {
    out_ += bracket;
    first_ = false;  // the container is a value of the one around it
  }

  std::string& out_;
  bool first_ = true;  // nothing written yet in the innermost open container
  bool after_key_ = false;
};

void write_recipient(JsonWriter& w, const Recipient& r) {
  w.begin_object();
  w.key("emailAddress");
  w.begin_object();
  if (r.email_address.name) {
    w.key("name");
    w.string(*r.email_address.name);
  }
  w.key("address");
  w.string(r.email_address.address);
  w.end_object();
  w.end_object();
}

void write_recipients(JsonWriter& w, std::string_view key, const std::vector<Recipient>& rs) {
  w.key(key);
  w.begin_array();
  for (const Recipient& r : rs) write_recipient(w, r);
  w.end_array();
}

// REQUIRES: each element is a serialized JSON object (decode_thread_request guarantees it). An
// element that does not parse is sent as null so that Graph rejects it rather than us guessing.
void write_raw_objects(JsonWriter& w, std::string_view key, const std::vector<std::string>& items) {
  w.key(key);
  w.begin_array();
  for (const std::string& item : items) w.reserialized(item);
  w.end_array();
}

void write_post(JsonWriter& w, const Post& post) {
  w.begin_object();
  if (post.body) {
    w.key("body");
    w.begin_object();
    if (post.body->content_type) {
      w.key("contentType");
      w.string(to_string(*post.body->content_type));
    }
    if (post.body->content) {
      w.key("content");
      w.string(*post.body->content);
    }
    w.end_object();
  }
  if (post.new_participants) write_recipients(w, "newParticipants", *post.new_participants);
  if (post.from) {
    w.key("from");
    write_recipient(w, *post.from);
  }
  if (post.sender) {
    w.key("sender");
    write_recipient(w, *post.sender);
  }
  if (post.categories) {
    w.key("categories");
    w.begin_array();
    for (const std::string& c : *post.categories) w.string(c);
    w.end_array();
  }
  if (post.extensions_json) write_raw_objects(w, "extensions", *post.extensions_json);
  if (post.attachments_json) write_raw_objects(w, "attachments", *post.attachments_json);
  w.end_object();
}

// What a post's text adds to its serialized size, for reserving the output once.
std::size_t post_text_size(const Post& post) {
  return post.body && post.body->content ? post.body->content->size() : 0;
}

// ---------------------------------------------------------------------------------------------
// Reading responses.

const json::value* find_ci(const json::object& object, std::string_view key) {
  for (const auto& member : object) {
    if (ascii_iequals(to_std(member.key()), key)) return &member.value();
  }
  return nullptr;
}

std::optional<std::string> string_at(const json::object& object, std::string_view key) {
  const json::value* v = find_ci(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(to_std(v->get_string()));
}

std::optional<bool> bool_at(const json::object& object, std::string_view key) {
  const json::value* v = find_ci(object, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

// ---------------------------------------------------------------------------------------------
// Pretty printing. Works on the text (after it parsed) rather than on a json::value so that
// numbers, escapes and duplicate keys come out exactly as they went in.

void newline(std::string& out, int depth) {
  out += '\n';
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

// Copies the string token starting at text[i] (a '"'); returns the index after its closing quote.
// C1 control characters and DEL, legal raw inside JSON strings, are written as \u escapes so that
// a terminal never sees them; the value is unchanged.
std::size_t copy_string_token(std::string_view text, std::size_t i, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += text[i++];
  while (i < text.size()) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += c;
      out += text[i + 1];
      i += 2;
    } else if (c == '"') {
      out += c;
      return i + 1;
    } else if (u == 0x7F) {
      out += "\\u007f";
      ++i;
    } else if (u == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      out += "\\u00";
      out += kHex[next >> 4];
      out += kHex[next & 0xF];
      i += 2;
    } else {
      out += c;
      ++i;
    }
  }
  return i;
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// ANSI colours for JSON on a terminal, as jq and gh use them: keys bold blue, strings green,
// numbers, true, false and null cyan; punctuation uncoloured.
constexpr std::string_view kKeyColor = "\x1b[1;34m";
constexpr std::string_view kStringColor = "\x1b[32m";
constexpr std::string_view kLiteralColor = "\x1b[36m";
constexpr std::string_view kReset = "\x1b[0m";

// REQUIRES: `text` is one valid JSON document.
std::string relayout(std::string_view text, const JsonLayout& layout) {
  std::string out;
  out.reserve(text.size() * 2);
  int depth = 0;
  std::size_t i = 0;
  auto line = [&](int d) {
    if (layout.indent) newline(out, d);
  };
  while (i < text.size()) {
    const char c = text[i];
    if (is_json_space(c)) {
      ++i;
    } else if (c == '"') {
      if (!layout.color) {
        i = copy_string_token(text, i, out);
        continue;
      }
      std::string token;
      i = copy_string_token(text, i, token);
      std::size_t next = i;
      while (next < text.size() && is_json_space(text[next])) ++next;
      const bool key = next < text.size() && text[next] == ':';
      out += key ? kKeyColor : kStringColor;
      out += token;
      out += kReset;
    } else if (c == '{' || c == '[') {
      out += c;
      std::size_t next = i + 1;
      while (next < text.size() && is_json_space(text[next])) ++next;
      if (next < text.size() && (text[next] == '}' || text[next] == ']')) {
        out += text[next];  // an empty container stays on one line
        i = next + 1;
      } else {
        line(++depth);
        i = next;
      }
    } else if (c == '}' || c == ']') {
      line(--depth);
      out += c;
      ++i;
    } else if (c == ',') {
      out += c;
      line(depth);
      ++i;
    } else if (c == ':') {
      out += layout.indent ? ": " : ":";
      ++i;
    } else {
      // numbers, true, false, null
      std::size_t end = i;
      while (end < text.size() && !is_json_space(text[end]) && text[end] != ',' &&
             text[end] != '}' && text[end] != ']') {
        ++end;
      }
      if (layout.color) out += kLiteralColor;
      out += text.substr(i, end - i);
      if (layout.color) out += kReset;
      i = end;
    }
  }
  return out;
}

std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string format_issues(const std::vector<JsonIssue>& issues, std::string_view indent) {
  std::string out;
  for (const JsonIssue& issue : issues) {
    if (!out.empty()) out += '\n';
    out += indent;
    if (!issue.path.empty()) {
      out += issue.path;
      out += ": ";
    }
    out += issue.message;
  }
  return out;
}

std::vector<JsonIssue> decode_thread_request_issues(std::string_view text, DecodedThread& out) {
  std::vector<JsonIssue> issues;
  // The document is only read here (what is kept is copied out of it), so its nodes come from
  // one arena that starts on the stack and is let go at once, rather than one malloc each.
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof arena);
  ParseOutcome parsed = parse_thread_document(text, &resource);
  if (!parsed.error.empty()) {
    issues.push_back({"", std::move(parsed.error)});
    return issues;
  }
  ThreadDecoder decoder(issues, out.dropped);
  for (std::string& path : parsed.duplicates) {
    decoder.add_issue(std::move(path), "duplicate property");
  }
  decoder.thread(parsed.value, out.request);
  decoder.finish();
  return issues;
}

bool decode_plain_thread_request(std::string_view text, ThreadRequest& out) {
  json::basic_parser<PlainThreadHandler> parser(json::parse_options(), out);
  json::error_code ec;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && consumed == text.size() && !parser.handler().declined;
}

Result<DecodedThread> decode_thread_request(std::string_view text, std::string_view source) {
  DecodedThread decoded;
  const std::vector<JsonIssue> issues = decode_thread_request_issues(text, decoded);
  if (issues.empty()) return decoded;
  if (issues.size() == 1) {
    return Error::usage(std::string(source) + ": " + format_issues(issues, ""));
  }
  return Error::usage("invalid thread in " + std::string(source) + ":\n" + format_issues(issues));
}

std::string encode_thread_request(const ThreadRequest& request) {
  std::size_t text = request.topic ? request.topic->size() : 0;
  if (request.posts) {
    for (const Post& post : *request.posts) text += 64 + post_text_size(post);
  }
  std::string out;
  out.reserve(96 + text + text / 8);
  JsonWriter w(out);
  w.begin_object();
  if (request.topic) {
    w.key("topic");
    w.string(*request.topic);
  }
  if (request.to_recipients) write_recipients(w, "toRecipients", *request.to_recipients);
  if (request.cc_recipients) write_recipients(w, "ccRecipients", *request.cc_recipients);
  if (request.is_locked) {
    w.key("isLocked");
    w.boolean(*request.is_locked);
  }
  if (request.posts) {
    w.key("posts");
    w.begin_array();
    for (const Post& post : *request.posts) write_post(w, post);
    w.end_array();
  }
  w.end_object();
  return out;
}

std::string encode_reply_request(const Post& post) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("post");
  write_post(w, post);
  w.end_object();
  return out;
}

std::string encode_lock_request(bool is_locked) {
  json::object out;
  out["isLocked"] = is_locked;
  return json::serialize(out);
}

namespace {

// Recipients as Graph answers them; lenient (an answer is shown, not validated): entries without
// an emailAddress object are skipped, a missing address is "".
std::optional<std::vector<Recipient>> recipients_at(const json::object& object,
                                                    std::string_view key) {
  const json::value* v = find_ci(object, key);
  if (v == nullptr || !v->is_array()) return std::nullopt;
  std::vector<Recipient> out;
  for (const json::value& item : v->get_array()) {
    const json::value* email =
        item.is_object() ? find_ci(item.get_object(), "emailAddress") : nullptr;
    if (email == nullptr || !email->is_object()) continue;
    Recipient r;
    r.email_address.address = string_at(email->get_object(), "address").value_or("");
    r.email_address.name = string_at(email->get_object(), "name");
    out.push_back(std::move(r));
  }
  return out;
}

CreatedThread thread_from_object(const json::object& object, std::string raw) {
  CreatedThread out;
  out.id = string_at(object, "id").value_or("");
  out.topic = string_at(object, "topic");
  out.last_delivered = string_at(object, "lastDeliveredDateTime");
  out.preview = string_at(object, "preview");
  out.is_locked = bool_at(object, "isLocked");
  out.has_attachments = bool_at(object, "hasAttachments");
  if (const json::value* senders = find_ci(object, "uniqueSenders");
      senders != nullptr && senders->is_array()) {
    for (const json::value& sender : senders->get_array()) {
      if (sender.is_string()) out.unique_senders.emplace_back(to_std(sender.get_string()));
    }
  }
  out.to_recipients = recipients_at(object, "toRecipients");
  out.cc_recipients = recipients_at(object, "ccRecipients");
  out.raw_json = std::move(raw);
  return out;
}

// `what` is what was expected, `shape` its JSON form.
Error unexpected_body(std::string_view body, std::string_view what, std::string_view shape) {
  Error error;
  error.kind = ErrorKind::kGraph;
  error.message = body.empty() ? "Graph answered with an empty body instead of " + std::string(what)
                               : "Graph answered with something other than " + std::string(shape) +
                                     ": " + printable_snippet(body, 200);
  return error;
}

}  // namespace

Result<CreatedThread> decode_created_thread(std::string_view body) {
  json::error_code ec;
  const json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !v.is_object()) return unexpected_body(body, "the created thread", "a JSON object");
  return thread_from_object(v.get_object(), std::string(body));
}

std::string decode_created_thread_id(std::string_view body) {
  if (const CreatedIdScan fast = scan_created_id(body); fast.sure) return std::string(fast.id);
  // Outside the scan's subset (rare: see gt/json_id_scan): the full decoder, whose id this is by
  // definition.
  Result<CreatedThread> created = decode_created_thread(body);
  return created ? std::move(created->id) : std::string();
}

Result<ThreadPage> decode_thread_page(std::string_view body) {
  json::error_code ec;
  const json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  const json::value* value = (!ec && v.is_object()) ? find_ci(v.get_object(), "value") : nullptr;
  if (value == nullptr || !value->is_array()) {
    return unexpected_body(body, "a page of threads", "a page of threads ({\"value\": [...]})");
  }
  ThreadPage page;
  for (const json::value& item : value->get_array()) {
    if (!item.is_object()) {
      return unexpected_body(body, "a page of threads", "a page of thread objects");
    }
    page.threads.push_back(thread_from_object(item.get_object(), json::serialize(item)));
  }
  page.next_link = string_at(v.get_object(), "@odata.nextLink").value_or("");
  return page;
}

std::optional<GraphErrorBody> decode_graph_error(std::string_view body) {
  json::error_code ec;
  const json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* error = find_ci(v.get_object(), "error");
  if (error == nullptr || !error->is_object()) return std::nullopt;
  const json::object& e = error->get_object();
  GraphErrorBody out;
  out.code = string_at(e, "code").value_or("");
  out.message = string_at(e, "message").value_or("");
  // find_ci matches both "innerError" (what Graph sends) and "innererror" (what its docs say).
  if (const json::value* inner = find_ci(e, "innerError"); inner != nullptr && inner->is_object()) {
    const json::object& i = inner->get_object();
    out.request_id = string_at(i, "request-id").value_or("");
    out.client_request_id = string_at(i, "client-request-id").value_or("");
    out.date = string_at(i, "date").value_or("");
  }
  return out;
}

std::string layout_json(std::string_view text, const JsonLayout& layout) {
  json::error_code ec;
  json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return std::string(text);
  return relayout(text, layout);
}

std::string pretty_json(std::string_view text) {
  return layout_json(text, JsonLayout{.indent = true, .color = false});
}

bool is_complete_json(std::string_view text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  return !ec;
}

std::string json_quote(std::string_view s) {
  return json::serialize(json::string_view(s.data(), s.size()));
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = static_cast<std::size_t>(-1);
  for (std::string_view candidate : candidates) {
    const std::size_t distance = levenshtein(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // A case-only difference has distance 0 here; otherwise the word must keep at least one of its
  // own characters (so "id" never suggests "to").
  if (best_distance == 0 || (best_distance <= 2 && best_distance < word.size())) {
    return std::string(best);
  }
  // A truncated word ("v1" for "v1.0", "partic" for "participant") is a plausible slip too.
  if (word.size() >= 2) {
    for (std::string_view candidate : candidates) {
      if (candidate.size() > word.size() &&
          levenshtein(word, candidate.substr(0, word.size())) == 0) {
        return std::string(candidate);
      }
    }
  }
  return "";
}

}  // namespace gt
