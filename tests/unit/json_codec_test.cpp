#include "gt/json_codec.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace gt {
namespace {

std::vector<JsonIssue> issues_of(const std::string& json) {
  DecodedThread out;
  return decode_thread_request_issues(json, out);
}

// "path: message" per issue, for comparing whole lists in one CHECK.
std::vector<std::string> lines_of(const std::vector<JsonIssue>& issues) {
  std::vector<std::string> out;
  for (const JsonIssue& i : issues) out.push_back(i.path + ": " + i.message);
  return out;
}

// ---------------------------------------------------------------------------------------------
// decode_thread_request_issues: what is accepted

TEST_CASE("decode reads the documented properties") {
  const std::string json = R"({
    "topic": "Quarterly numbers",
    "toRecipients": [{"emailAddress": {"address": "a@b.example", "name": "Amy"}}],
    "ccRecipients": [],
    "isLocked": false,
    "posts": [{
      "body": {"contentType": "html", "content": "<p>Hi</p>"},
      "newParticipants": [{"emailAddress": {"address": "c@d.example", "name": null}}],
      "from": {"emailAddress": {"address": "boss@b.example"}},
      "sender": {"emailAddress": {"address": "me@b.example"}},
      "categories": ["Red", "Blue"],
      "extensions": [{"@odata.type": "microsoft.graph.openTypeExtension",
                      "extensionName": "Com.Contoso.X", "n": 1}],
      "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt",
                       "contentBytes": "aGk="}]
    }]
  })";
  DecodedThread out;
  const std::vector<JsonIssue> issues = decode_thread_request_issues(json, out);
  CHECK(lines_of(issues).empty());
  const ThreadRequest& r = out.request;
  CHECK(r.topic == "Quarterly numbers");
  REQUIRE(r.to_recipients.has_value());
  CHECK(*r.to_recipients == std::vector<Recipient>{{{"a@b.example", "Amy"}}});
  REQUIRE(r.cc_recipients.has_value());
  CHECK(r.cc_recipients->empty());
  CHECK(r.is_locked == false);
  REQUIRE(r.posts.has_value());
  REQUIRE(r.posts->size() == 1);
  const Post& p = r.posts->front();
  CHECK(p.body == ItemBody{BodyType::kHtml, "<p>Hi</p>"});
  CHECK(*p.new_participants == std::vector<Recipient>{{{"c@d.example", std::nullopt}}});
  CHECK(p.from == Recipient{{"boss@b.example", std::nullopt}});
  CHECK(p.sender == Recipient{{"me@b.example", std::nullopt}});
  CHECK(*p.categories == std::vector<std::string>{"Red", "Blue"});
  CHECK(*p.extensions_json ==
        std::vector<std::string>{R"({"@odata.type":"microsoft.graph.openTypeExtension",)"
                                 R"("extensionName":"Com.Contoso.X","n":1})"});
  CHECK(*p.attachments_json ==
        std::vector<std::string>{R"({"@odata.type":"#microsoft.graph.fileAttachment",)"
                                 R"("name":"a.txt","contentBytes":"aGk="})"});
  CHECK(out.dropped.empty());
}

TEST_CASE("decode matches property names and contentType case-insensitively") {
  DecodedThread out;
  const auto issues = decode_thread_request_issues(
      R"({"Topic":"t","POSTS":[{"Body":{"ContentType":"HTML","content":"c"}}],)"
      R"("ToRecipients":[{"EmailAddress":{"Address":"a@b.example","NAME":"A"}}]})",
      out);
  CHECK(lines_of(issues).empty());
  CHECK(out.request.topic == "t");
  REQUIRE(out.request.posts.has_value());
  CHECK(out.request.posts->at(0).body == ItemBody{BodyType::kHtml, "c"});
  CHECK(*out.request.to_recipients == std::vector<Recipient>{{{"a@b.example", "A"}}});
}

TEST_CASE("decode drops service-computed properties and OData annotations") {
  DecodedThread out;
  const auto issues = decode_thread_request_issues(R"({
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups('g')/threads/$entity",
    "@odata.etag": "W/\"x\"",
    "@odata.type": "#microsoft.graph.conversationThread",
    "id": "AAQk==", "topic": "t", "hasAttachments": false,
    "lastDeliveredDateTime": "2024-01-01T00:00:00Z", "uniqueSenders": ["A"], "preview": "p",
    "posts@odata.navigationLink": "x",
    "posts": [{"@odata.type": "microsoft.graph.post", "id": "p1", "conversationId": "c",
               "conversationThreadId": "t", "receivedDateTime": "r", "createdDateTime": "c",
               "lastModifiedDateTime": "m", "changeKey": "k", "HasAttachments": true,
               "body": {"contentType": "text", "content": "hi"}}]
  })",
                                                   out);
  CHECK(lines_of(issues).empty());
  CHECK(out.dropped ==
        std::vector<std::string>{"@odata.context", "@odata.etag", "@odata.type", "id",
                                 "hasAttachments", "lastDeliveredDateTime", "uniqueSenders",
                                 "preview", "posts@odata.navigationLink", "posts[0].@odata.type",
                                 "posts[0].id", "posts[0].conversationId",
                                 "posts[0].conversationThreadId", "posts[0].receivedDateTime",
                                 "posts[0].createdDateTime", "posts[0].lastModifiedDateTime",
                                 "posts[0].changeKey", "posts[0].HasAttachments"});
  CHECK(out.request.topic == "t");
  CHECK(out.request.posts->at(0).body == ItemBody{BodyType::kText, "hi"});
}

