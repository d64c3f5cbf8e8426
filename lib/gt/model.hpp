// gt/model: what a conversation thread request and a created thread are, in std types only.
//
// The request mirrors Microsoft Graph's conversationThread resource as it is POSTed to
// /groups/{id}/threads. Every field is optional or possibly-absent so that the encoder sends only
// what the user set: an unset std::optional is omitted from the JSON body, a set one is sent even
// when empty (the user asked for it). Validation (gt/validate) decides what is required.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gt {

// Graph's bodyType enum.
enum class BodyType { kText, kHtml };

const char* to_string(BodyType type);  // "text" / "html"

struct EmailAddress {
  std::string address;              // "a@b.c"
  std::optional<std::string> name;  // display name, omitted when absent
  bool operator==(const EmailAddress&) const = default;
};

// Graph's recipient: {"emailAddress": {"name": ..., "address": ...}}.
struct Recipient {
  EmailAddress email_address;
  bool operator==(const Recipient&) const = default;
};

// Graph's itemBody.
struct ItemBody {
  std::optional<BodyType> content_type;
  std::optional<std::string> content;
  bool operator==(const ItemBody&) const = default;
};

// A post inside the thread being created. Graph creates the post with the thread.
struct Post {
  std::optional<ItemBody> body;
  std::optional<std::vector<Recipient>> new_participants;
  std::optional<Recipient> from;    // delegate scenarios: who posted on behalf of whom
  std::optional<Recipient> sender;  // defaults (at Graph) to the signed-in user
  std::optional<std::vector<std::string>> categories;
  // Open extensions and attachments are passed through verbatim: each element is one JSON object
  // in its serialized form, already checked to be an object carrying "@odata.type".
  std::optional<std::vector<std::string>> extensions_json;
  std::optional<std::vector<std::string>> attachments_json;
  bool operator==(const Post&) const = default;
};

// The body of POST /groups/{id}/threads.
struct ThreadRequest {
  std::optional<std::string> topic;
  std::optional<std::vector<Post>> posts;
  std::optional<std::vector<Recipient>> to_recipients;
  std::optional<std::vector<Recipient>> cc_recipients;
  std::optional<bool> is_locked;
  bool operator==(const ThreadRequest&) const = default;
};

// What Graph returned for a created thread. Graph's documented 201 example is a placeholder, and
// sibling endpoints return only "@odata.context" and "id", so everything but raw_json may be
// absent.
struct CreatedThread {
  std::string id;  // empty when the response carried none
  std::optional<std::string> topic;
  std::optional<std::string> last_delivered;  // lastDeliveredDateTime, as sent by Graph
  std::optional<std::string> preview;
  std::optional<bool> is_locked;
  std::optional<bool> has_attachments;
  std::vector<std::string> unique_senders;
  // Graph returns these only when $select names them (GRAPH-API.md); nullopt when absent.
  std::optional<std::vector<Recipient>> to_recipients;
  std::optional<std::vector<Recipient>> cc_recipients;
  std::string raw_json;  // the response body exactly as received
};

// One page of GET /groups/{id}/threads: the threads (raw_json = each element as received) and the
// opaque @odata.nextLink ("" on the last page).
struct ThreadPage {
  std::vector<CreatedThread> threads;
  std::string next_link;
};

}  // namespace gt
