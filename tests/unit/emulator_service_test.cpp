// The emulator's Graph behaviour as a pure function (GraphService::handle), its kStatus answers
// and the FaultPlan's ordering. No sockets.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulator/faults.hpp"
#include "emulator/graph_service.hpp"
#include "gt/http.hpp"
#include "gt/json_codec.hpp"
#include "gt/uuid.hpp"

namespace {

using gt::HttpRequest;
using gt::HttpResponse;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::emulator::FaultPlan;
using gt::emulator::GraphService;
using gt::emulator::ServiceOptions;

constexpr const char* kGroup = "8b8a9c1e-1111-4222-8333-944455556666";
constexpr const char* kThreadsPath = "/v1.0/groups/8b8a9c1e-1111-4222-8333-944455556666/threads";
constexpr const char* kMinimalBody =
    R"({"topic":"Quarterly numbers","posts":[{"body":{"contentType":"text","content":"Hi all"}}]})";

HttpRequest post(std::string target = kThreadsPath, std::string body = kMinimalBody) {
  HttpRequest r;
  r.method = "POST";
  r.scheme = "https";
  r.host = "127.0.0.1";
  r.port = 8443;
  r.target = std::move(target);
  r.headers = {{"Host", "127.0.0.1:8443"},
               {"Authorization", "Bearer test-token"},
               {"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

HttpRequest with_header(HttpRequest r, const std::string& name, const std::string& value) {
  std::erase_if(r.headers, [&](const gt::Header& h) { return h.name == name; });
  r.headers.push_back({name, value});
  return r;
}

HttpRequest without_header(HttpRequest r, const std::string& name) {
  std::erase_if(r.headers, [&](const gt::Header& h) { return h.name == name; });
  return r;
}

HttpRequest with_post_json(const std::string& post_json) {
  return post(kThreadsPath, R"({"topic":"T","posts":[)" + post_json + "]}");
}

gt::CreatedThread created(const HttpResponse& r) {
  auto thread = gt::decode_created_thread(r.body);
  REQUIRE(thread.ok());
  return *thread;
}

// Checks Graph's error envelope and that its ids agree with the headers.
void check_envelope(const HttpResponse& r, const std::string& code) {
  CHECK(r.header("Content-Type") == "application/json");
  const auto error = gt::decode_graph_error(r.body);
  REQUIRE(error.has_value());
  CHECK(error->code == code);
  CHECK_FALSE(error->message.empty());
  CHECK(gt::looks_like_guid(std::string(r.header("request-id"))));
  CHECK(error->request_id == r.header("request-id"));
  CHECK(error->client_request_id == r.header("client-request-id"));
  CHECK(std::regex_match(error->date, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")));
  CHECK(r.body.find("\"innerError\"") != std::string::npos);
}

}  // namespace

TEST_SUITE("emulator: GraphService") {
  TEST_CASE("a valid create answers 201 with Graph's headers") {
    GraphService service({});
    const HttpResponse r = service.handle(with_header(post(), "client-request-id", "my-id-1"));
    REQUIRE(r.status == 201);
    CHECK(r.reason == "Created");
    CHECK(r.header("Content-Type") ==
          "application/json; odata.metadata=minimal; odata.streaming=true; "
          "IEEE754Compatible=false; charset=utf-8");
    CHECK(gt::looks_like_guid(std::string(r.header("request-id"))));
    CHECK(r.header("client-request-id") == "my-id-1");
    CHECK(std::regex_match(
        std::string(r.header("Date")),
        std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")));
    const std::string id = created(r).id;
    std::string encoded;
    for (char c : id) {
      encoded += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
    }
    CHECK(r.header("Location") == "https://127.0.0.1:8443/v1.0/groups('" + std::string(kGroup) +
                                      "')/threads('" + encoded + "')");
  }

  TEST_CASE("the 201 body has Graph's keys in Graph's order") {
    GraphService service({});
    const HttpResponse r = service.handle(post());
    const std::vector<std::string> keys = {"\"@odata.context\":",
                                           "\"id\":",
                                           "\"topic\":",
                                           "\"hasAttachments\":",
                                           "\"lastDeliveredDateTime\":",
                                           "\"uniqueSenders\":",
                                           "\"preview\":",
                                           "\"isLocked\":"};
    std::size_t last = 0;
    for (const auto& key : keys) {
      const std::size_t at = r.body.find(key);
      INFO(key);
      REQUIRE(at != std::string::npos);
      CHECK(at >= last);
      last = at;
    }
    CHECK(r.body.find("\"@odata.context\":\"https://127.0.0.1:8443/v1.0/$metadata#groups('" +
                      std::string(kGroup) + "')/threads/$entity\"") != std::string::npos);
    const auto thread = created(r);
    CHECK(thread.topic == "Quarterly numbers");
    CHECK(thread.has_attachments == false);
    CHECK(thread.is_locked == false);
    CHECK(thread.preview == "Hi all");
    CHECK(thread.unique_senders == std::vector<std::string>{"Emulator User"});
    REQUIRE(thread.last_delivered.has_value());
    CHECK(
        std::regex_match(*thread.last_delivered, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  }

  TEST_CASE("ids look like Graph's: base64 with padding, unique") {
    GraphService service({});
    std::set<std::string> ids;
    bool saw_plus_or_slash = false;
    for (int i = 0; i < 50; ++i) {
      const std::string id = created(service.handle(post())).id;
      CHECK(id.size() == 68);
      CHECK(id.starts_with("AAQk"));
      CHECK(id.ends_with("=="));
      CHECK(id.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
            std::string::npos);
      saw_plus_or_slash |= id.find_first_of("+/") != std::string::npos;
      ids.insert(id);
    }
    CHECK(ids.size() == 50);
    CHECK(saw_plus_or_slash);  // 50 ids without either: odds below 1e-60
  }

  TEST_CASE("client-request-id falls back to the request-id") {
    GraphService service({});
    const HttpResponse r = service.handle(post());
    CHECK(r.header("client-request-id") == r.header("request-id"));
  }

  TEST_CASE("created threads are stored in order with what was sent") {
    GraphService service({});
    const auto first = created(service.handle(post()));
    const auto second = created(service.handle(
        post("/beta/groups/8B8A9C1E-1111-4222-8333-944455556666/threads",
             R"({"topic":"Second","isLocked":true,"posts":[{"body":{"content":"x"}}]})")));
    const auto threads = service.threads();
    REQUIRE(threads.size() == 2);
    CHECK(threads[0].id == first.id);
    CHECK(threads[0].group_id == kGroup);
    CHECK(threads[0].json == first.raw_json);
    CHECK(threads[0].request.topic == "Quarterly numbers");
    CHECK(threads[1].id == second.id);
    CHECK(threads[1].group_id == "8B8A9C1E-1111-4222-8333-944455556666");
    CHECK(threads[1].request.is_locked == true);
    CHECK(second.is_locked == true);
    CHECK(second.raw_json.find("/beta/$metadata#groups(") != std::string::npos);
  }

  TEST_CASE("the group id segment is percent-decoded") {
    GraphService service({.accepted_token = {}, .groups = {kGroup}});
    const HttpResponse r =
        service.handle(post("/v1.0/groups/8b8a9c1e%2D1111-4222-8333-944455556666/threads"));
    CHECK(r.status == 201);
    CHECK(service.threads().at(0).group_id == kGroup);
  }

  TEST_CASE("preview is the body as plain text") {
    struct Case {
      std::string post_json;
      std::string preview;
    };
    const std::string long_text(300, 'a');
    const std::vector<Case> cases = {
        {R"({"body":{"contentType":"html","content":"<p>Hello <b>bold</b>ly</p><p>second&amp;more</p>"}})",
         "Hello boldly second&more"},
        {R"({"body":{"contentType":"html","content":"a<br>b<br/>c"}})", "a b c"},
        {R"({"body":{"contentType":"text","content":"  <b>not a tag</b>\n\n\t twice  "}})",
         "<b>not a tag</b> twice"},
        {R"({"body":{"content":")" + long_text + R"("}})", std::string(255, 'a')},
    };
    GraphService service({});
    for (const auto& c : cases) {
      INFO(c.post_json);
      CHECK(created(service.handle(with_post_json(c.post_json))).preview == c.preview);
    }
  }

  TEST_CASE("preview is cut at 255 characters, not in the middle of one") {
    std::string content;
    for (int i = 0; i < 300; ++i) content += "\xC3\xA9";  // é
    GraphService service({});
    const auto preview =
        created(service.handle(with_post_json(R"({"body":{"content":")" + content + R"("}})")))
            .preview;
    REQUIRE(preview.has_value());
    CHECK(preview->size() == 255 * 2);
  }

  TEST_CASE("uniqueSenders names the sender, else from, else a default") {
    struct Case {
      std::string post_json;
      std::string sender;
    };
    const std::string body = R"("body":{"content":"x"})";
    const std::vector<Case> cases = {
        {"{" + body + R"(,"sender":{"emailAddress":{"name":"Ann","address":"ann@example.com"}}})",
         "Ann"},
        {"{" + body + R"(,"from":{"emailAddress":{"address":"bob@example.com"}}})",
         "bob@example.com"},
        {"{" + body + "}", "Emulator User"},
    };
    GraphService service({});
    for (const auto& c : cases) {
      INFO(c.post_json);
      CHECK(created(service.handle(with_post_json(c.post_json))).unique_senders ==
            std::vector<std::string>{c.sender});
    }
  }

  TEST_CASE("hasAttachments follows the post's attachments") {
    GraphService service({});
    const auto thread = created(service.handle(with_post_json(
        R"({"body":{"content":"x"},"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"a.txt","contentBytes":"aGk="}]})")));
    CHECK(thread.has_attachments == true);
  }

  TEST_CASE("errors: status, code and message, with Graph's envelope") {
    struct Case {
      const char* name;
      HttpRequest request;
      int status;
      std::string code;
      std::string message_part;
    };
    const std::vector<Case> cases = {
        {"unknown resource", post("/v1.0/me"), 404, "BadRequest",
         "Resource not found for the segment 'me'."},
        {"unknown version", post("/v2.0/groups/x/threads"), 404, "BadRequest", "'v2.0'"},
        {"root", post("/"), 404, "BadRequest", "segment ''"},
        {"group without threads", post("/v1.0/groups/" + std::string(kGroup)), 404, "BadRequest",
         kGroup},
        {"extra segment", post(std::string(kThreadsPath) + "/AAQk"), 404, "BadRequest", "'AAQk'"},
        {"other collection", post("/v1.0/groups/" + std::string(kGroup) + "/conversations"), 404,
         "BadRequest", "'conversations'"},
        {"undecodable group id", post("/v1.0/groups/8b8a%zz/threads"), 404, "ResourceNotFound",
         "8b8a%zz"},
        {"truncated escape", post("/v1.0/groups/8b8a%2/threads"), 404, "ResourceNotFound", "%2"},
        {"no Authorization", without_header(post(), "Authorization"), 401,
         "InvalidAuthenticationToken", "Access token is empty."},
        {"empty bearer", with_header(post(), "Authorization", "Bearer "), 401,
         "InvalidAuthenticationToken", "Access token is empty."},
        {"not a bearer", with_header(post(), "Authorization", "Basic dXNlcjpwdw=="), 401,
         "InvalidAuthenticationToken", "Access token is empty."},
        {"group id not a GUID", post("/v1.0/groups/engineering/threads"), 400,
         "ErrorInvalidIdMalformed", "'engineering'"},
        {"wrong content type", with_header(post(), "Content-Type", "text/plain"), 415,
         "UnsupportedMediaType", "text/plain"},
        {"no content type", without_header(post(), "Content-Type"), 415, "UnsupportedMediaType",
         "application/json"},
        {"not JSON", post(kThreadsPath, "{\"topic\": "), 400, "BadRequest",
         "Unable to read JSON request payload"},
        {"no topic", post(kThreadsPath, R"({"posts":[{"body":{"content":"x"}}]})"), 400,
         "ErrorInvalidRequest", "topic"},
        {"bad contentType",
         post(kThreadsPath,
              R"({"topic":"T","posts":[{"body":{"contentType":"htm","content":"x"}}]})"),
         400, "ErrorInvalidRequest", "posts[0].body.contentType"},
        {"no posts", post(kThreadsPath, R"({"topic":"T"})"), 400, "ErrorInvalidRequest", "posts"},
    };
    GraphService service({});
    for (const auto& c : cases) {
      INFO(c.name);
      const HttpResponse r = service.handle(c.request);
      CHECK(r.status == c.status);
      check_envelope(r, c.code);
      const auto error = gt::decode_graph_error(r.body);
      REQUIRE(error.has_value());
      INFO(error->message);
      CHECK(error->message.find(c.message_part) != std::string::npos);
    }
    CHECK(service.threads().empty());
  }

  TEST_CASE("a wrong method on the threads path is 405 with Allow") {
    GraphService service({});
    HttpRequest r = post();
    r.method = "GET";
    const HttpResponse response = service.handle(r);
    CHECK(response.status == 405);
    CHECK(response.header("Allow") == "POST");
    check_envelope(response, "ErrorInvalidRequest");
  }

  TEST_CASE("only the configured token is accepted when one is set") {
    GraphService service({.accepted_token = "s3cret", .groups = {}});
    const HttpResponse wrong = service.handle(post());
    CHECK(wrong.status == 401);
    check_envelope(wrong, "InvalidAuthenticationToken");
    CHECK(gt::decode_graph_error(wrong.body)->message.find("validation failure") !=
          std::string::npos);
    CHECK(service.handle(with_header(post(), "Authorization", "bearer s3cret")).status == 201);
  }

  TEST_CASE("only configured groups exist when some are set") {
    GraphService service({.accepted_token = {},
                          .groups = {"00000000-0000-4000-8000-000000000001",
                                     "8B8A9C1E-1111-4222-8333-944455556666"}});
    CHECK(service.handle(post()).status == 201);  // GUIDs compare case-insensitively
    const HttpResponse missing =
        service.handle(post("/v1.0/groups/00000000-0000-4000-8000-000000000002/threads"));
    CHECK(missing.status == 404);
    check_envelope(missing, "ErrorItemNotFound");
  }

  TEST_CASE("Content-Type parameters are allowed") {
    GraphService service({});
    CHECK(service.handle(with_header(post(), "Content-Type", "Application/JSON; charset=utf-8"))
              .status == 201);
  }

  TEST_CASE("a body over the limit is 413") {
    GraphService service({.accepted_token = {}, .groups = {}, .max_body_bytes = 20});
    const HttpResponse r = service.handle(post());
    CHECK(r.status == 413);
    check_envelope(r, "RequestEntityTooLarge");
  }

  TEST_CASE("checks run in Graph's order") {
    GraphService service({.accepted_token = "t", .groups = {kGroup}, .max_body_bytes = 5});
    // Everything is wrong; each fix reveals the next check.
    HttpRequest r = post("/v1.0/groups/nope/threads", "{");
    r = with_header(r, "Content-Type", "text/plain");
    CHECK(service.handle(r).status == 401);
    r = with_header(r, "Authorization", "Bearer t");
    CHECK(service.handle(r).status == 400);
    r.target = "/v1.0/groups/00000000-0000-4000-8000-000000000002/threads";
    CHECK(service.handle(r).status == 404);
    r.target = kThreadsPath;
    CHECK(service.handle(r).status == 415);
    r = with_header(r, "Content-Type", "application/json");
    r.body = kMinimalBody;
    CHECK(service.handle(r).status == 413);
  }

  TEST_CASE("handle() is safe to call from many threads") {
    GraphService service({});
    std::vector<std::thread> workers;
    for (int t = 0; t < 8; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < 25; ++i) (void)service.handle(post());
      });
    }
    for (auto& w : workers) w.join();
    const auto threads = service.threads();
    CHECK(threads.size() == 200);
    std::set<std::string> ids;
    for (const auto& t : threads) ids.insert(t.id);
    CHECK(ids.size() == 200);
  }
}

TEST_SUITE("emulator: faults") {
  TEST_CASE("kStatus answers use the status' usual Graph code") {
    struct Case {
      int status;
      std::string code;
    };
    const std::vector<Case> cases = {{429, "TooManyRequests"},
                                     {503, "ServiceNotAvailable"},
                                     {504, "GatewayTimeout"},
                                     {500, "InternalServerError"},
                                     {403, "ErrorAccessDenied"}};
    for (const auto& c : cases) {
      INFO(c.status);
      const HttpResponse r = gt::emulator::status_fault_response(
          Fault{.kind = FaultKind::kStatus, .status = c.status}, post());
      CHECK(r.status == c.status);
      check_envelope(r, c.code);
      CHECK(r.header("Retry-After").empty());
    }
  }

  TEST_CASE("kStatus carries Retry-After, a code override or a verbatim body") {
    const HttpRequest request = with_header(post(), "client-request-id", "cr-1");
    const HttpResponse throttled =
        gt::emulator::status_fault_response(Fault{.kind = FaultKind::kStatus,
                                                  .status = 429,
                                                  .retry_after = "2.128",
                                                  .code = "ApplicationThrottled"},
                                            request);
    CHECK(throttled.header("Retry-After") == "2.128");
    CHECK(throttled.header("client-request-id") == "cr-1");
    check_envelope(throttled, "ApplicationThrottled");

    const HttpResponse verbatim = gt::emulator::status_fault_response(
        Fault{.kind = FaultKind::kStatus, .status = 502, .body = "<html>bad gateway</html>"},
        request);
    CHECK(verbatim.status == 502);
    CHECK(verbatim.body == "<html>bad gateway</html>");
    CHECK_FALSE(verbatim.header("request-id").empty());
  }

  TEST_CASE("FaultPlan: queued faults in order, then none") {
    FaultPlan plan;
    plan.push({.kind = FaultKind::kStatus, .status = 429});
    plan.push({.kind = FaultKind::kDelay});
    CHECK(plan.next_for_request().kind == FaultKind::kStatus);
    CHECK(plan.next_for_request().kind == FaultKind::kDelay);
    CHECK(plan.next_for_request().kind == FaultKind::kNone);
  }

  TEST_CASE("FaultPlan: a scripted fault wins for its number, the queue fills the others") {
    FaultPlan plan;
    plan.script(2, {.kind = FaultKind::kStall});
    plan.push({.kind = FaultKind::kDropAfterRead});
    CHECK(plan.next_for_request().kind == FaultKind::kDropAfterRead);  // 1: from the queue
    CHECK(plan.next_for_request().kind == FaultKind::kStall);          // 2: scripted
    CHECK(plan.next_for_request().kind == FaultKind::kNone);           // 3
  }

  TEST_CASE("FaultPlan: connection and request faults are separate streams") {
    FaultPlan plan;
    plan.push({.kind = FaultKind::kDropOnAccept});
    plan.push({.kind = FaultKind::kTruncateBody});
    plan.script(2, {.kind = FaultKind::kStallHandshake});
    CHECK(plan.next_for_request().kind == FaultKind::kTruncateBody);
    CHECK(plan.next_for_connection().kind == FaultKind::kDropOnAccept);
    CHECK(plan.next_for_connection().kind == FaultKind::kStallHandshake);
    CHECK(plan.next_for_connection().kind == FaultKind::kNone);
    CHECK(plan.next_for_request().kind == FaultKind::kNone);
  }

  TEST_CASE("FaultPlan: clear() forgets faults and restarts counting") {
    FaultPlan plan;
    plan.push({.kind = FaultKind::kStall});
    (void)plan.next_for_request();
    plan.clear();
    plan.script(1, {.kind = FaultKind::kOversizedBody, .size = 10});
    const Fault f = plan.next_for_request();
    CHECK(f.kind == FaultKind::kOversizedBody);
    CHECK(f.size == 10);
  }

  TEST_CASE("fault names are distinct") {
    std::set<std::string> names;
    for (auto kind :
         {FaultKind::kNone, FaultKind::kStatus, FaultKind::kDropOnAccept, FaultKind::kDropAfterRead,
          FaultKind::kTruncateBody, FaultKind::kStall, FaultKind::kStallHandshake,
          FaultKind::kOversizedBody, FaultKind::kOversizedHeader, FaultKind::kDelay}) {
      names.insert(gt::emulator::fault_name(kind));
    }
    CHECK(names.size() == 10);
    CHECK(names.count("unknown") == 0);
  }
}