// ---------------------------------------------------------------------------------------------
// decode_thread_request_issues: what is reported

struct IssueCase {
  std::string name;
  std::string json;
  std::vector<std::string> expected;  // "path: message"
};

TEST_CASE("decode reports each problem with its path, what was expected and what was found") {
  const std::vector<IssueCase> cases = {
      {"array at the top", "[]", {": expected a JSON object (a conversationThread), got an array"}},
      {"string at the top",
       R"("x")",
       {R"(: expected a JSON object (a conversationThread), got "x")"}},
      {"topic of the wrong type", R"({"topic": 42})", {"topic: expected a string, got number 42"}},
      {"topic as a double", R"({"topic": 1.5})", {"topic: expected a string, got number 1.5"}},
      {"isLocked null", R"({"isLocked": null})", {"isLocked: expected true or false, got null"}},
      {"isLocked string",
       R"({"isLocked": "yes"})",
       {R"(isLocked: expected true or false, got "yes")"}},
      {"posts not an array",
       R"({"posts": {"body": {}}})",
       {"posts: expected an array of posts, got an object"}},
      {"post not an object",
       R"({"posts": ["hello"]})",
       {R"(posts[0]: expected a post object like {"body": {...}}, got "hello")"}},
      {"body not an object",
       R"({"posts": [{"body": "hello"}]})",
       {R"(posts[0].body: expected an itemBody object like {"contentType": "text", "content": "..."}, got "hello")"}},
      {"contentType near miss",
       R"({"posts": [{"body": {"contentType": "htm", "content": "x"}}]})",
       {R"(posts[0].body.contentType: expected "text" or "html", got "htm" (did you mean "html"?))"}},
      {"contentType far off",
       R"({"posts": [{"body": {"contentType": "markdown"}}]})",
       {R"(posts[0].body.contentType: expected "text" or "html", got "markdown")"}},
      {"contentType not a string",
       R"({"posts": [{"body": {"contentType": 1}}]})",
       {R"(posts[0].body.contentType: expected "text" or "html", got number 1)"}},
      {"content null",
       R"({"posts": [{"body": {"content": null}}]})",
       {"posts[0].body.content: expected a string, got null"}},
      {"unknown post property near miss",
       R"({"posts": [{"bdy": {}}]})",
       {R"(posts[0].bdy: unknown property (did you mean "body"?))"}},
      {"unknown post property",
       R"({"posts": [{"importance": "high"}]})",
       {"posts[0].importance: unknown property; a post accepts body, newParticipants, from, "
        "sender, categories, extensions, attachments"}},
      {"unknown thread property",
       R"({"subject": "x"})",
       {"subject: unknown property; a conversationThread accepts topic, posts, toRecipients, "
        "ccRecipients, isLocked"}},
      {"unknown thread property near miss",
       R"({"topc": "x"})",
       {R"(topc: unknown property (did you mean "topic"?))"}},
      {"recipients not an array",
       R"({"toRecipients": "a@b.example"})",
       {R"(toRecipients: expected an array of recipients, got "a@b.example")"}},
      {"recipient as a string",
       R"({"toRecipients": ["a@b.example"]})",
       {R"(toRecipients[0]: expected a recipient object like {"emailAddress": {"address": "a@b.example"}}, got "a@b.example")"}},
      {"address of the wrong type",
       R"({"toRecipients": [{"emailAddress": {"address": "a@b.example"}},
                            {"emailAddress": {"address": 7}}]})",
       {"toRecipients[1].emailAddress.address: expected a string, got number 7"}},
      {"unknown recipient key",
       R"({"ccRecipients": [{"emailAddress": {"address": "a@b.example"}, "type": "cc"}]})",
       {"ccRecipients[0].type: unknown property; a recipient accepts emailAddress"}},
      {"unknown emailAddress key",
       R"({"ccRecipients": [{"emailAddress": {"adress": "a@b.example"}}]})",
       {R"(ccRecipients[0].emailAddress.adress: unknown property (did you mean "address"?))"}},
      {"emailAddress not an object",
       R"({"posts": [{"from": {"emailAddress": "a@b.example"}}]})",
       {R"(posts[0].from.emailAddress: expected an emailAddress object like {"address": "a@b.example"}, got "a@b.example")"}},
      {"name of the wrong type",
       R"({"posts": [{"sender": {"emailAddress": {"address": "a@b.example", "name": false}}}]})",
       {"posts[0].sender.emailAddress.name: expected a string, got boolean false"}},
      {"category not a string",
       R"({"posts": [{"categories": ["ok", 3]}]})",
       {"posts[0].categories[1]: expected a string, got number 3"}},
      {"categories not an array",
       R"({"posts": [{"categories": "Red"}]})",
       {R"(posts[0].categories: expected an array of strings, got "Red")"}},
      {"extension without @odata.type",
       R"({"posts": [{"extensions": [{"extensionName": "x"}]}]})",
       {R"(posts[0].extensions[0]: missing "@odata.type" (e.g. "#microsoft.graph.openTypeExtension"))"}},
      {"attachment not an object",
       R"({"posts": [{"attachments": [1]}]})",
       {R"(posts[0].attachments[0]: expected an object with "@odata.type", got number 1)"}},
      {"attachment @odata.type not a string",
       R"({"posts": [{"attachments": [{"@odata.type": null}]}]})",
       {"posts[0].attachments[0].@odata.type: expected a string, got null"}},
      {"wrong @odata.type on the thread",
       R"({"@odata.type": "#microsoft.graph.conversation"})",
       {R"(@odata.type: expected "#microsoft.graph.conversationThread", got "#microsoft.graph.conversation")"}},
      {"wrong @odata.type on a post",
       R"({"posts": [{"@odata.type": 1}]})",
       {R"(posts[0].@odata.type: expected "#microsoft.graph.post", got number 1)"}},
      {"duplicate property, same case",
       R"({"topic": "a", "topic": "b"})",
       {"topic: duplicate property"}},
      {"duplicate property, other case",
       R"({"topic": "a", "Topic": "b"})",
       {"Topic: duplicate property"}},
      {"nested duplicate",
       R"({"posts": [{}, {"body": {"content": "a", "CONTENT": "b"}}]})",
       {"posts[1].body.CONTENT: duplicate property"}},
      {"long string is shortened in the message",
       R"({"topic": ["x"], "isLocked": ")" + std::string(100, 'y') + R"("})",
       {"topic: expected a string, got an array",
        "isLocked: expected true or false, got \"" + std::string(60, 'y') + "…\""}},
      {"every problem, not just the first",
       R"({"topic": 1, "isLocked": "no", "posts": [{"body": {"contentType": "txt"}, "x": 1}]})",
       {"topic: expected a string, got number 1", R"(isLocked: expected true or false, got "no")",
        R"(posts[0].body.contentType: expected "text" or "html", got "txt" (did you mean "text"?))",
        "posts[0].x: unknown property; a post accepts body, newParticipants, from, sender, "
        "categories, extensions, attachments"}},
  };
  for (const IssueCase& c : cases) {
    CAPTURE(c.name);
    CHECK(lines_of(issues_of(c.json)) == c.expected);
  }
}

TEST_CASE("decode stops listing after 20 problems and says how many more there were") {
  std::string json = "{";
  for (int i = 0; i < 25; ++i)
    json += (i ? "," : "") + std::string("\"zz") + std::to_string(i) + "\":1";
  json += "}";
  const std::vector<JsonIssue> issues = issues_of(json);
  REQUIRE(issues.size() == 21);
  CHECK(issues[19].path == "zz19");
  CHECK(issues[20].path == "");
  CHECK(issues[20].message == "… and 5 more problems not shown");
}

TEST_CASE("decode names every duplicate property by its own path") {
  // Each case: the issues in the order found (duplicates come first, in document order).
  const std::vector<IssueCase> cases = {
      {"third occurrence too",
       R"({"topic": "a", "topic": "b", "TOPIC": "c"})",
       {"topic: duplicate property", "TOPIC: duplicate property"}},
      {"after a nested object closed",
       R"({"posts": [{"body": {"content": "a"}, "from": {"emailAddress": {"address": "a@b.example"}},)"
       R"( "BODY": {}}]})",
       {"posts[0].BODY: duplicate property"}},
      {"keys of a closed object are not the next one's",
       R"({"posts": [{"body": {"content": "a"}}, {"body": {"content": "b"}}]})",
       {}},
      {"in a later array element, two levels down",
       R"({"toRecipients": [{"emailAddress": {"address": "a@b.example"}},)"
       R"( {"emailAddress": {"address": "b@b.example", "Address": "c@b.example"}}]})",
       {"toRecipients[1].emailAddress.Address: duplicate property"}},
      {"the same key in the parent and the child is no duplicate",
       R"({"posts": [{"body": {"content": "a", "contentType": "text"}}], "Posts2": 1})",
       {"Posts2: unknown property (did you mean \"posts\"?)"}},
      {"escaped spelling of the same key",
       R"({"top\u0069c": "a", "topic": "b"})",
       {"topic: duplicate property"}},
      {"inside an array at the top",
       R"([{"a": 1, "A": 2}])",
       {"[0].A: duplicate property",
        ": expected a JSON object (a conversationThread), got an array"}},
      {"under an empty key",
       R"({"": {"x": 1, "X": 2}})",
       {".X: duplicate property",
        ": unknown property; a conversationThread accepts topic, posts, toRecipients, "
        "ccRecipients, isLocked"}},
  };
  for (const IssueCase& c : cases) {
    CAPTURE(c.name);
    CHECK(lines_of(issues_of(c.json)) == c.expected);
  }
}

TEST_CASE("decode finds duplicates among many keys of one object") {
  // An extension passes its own keys through, so only the duplicates are issues.
  std::string extension = R"({"@odata.type": "#microsoft.graph.openTypeExtension")";
  for (int i = 0; i < 100; ++i) extension += ",\"k" + std::to_string(i) + "\": 1";
  extension += R"(, "K7": 2, "k99": 3, "k100": 4, "K100": 5})";
  const std::string json = R"({"posts": [{"extensions": [)" + extension + "]}]}";
  CHECK(lines_of(issues_of(json)) ==
        std::vector<std::string>{"posts[0].extensions[0].K7: duplicate property",
                                 "posts[0].extensions[0].k99: duplicate property",
                                 "posts[0].extensions[0].K100: duplicate property"});
  // The same decoder, run again, starts from nothing.
  CHECK(lines_of(issues_of(R"({"topic": "a"})")).empty());
}

struct SyntaxCase {
  std::string json;
  std::string message;
};

TEST_CASE("decode reports syntax errors with line and column") {
  const std::vector<SyntaxCase> cases = {
      {"", "line 1, column 1: unexpected end of input"},
      {"   \n  ", "line 2, column 3: unexpected end of input"},
      {R"({"topic": "a",})", "line 1, column 15: syntax error at '}'"},
      {"{\n  \"topic\": \"a\"\n  \"posts\": []\n}", "line 3, column 3: syntax error at '\"'"},
      {"{\"topic\": \"é\",}", "line 1, column 15: syntax error at '}'"},
      {"{} x", "line 1, column 4: unexpected text after the JSON value"},
      {"{'topic': 1}", "line 1, column 2: syntax error at '''"},
      {"{\"topic\": \"a\nb\"}",
       "line 1, column 13: syntax error: raw line break or tab (inside a string write \\n or \\t)"},
      {"{\"posts\": [", "line 1, column 12: unexpected end of input"},
  };
  for (const SyntaxCase& c : cases) {
    CAPTURE(c.json);
    CHECK(lines_of(issues_of(c.json)) == std::vector<std::string>{": " + c.message});
  }
}

// ---------------------------------------------------------------------------------------------
// decode_plain_thread_request: the fast path agrees with decode_thread_request_issues

struct PlainCase {
  std::string json;
  bool plain;  // whether the fast path takes it (otherwise the caller decodes the long way)
};

TEST_CASE("decode_plain_thread_request decodes exactly what decode_thread_request_issues does") {
  const std::string big(70000, 'x');  // longer than any one buffer a parser might use
  const std::vector<PlainCase> cases = {
      // Taken: canonical names, right types, nothing dropped.
      {"{}", true},
      {R"({"topic":"t","posts":[{"body":{"contentType":"text","content":"c"}}]})", true},
      {R"( {"posts":[{"body":{"content":"only content"}}],"topic":"after posts"}
)",
       true},
      {R"({"topic": "Quarterly numbers",
           "toRecipients": [{"emailAddress": {"address": "a@b.example", "name": "Amy"}}],
           "ccRecipients": [],
           "isLocked": false,
           "posts": [{"body": {"contentType": "HTML", "content": "<p>Hi</p>"},
                      "newParticipants": [{"emailAddress": {"name": "Bo", "address": "b@c.d"}}],
                      "from": {"emailAddress": {"address": "f@c.d"}},
                      "sender": {"emailAddress": {"address": "s@c.d", "name": null}},
                      "categories": ["a", "", "c\u00e9"]},
                     {"body": {}}, {}]})",
       true},
      {R"({"isLocked":true,"toRecipients":[{},{"emailAddress":{}}],"posts":[]})", true},
      {R"({"topic":"esc \"q\" \\ \/ \b\f\n\r\t \u0001 \u00e9 \ud83d\ude00 é 😀"})", true},
      {R"({"top\u0069c":"key with an escape","posts":[{"b\u006fdy":{"content":"\u0041"}}]})", true},
      {"{\"topic\":\"" + big + "\",\"posts\":[{\"body\":{\"content\":\"" + big + "\\n\"}}]}", true},
      {R"({"posts":[{"body":{"contentType":"Text"}},{"body":{"contentType":"hTmL"}}]})", true},
      // Left to the long way: other spellings, dropped properties, pass-through objects ...
      {R"({"Topic":"t"})", false},
      {R"({"posts":[{"Body":{"content":"c"}}]})", false},
      {R"({"topic":"t","id":"AAQk"})", false},
      {R"({"@odata.context":"x","topic":"t"})", false},
      {R"({"posts":[{"@odata.type":"#microsoft.graph.post","body":{}}]})", false},
      {R"({"posts":[{"receivedDateTime":"2024-01-01T00:00:00Z"}]})", false},
      {R"({"posts":[{"extensions":[{"@odata.type":"#microsoft.graph.openTypeExtension"}]}]})",
       false},
      {R"({"posts":[{"attachments":[]}]})", false},
      // ... duplicates, in any case and at any depth ...
      {R"({"topic":"a","topic":"b"})", false},
      {R"({"topic":"a","Topic":"b"})", false},
      {R"({"posts":[{"body":{"content":"a","content":"b"}}]})", false},
      {R"({"toRecipients":[{"emailAddress":{"address":"a@b.c","address":"d@e.f"}}]})", false},
      {R"({"posts":[],"posts":[]})", false},
      // ... wrong types ...
      {R"({"topic":1})", false},
      {R"({"topic":null})", false},
      {R"({"topic":["a"]})", false},
      {R"({"isLocked":"true"})", false},
      {R"({"isLocked":0})", false},
      {R"({"posts":{}})", false},
      {R"({"posts":["p"]})", false},
      {R"({"posts":[[]]})", false},
      {R"({"posts":[null]})", false},
      {R"({"posts":[{"body":"text"}]})", false},
      {R"({"posts":[{"body":{"contentType":"htm"}}]})", false},
      {R"({"posts":[{"body":{"contentType":null}}]})", false},
      {R"({"posts":[{"body":{"content":1.5}}]})", false},
      {R"({"posts":[{"categories":["a",1]}]})", false},
      {R"({"posts":[{"categories":[{}]}]})", false},
      {R"({"posts":[{"from":[]}]})", false},
      {R"({"toRecipients":{}})", false},
      {R"({"toRecipients":["a@b.c"]})", false},
      {R"({"toRecipients":[{"emailAddress":"a@b.c"}]})", false},
      {R"({"toRecipients":[{"emailAddress":null}]})", false},
      {R"({"toRecipients":[{"emailAddress":{"address":null}}]})", false},
      {R"({"toRecipients":[{"emailAddress":{"name":7}}]})", false},
      // ... unknown properties, envelopes, deep nesting ...
      {R"({"topik":"t"})", false},
      {R"({"posts":[{"body":{"content":"c","extra":{}}}]})", false},
      {R"({"group":"g","thread":{"topic":"t"}})", false},
      {R"({"thread":{"topic":"t"},"group":"g"})", false},
      {R"({"posts":[{"body":{"content":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}]})",
       false},
      {std::string(40, '[') + std::string(40, ']'), false},
      // ... and what is not one JSON object.
      {"", false},
      {"   ", false},
      {"[]", false},
      {"\"topic\"", false},
      {"null", false},
      {"42", false},
      {"{} {}", false},
      {"{} x", false},
      {R"({"topic":"a",})", false},
      {"{\"topic\":\"a\nb\"}", false},
      {"{\"topic\":\"\xff\"}", false},
      {R"({"topic":"unterminated)", false},
      {R"({"posts":[)", false},
      {"{/* a comment */}", false},
  };
  for (const PlainCase& c : cases) {
    CAPTURE(c.json.substr(0, 120));
    ThreadRequest fast;
    const bool plain = decode_plain_thread_request(c.json, fast);
    CHECK(plain == c.plain);
    DecodedThread slow;
    const std::vector<JsonIssue> issues = decode_thread_request_issues(c.json, slow);
    if (plain) {
      CHECK(issues.empty());
      CHECK(slow.dropped.empty());
      CHECK(fast == slow.request);
      CHECK(encode_thread_request(fast) == encode_thread_request(slow.request));
    }
  }
}

TEST_CASE("decode_plain_thread_request fills every field it reads") {
  ThreadRequest t;
  REQUIRE(decode_plain_thread_request(
      R"({"topic":"T","isLocked":true,"ccRecipients":[{"emailAddress":{"address":"c@d.e"}}],
          "posts":[{"body":{"contentType":"html","content":"<b>x</b>"},
                    "newParticipants":[{"emailAddress":{"address":"n@d.e","name":"N"}}],
                    "from":{"emailAddress":{"address":"f@d.e"}},"categories":["k"]}]})",
      t));
  CHECK(t.topic == "T");
  CHECK(t.is_locked == true);
  CHECK_FALSE(t.to_recipients.has_value());
  REQUIRE(t.cc_recipients.has_value());
  CHECK(*t.cc_recipients == std::vector<Recipient>{{{"c@d.e", std::nullopt}}});
  REQUIRE(t.posts.has_value());
  REQUIRE(t.posts->size() == 1);
  const Post& p = t.posts->front();
  CHECK(p.body == ItemBody{BodyType::kHtml, "<b>x</b>"});
  CHECK(*p.new_participants == std::vector<Recipient>{{{"n@d.e", "N"}}});
  CHECK(p.from == Recipient{{"f@d.e", std::nullopt}});
  CHECK_FALSE(p.sender.has_value());
  CHECK(*p.categories == std::vector<std::string>{"k"});
}

