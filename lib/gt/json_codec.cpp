#include "gt/json_codec.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gt {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxIssues = 20;

// ---------------------------------------------------------------------------------------------
// Small string helpers.

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string_view to_std(json::string_view s) {
  return {s.data(), s.size()};
}

std::string member_path(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  std::string out(base);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view base, std::size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
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

struct ParseOutcome {
  json::value value;
  std::string error;  // "line L, column C: what"; empty on success
};

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

ParseOutcome parse_with_position(std::string_view text) {
  ParseOutcome out;
  json::stream_parser parser;
  json::error_code ec;
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  std::size_t offset = consumed;
  if (!ec) {
    parser.finish(ec);
    offset = text.size();
  }
  if (ec) {
    out.error = position_of(text, offset) + ": " + describe_parse_error(ec, text, offset);
    return out;
  }
  out.value = parser.release();
  return out;
}

// A json::object silently keeps only the last of two equal keys, so duplicates are found in a
// separate pass over the parse events. Keys are compared case-insensitively because Graph treats
// "Topic" and "topic" as the same property.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<std::string> duplicates;  // paths of the second and later occurrences

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return open(false); }
  bool on_object_end(std::size_t, json::error_code&) { return close(); }
  bool on_array_begin(json::error_code&) { return open(true); }
  bool on_array_end(std::size_t, json::error_code&) { return close(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    Frame& frame = frames_.back();
    frame.selector = "." + key_;
    if (!frame.seen.insert(lower(key_)).second) duplicates.push_back(current_path());
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return value_done(); }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return value_done(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return value_done(); }
  bool on_double(double, json::string_view, json::error_code&) { return value_done(); }
  bool on_bool(bool, json::error_code&) { return value_done(); }
  bool on_null(json::error_code&) { return value_done(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct Frame {
    bool is_array = false;
    std::size_t index = 0;
    std::string selector;  // ".key" or "[i]" of the child being parsed
    std::set<std::string> seen;
  };

  bool open(bool is_array) {
    Frame frame;
    frame.is_array = is_array;
    if (is_array) frame.selector = "[0]";
    frames_.push_back(std::move(frame));
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value_done();
  }
  bool value_done() {
    if (!frames_.empty() && frames_.back().is_array) {
      Frame& frame = frames_.back();
      frame.selector = "[" + std::to_string(++frame.index) + "]";
    }
    return true;
  }
  std::string current_path() const {
    std::string path;
    for (const Frame& frame : frames_) path += frame.selector;
    if (!path.empty() && path.front() == '.') path.erase(0, 1);
    return path;
  }

  std::vector<Frame> frames_;
  std::string key_;
};

std::vector<std::string> find_duplicate_keys(std::string_view text) {
  json::basic_parser<DuplicateKeyFinder> parser{json::parse_options{}};
  json::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return std::move(parser.handler().duplicates);
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
      : issues_(issues), dropped_(dropped) {}

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
    members(v.get_object(), "", kThreadShape,
            [&](std::string_view name, const json::value& value, const std::string& path) {
              if (name == "topic") {
                string_into(value, path, out.topic);
              } else if (name == "posts") {
                posts(value, path, out.posts);
              } else if (name == "toRecipients") {
                recipients(value, path, out.to_recipients);
              } else if (name == "ccRecipients") {
                recipients(value, path, out.cc_recipients);
              } else if (name == "isLocked") {
                if (value.is_bool()) {
                  out.is_locked = value.get_bool();
                } else {
                  add_issue(path, "expected true or false, got " + describe(value));
                }
              }
            });
  }

 private:
  void add_issue_unlimited(std::string path, std::string message) {
    issues_.push_back({std::move(path), std::move(message)});
  }

  // Walks the members of `object`: known properties go to `on_property` under their canonical
  // name; computed properties and OData annotations are recorded as dropped; anything else is an
  // unknown property. A property given twice (in any case) was already reported by
  // find_duplicate_keys, so only its first occurrence is used here.
  template <class OnProperty>
  void members(const json::object& object, const std::string& base, const Shape& shape,
               OnProperty&& on_property) {
    std::set<std::string_view> seen;
    for (const auto& member : object) {
      const std::string_view key = to_std(member.key());
      const std::string path = member_path(base, key);
      if (key.find('@') != std::string_view::npos) {
        if (iequals(key, "@odata.type")) check_odata_type(member.value(), path, shape);
        dropped_.push_back(path);
        continue;
      }
      const auto known = std::find_if(shape.properties.begin(), shape.properties.end(),
                                      [&](std::string_view p) { return iequals(p, key); });
      if (known != shape.properties.end()) {
        if (seen.insert(*known).second) on_property(*known, member.value(), path);
        continue;
      }
      if (std::any_of(shape.computed.begin(), shape.computed.end(),
                      [&](std::string_view p) { return iequals(p, key); })) {
        dropped_.push_back(path);
        continue;
      }
      const std::string suggestion = did_you_mean(key, shape.properties);
      if (!suggestion.empty()) {
        add_issue(path, "unknown property (did you mean " + json_quote(suggestion) + "?)");
      } else {
        add_issue(path, "unknown property; " + std::string(shape.description) + " accepts " +
                            accepted_list(shape));
      }
    }
  }

  // "@odata.type" may be given with or without the leading '#'.
  void check_odata_type(const json::value& value, const std::string& path, const Shape& shape) {
    const std::string expected = "#" + std::string(shape.odata_type);
    if (value.is_string()) {
      std::string_view given = to_std(value.get_string());
      if (!given.empty() && given.front() == '#') given.remove_prefix(1);
      if (iequals(given, shape.odata_type)) return;
    }
    add_issue(path, "expected " + json_quote(expected) + ", got " + describe(value));
  }

  void string_into(const json::value& value, const std::string& path,
                   std::optional<std::string>& out) {
    if (value.is_string()) {
      out = std::string(to_std(value.get_string()));
    } else {
      add_issue(path, "expected a string, got " + describe(value));
    }
  }

  // Calls `element` for each item of an array property; reports a non-array.
  template <class OnElement>
  void array(const json::value& value, const std::string& path, std::string_view expected,
             OnElement&& element) {
    if (!value.is_array()) {
      add_issue(path, "expected " + std::string(expected) + ", got " + describe(value));
      return;
    }
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) element(items[i], index_path(path, i));
  }

  void posts(const json::value& value, const std::string& path,
             std::optional<std::vector<Post>>& out) {
    out.emplace();
    array(value, path, "an array of posts",
          [&](const json::value& item, const std::string& p) { out->push_back(post(item, p)); });
  }

  Post post(const json::value& value, const std::string& path) {
    Post out;
    if (!value.is_object()) {
      add_issue(path, "expected a post object like {\"body\": {...}}, got " + describe(value));
      return out;
    }
    members(value.get_object(), path, kPostShape,
            [&](std::string_view name, const json::value& v, const std::string& p) {
              if (name == "body") {
                out.body = item_body(v, p);
              } else if (name == "newParticipants") {
                recipients(v, p, out.new_participants);
              } else if (name == "from") {
                out.from = recipient(v, p);
              } else if (name == "sender") {
                out.sender = recipient(v, p);
              } else if (name == "categories") {
                categories(v, p, out.categories);
              } else if (name == "extensions") {
                typed_objects(v, p, "#microsoft.graph.openTypeExtension", out.extensions_json);
              } else if (name == "attachments") {
                typed_objects(v, p, "#microsoft.graph.fileAttachment", out.attachments_json);
              }
            });
    return out;
  }

  ItemBody item_body(const json::value& value, const std::string& path) {
    ItemBody out;
    if (!value.is_object()) {
      add_issue(path,
                "expected an itemBody object like {\"contentType\": \"text\", "
                "\"content\": \"...\"}, got " +
                    describe(value));
      return out;
    }
    members(value.get_object(), path, kItemBodyShape,
            [&](std::string_view name, const json::value& v, const std::string& p) {
              if (name == "content") {
                string_into(v, p, out.content);
              } else if (name == "contentType") {
                out.content_type = body_type(v, p);
              }
            });
    return out;
  }

  std::optional<BodyType> body_type(const json::value& value, const std::string& path) {
    static const std::vector<std::string_view> kTypes = {"text", "html"};
    std::string message = "expected \"text\" or \"html\", got " + describe(value);
    if (value.is_string()) {
      const std::string_view given = to_std(value.get_string());
      if (iequals(given, "text")) return BodyType::kText;
      if (iequals(given, "html")) return BodyType::kHtml;
      const std::string suggestion = did_you_mean(given, kTypes);
      if (!suggestion.empty()) message += " (did you mean " + json_quote(suggestion) + "?)";
    }
    add_issue(path, std::move(message));
    return std::nullopt;
  }

  void recipients(const json::value& value, const std::string& path,
                  std::optional<std::vector<Recipient>>& out) {
    out.emplace();
    array(
        value, path, "an array of recipients",
        [&](const json::value& item, const std::string& p) { out->push_back(recipient(item, p)); });
  }

  Recipient recipient(const json::value& value, const std::string& path) {
    Recipient out;
    if (!value.is_object()) {
      add_issue(path,
                "expected a recipient object like {\"emailAddress\": {\"address\": "
                "\"a@b.example\"}}, got " +
                    describe(value));
      return out;
    }
    members(value.get_object(), path, kRecipientShape,
            [&](std::string_view, const json::value& v, const std::string& p) {
              out.email_address = email_address(v, p);
            });
    return out;
  }

  EmailAddress email_address(const json::value& value, const std::string& path) {
    EmailAddress out;
    if (!value.is_object()) {
      add_issue(path, "expected an emailAddress object like {\"address\": \"a@b.example\"}, got " +
                          describe(value));
      return out;
    }
    members(value.get_object(), path, kEmailAddressShape,
            [&](std::string_view name, const json::value& v, const std::string& p) {
              if (name == "address") {
                std::optional<std::string> address;
                string_into(v, p, address);
                out.address = address.value_or("");
              } else if (!v.is_null()) {  // name: Graph serializes an absent name as null
                string_into(v, p, out.name);
              }
            });
    return out;
  }

  void categories(const json::value& value, const std::string& path,
                  std::optional<std::vector<std::string>>& out) {
    out.emplace();
    array(value, path, "an array of strings", [&](const json::value& item, const std::string& p) {
      std::optional<std::string> category;
      string_into(item, p, category);
      if (category) out->push_back(std::move(*category));
    });
  }

  // Open extensions and attachments are passed through, but each must say what it is.
  void typed_objects(const json::value& value, const std::string& path, std::string_view example,
                     std::optional<std::vector<std::string>>& out) {
    out.emplace();
    array(value, path, "an array of objects", [&](const json::value& item, const std::string& p) {
      if (!item.is_object()) {
        add_issue(p, "expected an object with \"@odata.type\", got " + describe(item));
        return;
      }
      const json::object& object = item.get_object();
      const auto type = std::find_if(object.begin(), object.end(), [](const auto& member) {
        return iequals(to_std(member.key()), "@odata.type");
      });
      if (type == object.end()) {
        add_issue(p, "missing \"@odata.type\" (e.g. " + json_quote(example) + ")");
      } else if (!type->value().is_string()) {
        add_issue(member_path(p, to_std(type->key())),
                  "expected a string, got " + describe(type->value()));
      } else {
        out->push_back(json::serialize(object));
      }
    });
  }

  std::vector<JsonIssue>& issues_;
  std::vector<std::string>& dropped_;
  std::size_t not_shown_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Encoding.

json::value recipient_json(const Recipient& r) {
  json::object email;
  if (r.email_address.name) email["name"] = *r.email_address.name;
  email["address"] = r.email_address.address;
  json::object out;
  out["emailAddress"] = std::move(email);
  return out;
}

json::array recipients_json(const std::vector<Recipient>& rs) {
  json::array out;
  for (const Recipient& r : rs) out.push_back(recipient_json(r));
  return out;
}

// REQUIRES: each element is a serialized JSON object (decode_thread_request guarantees it). An
// element that does not parse is sent as null so that Graph rejects it rather than us guessing.
json::array raw_objects_json(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& item : items) {
    json::error_code ec;
    json::value v = json::parse(item, ec);
    out.push_back(ec ? json::value(nullptr) : std::move(v));
  }
  return out;
}

