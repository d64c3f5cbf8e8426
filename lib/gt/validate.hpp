// gt/validate: one set of rules for a thread request, however it was assembled (flags, --input
// JSON, or both). Runs after flags have been merged over the JSON, right before anything is sent.
#pragma once

#include <vector>

#include "gt/json_codec.hpp"
#include "gt/model.hpp"

namespace gt {

// Returns every rule the request breaks, each with the JSON path of the offending field and a
// message that says what was expected and, for required fields, which flag or JSON property
// provides it. Empty means the request may be sent.
//
// Rules: topic present and not blank; exactly one post; posts[0].body.content present and not
// empty; every recipient (toRecipients, ccRecipients, newParticipants, from, sender) has a valid
// address (gt/address); categories are neither empty nor blank. Only posts[0] is checked beyond
// the count. body.contentType is not required (Graph's default applies when it is omitted).
// Issues come in request order: topic, toRecipients, ccRecipients, posts.
std::vector<JsonIssue> validate_thread_request(const ThreadRequest& request);

}  // namespace gt