TEST_CASE("decode_thread_request wraps the issues in a usage error") {
  SUBCASE("valid") {
    const Result<DecodedThread> r = decode_thread_request(R"({"topic":"t","id":"x"})", "stdin");
    REQUIRE(r.ok());
    CHECK(r->request.topic == "t");
    CHECK(r->dropped == std::vector<std::string>{"id"});
  }
  SUBCASE("one issue") {
    const Result<DecodedThread> r = decode_thread_request(R"({"topic":42})", "--input t.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message == "--input t.json: topic: expected a string, got number 42");
  }
  SUBCASE("a syntax error") {
    const Result<DecodedThread> r = decode_thread_request("{", "stdin");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "stdin: line 1, column 2: unexpected end of input");
  }
  SUBCASE("several issues") {
    const Result<DecodedThread> r =
        decode_thread_request(R"({"topic":42,"isLocked":1})", "--input t.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message ==
          "invalid thread in --input t.json:\n"
          "  topic: expected a string, got number 42\n"
          "  isLocked: expected true or false, got number 1");
  }
}

TEST_CASE("format_issues renders one line per issue") {
  const std::vector<JsonIssue> issues = {{"topic", "must not be blank"}, {"", "whole document"}};
  CHECK(format_issues(issues) == "  topic: must not be blank\n  whole document");
  CHECK(format_issues(issues, "- ") == "- topic: must not be blank\n- whole document");
  CHECK(format_issues({}) == "");
}

