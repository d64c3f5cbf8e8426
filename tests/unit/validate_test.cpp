#include "gt/validate.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

namespace gt {
namespace {

// A request that passes every rule; each case below breaks (or exercises) one of them.
ThreadRequest valid_request() {
  ThreadRequest r;
  r.topic = "Quarterly numbers";
  Post p;
  p.body = ItemBody{BodyType::kText, "Hello"};
  r.posts = std::vector<Post>{p};
  return r;
}

Post& first_post(ThreadRequest& r) {
  return r.posts->front();
}

Recipient recipient(std::string address) {
  return Recipient{{std::move(address), std::nullopt}};
}

std::vector<std::string> lines_of(const std::vector<JsonIssue>& issues) {
  std::vector<std::string> out;
  for (const JsonIssue& i : issues) out.push_back(i.path + ": " + i.message);
  return out;
}

struct Case {
  std::string name;
  std::function<void(ThreadRequest&)> change;
  std::vector<std::string> expected;  // empty: the changed request still passes
};

TEST_CASE("validate_thread_request: each rule, broken and kept") {
  const std::vector<Case> cases = {
      {"the valid request", [](ThreadRequest&) {}, {}},

      // topic
      {"topic missing",
       [](ThreadRequest& r) { r.topic.reset(); },
       {R"(topic: required: give --topic TEXT or "topic" in the --input JSON)"}},
      {"topic empty", [](ThreadRequest& r) { r.topic = ""; }, {"topic: must not be blank"}},
      {"topic blank", [](ThreadRequest& r) { r.topic = " \t\n"; }, {"topic: must not be blank"}},
      {"topic of one character", [](ThreadRequest& r) { r.topic = "x"; }, {}},
      {"topic in Latin-1",
       [](ThreadRequest& r) { r.topic = "Caf\xe9"; },
       {"topic: must be valid UTF-8 (byte 3 is not; re-save the text as UTF-8)"}},
      {"topic in UTF-8", [](ThreadRequest& r) { r.topic = "Caf\xc3\xa9 \xf0\x9f\x9a\x80"; }, {}},
      {"overlong UTF-8",
       [](ThreadRequest& r) { r.topic = "\xc0\xaf"; },
       {"topic: must be valid UTF-8 (byte 0 is not; re-save the text as UTF-8)"}},
      {"UTF-16 surrogate",
       [](ThreadRequest& r) { r.topic = "a\xed\xa0\x80"; },
       {"topic: must be valid UTF-8 (byte 1 is not; re-save the text as UTF-8)"}},
      {"body cut inside a character",
       [](ThreadRequest& r) { first_post(r).body->content = "ok \xe2\x82"; },
       {"posts[0].body.content: must be valid UTF-8 (byte 3 is not; re-save the text as UTF-8)"}},

      // posts
      {"posts missing",
       [](ThreadRequest& r) { r.posts.reset(); },
       {R"(posts: required: give --body TEXT, --body-file FILE or "posts[0].body" in the --input JSON)"}},
      {"posts empty",
       [](ThreadRequest& r) { r.posts->clear(); },
       {R"(posts: required: give --body TEXT, --body-file FILE or "posts[0].body" in the --input JSON)"}},
      {"two posts",
       [](ThreadRequest& r) { r.posts->push_back(r.posts->front()); },
       {"posts: expected exactly one post (Graph creates the thread with its first post), got 2"}},

      // body
      {"body missing",
       [](ThreadRequest& r) { first_post(r).body.reset(); },
       {R"(posts[0].body.content: required: give --body TEXT, --body-file FILE or "posts[0].body.content" in the --input JSON)"}},
      {"content missing",
       [](ThreadRequest& r) { first_post(r).body->content.reset(); },
       {R"(posts[0].body.content: required: give --body TEXT, --body-file FILE or "posts[0].body.content" in the --input JSON)"}},
      {"content empty",
       [](ThreadRequest& r) { first_post(r).body->content = ""; },
       {"posts[0].body.content: must not be empty"}},
      {"content of whitespace is allowed",
       [](ThreadRequest& r) { first_post(r).body->content = " "; },
       {}},
      {"contentType may be left to Graph",
       [](ThreadRequest& r) { first_post(r).body->content_type.reset(); },
       {}},

      // recipients
      {"toRecipients valid",
       [](ThreadRequest& r) {
         r.to_recipients =
             std::vector<Recipient>{recipient("a@b.example"), Recipient{{"c@d.example", "C"}}};
       },
       {}},
      {"toRecipients invalid",
       [](ThreadRequest& r) { r.to_recipients = std::vector<Recipient>{recipient("bob")}; },
       {"toRecipients[0].emailAddress.address: expected an email address like a@b.example "
        "(missing '@')"}},
      {"ccRecipients invalid",
       [](ThreadRequest& r) {
         r.cc_recipients = std::vector<Recipient>{recipient("a@b.example"), recipient("c@d")};
       },
       {"ccRecipients[1].emailAddress.address: expected an email address like a@b.example "
        "(domain without a dot)"}},
      {"address missing",
       [](ThreadRequest& r) { r.cc_recipients = std::vector<Recipient>{recipient("")}; },
       {"ccRecipients[0].emailAddress.address: required: an email address like a@b.example"}},
      {"newParticipants invalid",
       [](ThreadRequest& r) {
         first_post(r).new_participants = std::vector<Recipient>{recipient("a@@b.example")};
       },
       {"posts[0].newParticipants[0].emailAddress.address: expected an email address like "
        "a@b.example (more than one '@')"}},
      {"newParticipants valid",
       [](ThreadRequest& r) {
         first_post(r).new_participants = std::vector<Recipient>{recipient("a@b.example")};
       },
       {}},
      {"from invalid",
       [](ThreadRequest& r) { first_post(r).from = recipient("@b.example"); },
       {"posts[0].from.emailAddress.address: expected an email address like a@b.example "
        "(empty local part)"}},
      {"sender invalid",
       [](ThreadRequest& r) { first_post(r).sender = recipient("a b@c.example"); },
       {"posts[0].sender.emailAddress.address: expected an email address like a@b.example "
        "(whitespace in the address)"}},
      {"from and sender valid",
       [](ThreadRequest& r) {
         first_post(r).from = recipient("a@b.example");
         first_post(r).sender = recipient("c@d.example");
       },
       {}},

      // categories
      {"categories valid",
       [](ThreadRequest& r) {
         first_post(r).categories = std::vector<std::string>{"Red", "B"};
       },
       {}},
      {"category empty",
       [](ThreadRequest& r) {
         first_post(r).categories = std::vector<std::string>{"Red", ""};
       },
       {"posts[0].categories[1]: must not be empty"}},
      {"category blank",
       [](ThreadRequest& r) { first_post(r).categories = std::vector<std::string>{"  "}; },
       {"posts[0].categories[0]: must not be blank"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ThreadRequest r = valid_request();
    c.change(r);
    CHECK(lines_of(validate_thread_request(r)) == c.expected);
  }
}

TEST_CASE("validate_thread_request reports every broken rule, in request order") {
  ThreadRequest r;
  r.topic = " ";
  r.to_recipients = std::vector<Recipient>{recipient("x")};
  Post p;
  p.categories = std::vector<std::string>{""};
  r.posts = std::vector<Post>{p, p};
  CHECK(
      lines_of(validate_thread_request(r)) ==
      std::vector<std::string>{
          "topic: must not be blank",
          "toRecipients[0].emailAddress.address: expected an email address like a@b.example "
          "(missing '@')",
          "posts: expected exactly one post (Graph creates the thread with its first post), got 2",
          R"(posts[0].body.content: required: give --body TEXT, --body-file FILE or "posts[0].body.content" in the --input JSON)",
          "posts[0].categories[0]: must not be empty"});
}

TEST_CASE("validate_thread_request on an empty request names both required fields") {
  CHECK(
      lines_of(validate_thread_request(ThreadRequest{})) ==
      std::vector<std::string>{
          R"(topic: required: give --topic TEXT or "topic" in the --input JSON)",
          R"(posts: required: give --body TEXT, --body-file FILE or "posts[0].body" in the --input JSON)"});
}

}  // namespace
}  // namespace gt