json::value post_json(const Post& post) {
  json::object out;
  if (post.body) {
    json::object body;
    if (post.body->content_type) body["contentType"] = to_string(*post.body->content_type);
    if (post.body->content) body["content"] = *post.body->content;
    out["body"] = std::move(body);
  }
  if (post.new_participants) out["newParticipants"] = recipients_json(*post.new_participants);
  if (post.from) out["from"] = recipient_json(*post.from);
  if (post.sender) out["sender"] = recipient_json(*post.sender);
  if (post.categories) {
    json::array categories;
    for (const std::string& c : *post.categories) categories.emplace_back(c);
    out["categories"] = std::move(categories);
  }
  if (post.extensions_json) out["extensions"] = raw_objects_json(*post.extensions_json);
  if (post.attachments_json) out["attachments"] = raw_objects_json(*post.attachments_json);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading responses.

const json::value* find_ci(const json::object& object, std::string_view key) {
  for (const auto& member : object) {
    if (iequals(to_std(member.key()), key)) return &member.value();
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
  ParseOutcome parsed = parse_with_position(text);
  if (!parsed.error.empty()) {
    issues.push_back({"", std::move(parsed.error)});
    return issues;
  }
  ThreadDecoder decoder(issues, out.dropped);
  for (std::string& path : find_duplicate_keys(text)) {
    decoder.add_issue(std::move(path), "duplicate property");
  }
  decoder.thread(parsed.value, out.request);
  decoder.finish();
  return issues;
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
  json::object out;
  if (request.topic) out["topic"] = *request.topic;
  if (request.to_recipients) out["toRecipients"] = recipients_json(*request.to_recipients);
  if (request.cc_recipients) out["ccRecipients"] = recipients_json(*request.cc_recipients);
  if (request.is_locked) out["isLocked"] = *request.is_locked;
  if (request.posts) {
    json::array posts;
    for (const Post& post : *request.posts) posts.push_back(post_json(post));
    out["posts"] = std::move(posts);
  }
  return json::serialize(out);
}

std::string encode_reply_request(const Post& post) {
  json::object out;
  out["post"] = post_json(post);
  return json::serialize(out);
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

namespace {

// The SAX side of decode_created_thread_id: watches the members of the top-level object only,
// and records each distinct key that equals "id" case-insensitively with the last value given
// for it (a string, or nullopt for any other type), in order of first appearance: what a
// json::object keeps of duplicate keys and what find_ci then finds first.
class CreatedIdFinder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  struct Candidate {
    std::string key;
    std::optional<std::string> value;
  };
  std::vector<Candidate> candidates;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (depth_ == 1) value_not_string();
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(json::error_code& ec) {
    if (depth_ == 0) return not_an_object(ec);
    if (depth_ == 1) value_not_string();
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth_;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ == 1) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth_ != 1) return true;
    key_.append(s.data(), s.size());
    pending_ = nullptr;
    if (iequals(key_, "id")) {
      for (Candidate& c : candidates) {
        if (c.key == key_) pending_ = &c;
      }
      if (pending_ == nullptr) pending_ = &candidates.emplace_back(Candidate{key_, std::nullopt});
    }
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code& ec) {
    if (depth_ == 0) return not_an_object(ec);
    if (depth_ == 1 && pending_ != nullptr) value_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
    if (depth_ == 0) return not_an_object(ec);
    if (depth_ == 1 && pending_ != nullptr) {
      value_.append(s.data(), s.size());
      pending_->value = std::move(value_);
      value_.clear();
      pending_ = nullptr;
    }
    return true;
  }
  bool on_number_part(json::string_view, json::error_code& ec) {
    return depth_ != 0 || not_an_object(ec);
  }
  bool on_int64(std::int64_t, json::string_view, json::error_code& ec) { return scalar(ec); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code& ec) { return scalar(ec); }
  bool on_double(double, json::string_view, json::error_code& ec) { return scalar(ec); }
  bool on_bool(bool, json::error_code& ec) { return scalar(ec); }
  bool on_null(json::error_code& ec) { return scalar(ec); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // A document that is not an object has no id: stop reading it.
  static bool not_an_object(json::error_code& ec) {
    ec = json::error::syntax;
    return false;
  }
  bool scalar(json::error_code& ec) {
    if (depth_ == 0) return not_an_object(ec);
    if (depth_ == 1) value_not_string();
    return true;
  }
  void value_not_string() {
    if (pending_ != nullptr) pending_->value.reset();
    pending_ = nullptr;
  }

  int depth_ = 0;
  std::string key_;
  std::string value_;
  Candidate* pending_ = nullptr;  // the candidate whose value is being parsed
};

}  // namespace

std::string decode_created_thread_id(std::string_view body) {
  // The options json::parse uses, so that exactly the same documents are refused.
  json::basic_parser<CreatedIdFinder> parser{json::parse_options{}};
  json::error_code ec;
  const std::size_t n = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || n != body.size()) return {};
  const auto& candidates = parser.handler().candidates;
  if (candidates.empty()) return {};
  return candidates.front().value.value_or("");
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