// ---------------------------------------------------------------------------------------------
// encode_thread_request

Post post_with(ItemBody body) {
  Post p;
  p.body = std::move(body);
  return p;
}

ThreadRequest full_request() {
  ThreadRequest r;
  r.topic = "Q3 \"numbers\"";
  r.to_recipients = std::vector<Recipient>{{{"a@b.example", "Amy"}}};
  r.cc_recipients = std::vector<Recipient>{{{"c@b.example", std::nullopt}}};
  r.is_locked = true;
  Post p;
  p.body = ItemBody{BodyType::kHtml, "<p>é\n</p>"};
  p.new_participants = std::vector<Recipient>{};
  p.from = Recipient{{"boss@b.example", "Boss"}};
  p.sender = Recipient{{"me@b.example", std::nullopt}};
  p.categories = std::vector<std::string>{"Red"};
  p.extensions_json =
      std::vector<std::string>{R"({"@odata.type":"microsoft.graph.openTypeExtension","n":1})"};
  p.attachments_json =
      std::vector<std::string>{R"({"@odata.type":"#microsoft.graph.fileAttachment"})"};
  r.posts = std::vector<Post>{p};
  return r;
}

TEST_CASE("encode writes set fields only, in Graph's documented order") {
  CHECK(encode_thread_request(ThreadRequest{}) == "{}");

  ThreadRequest minimal;
  minimal.topic = "t";
  minimal.posts = std::vector<Post>{post_with(ItemBody{BodyType::kText, "hi"})};
  CHECK(encode_thread_request(minimal) ==
        R"({"topic":"t","posts":[{"body":{"contentType":"text","content":"hi"}}]})");

  CHECK(encode_thread_request(full_request()) ==
        R"({"topic":"Q3 \"numbers\"",)"
        R"("toRecipients":[{"emailAddress":{"name":"Amy","address":"a@b.example"}}],)"
        R"("ccRecipients":[{"emailAddress":{"address":"c@b.example"}}],)"
        R"("isLocked":true,)"
        R"("posts":[{"body":{"contentType":"html","content":"<p>é\n</p>"},)"
        R"("newParticipants":[],)"
        R"("from":{"emailAddress":{"name":"Boss","address":"boss@b.example"}},)"
        R"("sender":{"emailAddress":{"address":"me@b.example"}},)"
        R"("categories":["Red"],)"
        R"("extensions":[{"@odata.type":"microsoft.graph.openTypeExtension","n":1}],)"
        R"("attachments":[{"@odata.type":"#microsoft.graph.fileAttachment"}]}]})");
}

TEST_CASE("encode escapes strings exactly as json_quote does") {
  std::string every_byte;
  for (int c = 0; c < 0x80; ++c) every_byte += static_cast<char>(c);
  every_byte += "é\xc2\x85€";
  ThreadRequest r;
  r.topic = every_byte;
  r.posts = std::vector<Post>{post_with(ItemBody{BodyType::kText, every_byte + "\\\""})};
  CHECK(encode_thread_request(r) == R"({"topic":)" + json_quote(every_byte) +
                                        R"(,"posts":[{"body":{"contentType":"text","content":)" +
                                        json_quote(every_byte + "\\\"") + "}}]}");
}

TEST_CASE("encode_reply_request wraps the post") {
  Post p = post_with(ItemBody{BodyType::kText, "hi"});
  p.categories = std::vector<std::string>{};
  CHECK(encode_reply_request(p) ==
        R"({"post":{"body":{"contentType":"text","content":"hi"},"categories":[]}})");
  CHECK(encode_reply_request(Post{}) == R"({"post":{}})");
}

TEST_CASE("encode then decode gives the request back") {
  std::vector<ThreadRequest> cases = {ThreadRequest{}, full_request()};
  ThreadRequest empties;
  empties.to_recipients = std::vector<Recipient>{};
  empties.posts = std::vector<Post>{Post{}, post_with(ItemBody{std::nullopt, ""})};
  cases.push_back(empties);
  for (const ThreadRequest& r : cases) {
    const std::string json = encode_thread_request(r);
    CAPTURE(json);
    DecodedThread back;
    CHECK(lines_of(decode_thread_request_issues(json, back)).empty());
    CHECK(back.request == r);
    CHECK(encode_thread_request(back.request) == json);
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST_CASE("decode_created_thread reads what Graph returned") {
  const std::string body = R"({"@odata.context":"x","id":"AAQk==","topic":"T",)"
                           R"("lastDeliveredDateTime":"2024-05-01T10:00:00Z","preview":"P",)"
                           R"("isLocked":false,"hasAttachments":true,"uniqueSenders":["A",1,"B"]})"
                           "\n";
  const Result<CreatedThread> r = decode_created_thread(body);
  REQUIRE(r.ok());
  CHECK(r->id == "AAQk==");
  CHECK(r->topic == "T");
  CHECK(r->last_delivered == "2024-05-01T10:00:00Z");
  CHECK(r->preview == "P");
  CHECK(r->is_locked == false);
  CHECK(r->has_attachments == true);
  CHECK(r->unique_senders == std::vector<std::string>{"A", "B"});
  CHECK(r->raw_json == body);
}

TEST_CASE("decode_created_thread accepts a sparse body and ignores wrong types") {
  const Result<CreatedThread> r =
      decode_created_thread(R"({"id":5,"topic":null,"isLocked":"no","uniqueSenders":"A"})");
  REQUIRE(r.ok());
  CHECK(r->id == "");
  CHECK_FALSE(r->topic.has_value());
  CHECK_FALSE(r->is_locked.has_value());
  CHECK(r->unique_senders.empty());
  CHECK(decode_created_thread("{}")->raw_json == "{}");
}

TEST_CASE("decode_created_thread rejects a body that is not a JSON object") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "Graph answered with an empty body instead of the created thread"},
      {"[1]", "Graph answered with something other than a JSON object: [1]"},
      {"<html>\n<b>\x1b[31mBad gateway</b>",
       "Graph answered with something other than a JSON object: <html> <b>[31mBad gateway</b>"},
      {std::string(300, 'x'),
       "Graph answered with something other than a JSON object: " + std::string(200, 'x') + "…"},
      {std::string(199, 'x') + "é" + "yyy",
       "Graph answered with something other than a JSON object: " + std::string(199, 'x') + "é…"},
  };
  for (const auto& [body, message] : cases) {
    CAPTURE(body);
    const Result<CreatedThread> r = decode_created_thread(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kGraph);
    CHECK(r.error().message == message);
  }
}

TEST_CASE("decode_created_thread_id finds the id decode_created_thread finds") {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"@odata.context":"x","id":"AAQk==","topic":"T","uniqueSenders":["A"]})", "AAQk=="},
      {" {\"id\" : \"a\\\"b\\u00e9\\/c\"}\n", "a\"b\xC3\xA9/c"},  // escapes decoded
      {R"({"ID":"upper"})", "upper"},                             // any case, as find_ci
      {R"({"\u0069d":"escaped key"})", "escaped key"},
      {R"({"id":"first","id":"last"})", "last"},  // a duplicate: the last value
      {R"({"Id":"a","id":"b","Id":"c"})", "c"},   // the first key, its last value
      {R"({"Id":5,"id":"b"})", ""},               // the first key is not a string
      {R"({"id":"a","id":null})", ""},
      {R"({"id":{"id":"nested"}})", ""},
      {R"({"x":{"id":"nested"},"y":["id","z"]})", ""},
      {R"({"x":[{"id":"n"}],"id":"top"})", "top"},
      {R"({"id":""})", ""},
      {R"({"id":"a"} x)", ""},  // trailing bytes: not JSON
      {R"({"id":"a",})", ""},   // trailing comma
      {R"({"id":"a"/*c*/})", ""},
      {"{\"id\":\"a\",\"t\":\"\xFF\"}", ""},      // invalid UTF-8 elsewhere
      {"{\"id\":\"a\",\"d\":" + deep + "}", ""},  // deeper than json::parse allows
      {R"(["id","a"])", ""},
      {R"("id")", ""},
      {"5", ""},
      {"", ""},
      {"{}", ""},
  };
  for (const auto& [body, id] : cases) {
    CAPTURE(body);
    const Result<CreatedThread> full = decode_created_thread(body);
    CHECK((full ? full->id : std::string()) == id);
    CHECK(decode_created_thread_id(body) == id);
  }
}

TEST_CASE("decode_graph_error reads Graph's error envelope") {
  SUBCASE("as Graph sends it") {
    const auto e =
        decode_graph_error(R"({"error":{"code":"ErrorAccessDenied","message":"Access is denied.",)"
                           R"("innerError":{"date":"2024-05-01T10:00:00","request-id":"r1",)"
                           R"("client-request-id":"c1","code":"nested"}}})");
    REQUIRE(e.has_value());
    CHECK(e->code == "ErrorAccessDenied");
    CHECK(e->message == "Access is denied.");
    CHECK(e->request_id == "r1");
    CHECK(e->client_request_id == "c1");
    CHECK(e->date == "2024-05-01T10:00:00");
  }
  SUBCASE("as the docs spell it, any case") {
    const auto e = decode_graph_error(
        R"({"Error":{"Code":"itemNotFound","MESSAGE":"m","innererror":{"Request-Id":"r2"}}})");
    REQUIRE(e.has_value());
    CHECK(e->code == "itemNotFound");
    CHECK(e->message == "m");
    CHECK(e->request_id == "r2");
    CHECK(e->client_request_id == "");
  }
  SUBCASE("an error object without details") {
    const auto e = decode_graph_error(R"({"error":{}})");
    REQUIRE(e.has_value());
    CHECK(e->code == "");
  }
  SUBCASE("not that shape") {
    for (const std::string body :
         {"", "not json", "[]", "{}", R"({"error":"invalid_grant"})", R"({"code":"x"})"}) {
      CAPTURE(body);
      CHECK_FALSE(decode_graph_error(body).has_value());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

TEST_CASE("pretty_json re-indents with two spaces and keeps everything else") {
  CHECK(pretty_json(R"({"b":1,"a":[1,2.50,{}],"c":{"d":[]},"e":"x\"y\\u00e9\n","f":null})") ==
        "{\n"
        "  \"b\": 1,\n"
        "  \"a\": [\n"
        "    1,\n"
        "    2.50,\n"
        "    {}\n"
        "  ],\n"
        "  \"c\": {\n"
        "    \"d\": []\n"
        "  },\n"
        "  \"e\": \"x\\\"y\\\\u00e9\\n\",\n"
        "  \"f\": null\n"
        "}");
  CHECK(pretty_json(" [ ] ") == "[]");
  CHECK(pretty_json("\"a:b,{c}\"") == "\"a:b,{c}\"");
  CHECK(pretty_json("{\"k\":\"é\"}") == "{\n  \"k\": \"é\"\n}");
}

TEST_CASE("pretty_json escapes DEL and C1 control characters inside strings") {
  CHECK(pretty_json("[\"a\x7f\xc2\x9b"
                    "b\"]") == "[\n  \"a\\u007f\\u009bb\"\n]");
}

TEST_CASE("pretty_json returns what does not parse unchanged") {
  for (const std::string text : {"", "{", "<html>", "{\"a\":1,}", "{} {}"}) {
    CAPTURE(text);
    CHECK(pretty_json(text) == text);
  }
}

TEST_CASE("json_quote writes a JSON string literal") {
  CHECK(json_quote("") == R"("")");
  CHECK(json_quote("plain") == R"("plain")");
  CHECK(json_quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_quote("line\nbreak\ttab") == R"("line\nbreak\ttab")");
  CHECK(json_quote(std::string("nul\0esc\x1b", 8)) == R"("nul\u0000esc\u001b")");
  CHECK(json_quote("é") == "\"é\"");
}

struct SuggestCase {
  std::string word;
  std::vector<std::string_view> candidates;
  std::string expected;
};

TEST_CASE("did_you_mean suggests close candidates only") {
  const std::vector<std::string_view> post = {"body", "newParticipants", "from", "sender",
                                              "categories"};
  const std::vector<SuggestCase> cases = {
      {"bdy", post, "body"},
      {"BODY", post, "body"},
      {"bodyy", post, "body"},
      {"sendr", post, "sender"},
      {"newparticipant", post, "newParticipants"},
      {"categorys", post, "categories"},
      {"fromm", post, "from"},
      {"importance", post, ""},
      {"to", post, ""},
      {"x", post, ""},
      {"", post, ""},
      {"htm", {"text", "html"}, "html"},
      {"tex", {"text", "html"}, "text"},
      {"txt", {"text", "html"}, "text"},
      {"ab", {"ax", "ay"}, "ax"},        // tie: the first candidate
      {"v1", {"v1.0", "beta"}, "v1.0"},  // a truncated word
      {"newPart", post, "newParticipants"},
      {"anything", {}, ""},
  };
  for (const SuggestCase& c : cases) {
    CAPTURE(c.word);
    CHECK(did_you_mean(c.word, c.candidates) == c.expected);
  }
}

}  // namespace
}  // namespace gt

namespace gt {
namespace {

TEST_CASE("decode_thread_page reads value[] and the next link") {
  auto page = decode_thread_page(
      R"({"@odata.context":"c","value":[{"id":"a","topic":"A","isLocked":true},{"id":"b"}],"@odata.nextLink":"https://h/v1.0/x?$skiptoken=1"})");
  REQUIRE(page);
  REQUIRE(page->threads.size() == 2);
  CHECK(page->threads[0].id == "a");
  CHECK(page->threads[0].topic == "A");
  CHECK(page->threads[0].is_locked == true);
  CHECK(page->threads[0].raw_json == R"({"id":"a","topic":"A","isLocked":true})");
  CHECK(page->threads[1].raw_json == R"({"id":"b"})");
  CHECK(page->next_link == "https://h/v1.0/x?$skiptoken=1");

  auto last = decode_thread_page(R"({"value":[]})");
  REQUIRE(last);
  CHECK(last->threads.empty());
  CHECK(last->next_link.empty());
}

TEST_CASE("decode_thread_page refuses what is not a page") {
  for (const char* body : {"", "[]", R"({"id":"x"})", R"({"value":{}})", R"({"value":[1]})"}) {
    CAPTURE(body);
    auto page = decode_thread_page(body);
    REQUIRE_FALSE(page);
    CHECK(page.error().kind == ErrorKind::kGraph);
    CHECK(page.error().message.find("a page of") != std::string::npos);
  }
}

}  // namespace
}  // namespace gt
