// The emulator's Graph behaviour as a pure function (GraphService::handle): create, list, get,
// update, delete, reply, $batch and the token rules; its kStatus answers and the FaultPlan's
// ordering. No sockets, no files (persistence: emulator_store_test.cpp).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
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
#include "support/jwt.hpp"

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
        {"unknown resource", post("/v1.0/users"), 404, "BadRequest",
         "Resource not found for the segment 'users'."},
        {"unknown version", post("/v2.0/groups/x/threads"), 404, "BadRequest", "'v2.0'"},
        {"root", post("/"), 404, "BadRequest", "segment ''"},
        {"group without threads", post("/v1.0/groups/" + std::string(kGroup)), 404, "BadRequest",
         kGroup},
        {"extra segment", post(std::string(kThreadsPath) + "/AAQk/bogus"), 404, "BadRequest",
         "'bogus'"},
        {"segment after reply", post(std::string(kThreadsPath) + "/AAQk/reply/x"), 404,
         "BadRequest", "'x'"},
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

  TEST_CASE("a method a path does not serve is 405 with Allow") {
    struct Case {
      std::string method;
      std::string target;
      std::string allow;
    };
    const std::string thread = std::string(kThreadsPath) + "/AAQkAGI2";
    const std::vector<Case> cases = {
        {"PUT", kThreadsPath, "GET, POST"},     {"DELETE", kThreadsPath, "GET, POST"},
        {"POST", thread, "GET, PATCH, DELETE"}, {"PUT", thread, "GET, PATCH, DELETE"},
        {"GET", thread + "/reply", "POST"},     {"GET", thread + "/microsoft.graph.reply", "POST"},
        {"GET", "/v1.0/$batch", "POST"},        {"POST", "/v1.0/me", "GET"},
    };
    GraphService service({});
    for (const auto& c : cases) {
      INFO(c.method << " " << c.target);
      HttpRequest r = post(c.target);
      r.method = c.method;
      const HttpResponse response = service.handle(r);
      CHECK(response.status == 405);
      CHECK(response.header("Allow") == c.allow);
      check_envelope(response, "ErrorInvalidRequest");
      CHECK(gt::decode_graph_error(response.body)->message ==
            "The OData request is not supported.");
    }
  }

  TEST_CASE("GET /me names the token's user, app-only tokens get Graph's 400, expired 401") {
    GraphService service({});
    auto me = [&](const std::string& token) {
      HttpRequest r = with_header(post("/v1.0/me", ""), "Authorization", "Bearer " + token);
      r.method = "GET";
      return service.handle(r);
    };
    const HttpResponse user =
        me(gt::test::make_jwt(R"({"scp":"User.Read","upn":"ada@x.example"})"));
    CHECK(user.status == 200);
    CHECK(user.body.find(R"("userPrincipalName":"ada@x.example")") != std::string::npos);
    CHECK(me("opaque-token").status == 200);
    const HttpResponse app = me(gt::test::make_jwt(R"({"roles":["Group.Read.All"]})"));
    CHECK(app.status == 400);
    check_envelope(app, "BadRequest");
    CHECK(gt::decode_graph_error(app.body)->message.find("delegated") != std::string::npos);
    CHECK(me(gt::test::make_jwt(R"({"scp":"User.Read","exp":1000})")).status == 401);
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

namespace {

using Time = std::chrono::system_clock::time_point;

// 2026-11-27T15:12:44Z, the time every clocked test starts at.
const Time kT0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + std::chrono::hours{15} +
                 std::chrono::minutes{12} + std::chrono::seconds{44};
const std::int64_t kT0Epoch =
    std::chrono::duration_cast<std::chrono::seconds>(kT0.time_since_epoch()).count();

constexpr const char* kOtherGroup = "22222222-2222-4222-8222-222222222222";
constexpr const char* kOrigin = "https://127.0.0.1:8443";
constexpr const char* kNotFound = "The specified object was not found in the store.";
constexpr const char* kDenied = "Access is denied. Check credentials and try again.";

// A clock the test moves by hand.
struct ManualClock {
  Time now = kT0;
  std::function<Time()> fn() {
    return [this] { return now; };
  }
  void tick(int seconds = 1) { now += std::chrono::seconds{seconds}; }
};

ServiceOptions clocked(ManualClock& clock) {
  ServiceOptions o;
  o.now = clock.fn();
  return o;
}

// Any request; without a body it carries no Content-Type.
HttpRequest request(std::string method, std::string target, std::string body = {}) {
  HttpRequest r = post(std::move(target), std::move(body));
  r.method = std::move(method);
  return r.body.empty() ? without_header(r, "Content-Type") : r;
}

HttpRequest get(std::string target) {
  return request("GET", std::move(target));
}

std::string encode_id(const std::string& id) {
  std::string encoded;
  for (char c : id) {
    encoded += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  }
  return encoded;
}

std::string threads_path(const std::string& group = kGroup, const std::string& version = "v1.0") {
  return "/" + version + "/groups/" + group + "/threads";
}

std::string thread_path(const std::string& id, const std::string& group = kGroup) {
  return threads_path(group) + "/" + encode_id(id);
}

std::string reply_body(const std::string& content = "Thanks") {
  return R"({"post":{"body":{"contentType":"text","content":")" + content + R"("}}})";
}

// Creates a thread (opaque token) and returns its id.
std::string create(GraphService& service, const std::string& topic = "T",
                   const std::string& group = kGroup) {
  const HttpResponse r = service.handle(
      post(threads_path(group),
           R"({"topic":")" + topic +
               R"(","posts":[{"body":{"contentType":"text","content":"Hi all"}}]})"));
  REQUIRE(r.status == 201);
  return created(r).id;
}

std::string message_of(const HttpResponse& r) {
  const auto error = gt::decode_graph_error(r.body);
  REQUIRE(error.has_value());
  return error->message;
}

// Every "id" in a list body, in order (only threads carry ids there).
std::vector<std::string> ids_in(const std::string& body) {
  static const std::regex kId(R"re("id":"([^"]*)")re");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), kId); it != std::sregex_iterator();
       ++it) {
    ids.push_back((*it)[1]);
  }
  return ids;
}

std::optional<std::string> next_link(const std::string& body) {
  static const std::regex kLink(R"re("@odata.nextLink":"([^"]*)")re");
  std::smatch m;
  if (!std::regex_search(body, m, kLink)) return std::nullopt;
  return m[1].str();
}

// A nextLink as a request target on this origin (asserting it is one).
std::string target_of(const std::string& link) {
  REQUIRE(link.starts_with(kOrigin));
  return link.substr(std::string(kOrigin).size());
}

// A thread as Graph answers it by default, created at `delivered` with the helpers' post.
std::string default_thread_json(const std::string& id, const std::string& topic,
                                const std::string& delivered, bool locked = false,
                                const std::string& preview = "Hi all",
                                const std::string& senders = R"(["Emulator User"])") {
  return R"({"id":")" + id + R"(","topic":")" + topic +
         R"(","hasAttachments":false,"lastDeliveredDateTime":")" + delivered +
         R"(","uniqueSenders":)" + senders + R"(,"preview":")" + preview + R"(","isLocked":)" +
         (locked ? "true" : "false") + "}";
}

// Follows nextLink from `first` to the end; every page's ids, in order.
std::vector<std::vector<std::string>> all_pages(GraphService& service, const std::string& first) {
  std::vector<std::vector<std::string>> pages;
  std::optional<std::string> target = first;
  while (target && pages.size() < 100) {
    const HttpResponse r = service.handle(get(*target));
    REQUIRE(r.status == 200);
    pages.push_back(ids_in(r.body));
    const auto link = next_link(r.body);
    target = link ? std::optional(target_of(*link)) : std::nullopt;
  }
  return pages;
}

}  // namespace

TEST_SUITE("emulator: list threads") {
  TEST_CASE("threads are listed newest lastDeliveredDateTime first, in Graph's shape") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string a = create(service, "A");
    clock.tick();
    const std::string b = create(service, "B");
    clock.tick();
    const std::string c = create(service, "C");
    const HttpResponse r = service.handle(get(kThreadsPath));
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") ==
          "application/json; odata.metadata=minimal; odata.streaming=true; "
          "IEEE754Compatible=false; charset=utf-8");
    CHECK(gt::looks_like_guid(std::string(r.header("request-id"))));
    CHECK(r.header("Date") == "Fri, 27 Nov 2026 15:12:46 GMT");
    CHECK(r.body ==
          std::string(R"({"@odata.context":"https://127.0.0.1:8443/v1.0/$metadata#groups(')") +
              kGroup + R"(')/threads","value":[)" +
              default_thread_json(c, "C", "2026-11-27T15:12:46Z") + "," +
              default_thread_json(b, "B", "2026-11-27T15:12:45Z") + "," +
              default_thread_json(a, "A", "2026-11-27T15:12:44Z") + "]}");
  }

  TEST_CASE("threads delivered in the same second list the latest delivery first") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string a = create(service, "A");
    const std::string b = create(service, "B");
    const std::string c = create(service, "C");
    CHECK(ids_in(service.handle(get(kThreadsPath)).body) == std::vector<std::string>{c, b, a});
  }

  TEST_CASE("$top pages through every thread once, following nextLink verbatim") {
    ManualClock clock;
    GraphService service(clocked(clock));
    std::vector<std::string> newest_first;
    for (int i = 0; i < 25; ++i) {
      newest_first.insert(newest_first.begin(), create(service, "T" + std::to_string(i)));
      clock.tick();
    }
    const HttpResponse first = service.handle(get(std::string(kThreadsPath) + "?$top=7"));
    const auto link = next_link(first.body);
    REQUIRE(link.has_value());
    CHECK(std::regex_match(*link, std::regex(std::string(kOrigin) + threads_path() +
                                             R"(\?\$top=7&\$skiptoken=[A-Za-z0-9_-]+)")));
    const auto pages = all_pages(service, std::string(kThreadsPath) + "?$top=7");
    REQUIRE(pages.size() == 4);
    CHECK(pages[0].size() == 7);
    CHECK(pages[1].size() == 7);
    CHECK(pages[2].size() == 7);
    CHECK(pages[3].size() == 4);
    std::vector<std::string> seen;
    for (const auto& page : pages) seen.insert(seen.end(), page.begin(), page.end());
    CHECK(seen == newest_first);
  }

  TEST_CASE("the default page size is 10, a full last page has no nextLink") {
    struct Case {
      int threads;
      std::vector<std::size_t> page_sizes;
    };
    const std::vector<Case> cases = {{0, {0}},      {1, {1}},       {10, {10}},
                                     {11, {10, 1}}, {20, {10, 10}}, {21, {10, 10, 1}}};
    for (const auto& c : cases) {
      INFO(c.threads);
      GraphService service({});
      for (int i = 0; i < c.threads; ++i) create(service);
      std::vector<std::size_t> sizes;
      for (const auto& page : all_pages(service, kThreadsPath)) sizes.push_back(page.size());
      CHECK(sizes == c.page_sizes);
    }
  }

  TEST_CASE("nextLink is absolute from the scheme and Host, and keeps the other options") {
    GraphService service({});
    for (int i = 0; i < 3; ++i) create(service);
    HttpRequest r = get("/beta/groups/" + std::string(kGroup) + "/threads?$select=topic&$top=1");
    r.scheme = "http";
    r = with_header(r, "Host", "localhost:1234");
    const auto link = next_link(service.handle(r).body);
    REQUIRE(link.has_value());
    CHECK(link->starts_with("http://localhost:1234/beta/groups/" + std::string(kGroup) +
                            "/threads?$select=topic&$top=1&$skiptoken="));
    // Following it keeps $select and $top.
    HttpRequest next = get(link->substr(std::string("http://localhost:1234").size()));
    const HttpResponse page = service.handle(next);
    REQUIRE(page.status == 200);
    CHECK(ids_in(page.body).size() == 1);
    CHECK(page.body.find(R"("preview")") == std::string::npos);
    CHECK(page.body.find(R"("topic":"T")") != std::string::npos);
  }

  TEST_CASE("threads created while paging do not shift the later pages") {
    ManualClock clock;
    GraphService service(clocked(clock));
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
      ids.push_back(create(service));
      clock.tick();
    }
    const HttpResponse first = service.handle(get(std::string(kThreadsPath) + "?$top=2"));
    CHECK(ids_in(first.body) == std::vector<std::string>{ids[3], ids[2]});
    create(service);  // newer than all of them: it belongs before page 1, not on page 2
    create(service);
    const HttpResponse second = service.handle(get(target_of(*next_link(first.body))));
    CHECK(ids_in(second.body) == std::vector<std::string>{ids[1], ids[0]});
    CHECK_FALSE(next_link(second.body).has_value());
  }

  TEST_CASE("$top accepts 1 to 999 and nothing else") {
    struct Case {
      std::string value;
      int status;
    };
    const std::vector<Case> cases = {{"1", 200},   {"999", 200}, {"0", 400},    {"1000", 400},
                                     {"abc", 400}, {"", 400},    {"-1", 400},   {"2.5", 400},
                                     {"+3", 400},  {"%31", 200}, {"00010", 400}};
    GraphService service({});
    create(service);
    for (const auto& c : cases) {
      INFO("$top=" << c.value);
      const HttpResponse r = service.handle(get(std::string(kThreadsPath) + "?$top=" + c.value));
      CHECK(r.status == c.status);
      if (c.status == 400) {
        check_envelope(r, "BadRequest");
        CHECK(message_of(r) ==
              "Invalid $top value '" + c.value + "': expected an integer from 1 to 999.");
      }
    }
  }

  TEST_CASE("$select returns id and the named properties, recipients only when named") {
    struct Case {
      std::string select;
      std::string item;
      std::string context_suffix;
    };
    ManualClock clock;
    GraphService service(clocked(clock));
    const HttpResponse made = service.handle(post(
        kThreadsPath,
        R"({"topic":"T","toRecipients":[{"emailAddress":{"name":"Ops","address":"ops@example.com"}}],)"
        R"("ccRecipients":[{"emailAddress":{"address":"cc@example.com"}}],)"
        R"("posts":[{"body":{"content":"Hi all"}}]})"));
    const std::string id = created(made).id;
    const std::string to = R"([{"emailAddress":{"name":"Ops","address":"ops@example.com"}}])";
    const std::string cc = R"([{"emailAddress":{"address":"cc@example.com"}}])";
    const std::vector<Case> cases = {
        {"", default_thread_json(id, "T", "2026-11-27T15:12:44Z"), ""},
        {"topic", R"({"id":")" + id + R"(","topic":"T"})", "(topic)"},
        {"TOPIC,isLocked", R"({"id":")" + id + R"(","topic":"T","isLocked":false})",
         "(topic,isLocked)"},
        {"isLocked, topic", R"({"id":")" + id + R"(","topic":"T","isLocked":false})",
         "(topic,isLocked)"},
        {"id", R"({"id":")" + id + R"("})", "(id)"},
        {"toRecipients", R"({"id":")" + id + R"(","toRecipients":)" + to + "}", "(toRecipients)"},
        {"ccRecipients,toRecipients",
         R"({"id":")" + id + R"(","toRecipients":)" + to + R"(,"ccRecipients":)" + cc + "}",
         "(toRecipients,ccRecipients)"},
        {"preview,uniqueSenders,lastDeliveredDateTime,hasAttachments",
         R"({"id":")" + id +
             R"(","hasAttachments":false,"lastDeliveredDateTime":"2026-11-27T15:12:44Z",)"
             R"("uniqueSenders":["Emulator User"],"preview":"Hi all"})",
         "(hasAttachments,lastDeliveredDateTime,uniqueSenders,preview)"},
    };
    for (const auto& c : cases) {
      INFO("$select=" << c.select);
      const std::string query = c.select.empty() ? "" : "?$select=" + c.select;
      const HttpResponse list = service.handle(get(kThreadsPath + query));
      REQUIRE(list.status == 200);
      CHECK(list.body == std::string(R"({"@odata.context":")") + kOrigin +
                             "/v1.0/$metadata#groups('" + kGroup + "')/threads" + c.context_suffix +
                             R"(","value":[)" + c.item + "]}");
      const HttpResponse one = service.handle(get(thread_path(id) + query));
      REQUIRE(one.status == 200);
      CHECK(one.body == std::string(R"({"@odata.context":")") + kOrigin +
                            "/v1.0/$metadata#groups('" + kGroup + "')/threads" + c.context_suffix +
                            R"(/$entity",)" + c.item.substr(1));
    }
  }

  TEST_CASE("$select with unknown names is 400 naming them") {
    struct Case {
      std::string select;
      std::string message;
    };
    const std::vector<Case> cases = {
        {"topik",
         "Could not find a property named 'topik' on type 'microsoft.graph.conversationThread'."},
        {"topic,bogus",
         "Could not find a property named 'bogus' on type 'microsoft.graph.conversationThread'."},
        {"posts", "Property 'posts' cannot be selected: it is a navigation property."},
        {"topic,", "Invalid $select 'topic,': an empty property name."},
        {"", "Invalid $select '': an empty property name."},
    };
    GraphService service({});
    const std::string id = create(service);
    for (const auto& c : cases) {
      INFO("$select=" << c.select);
      for (const std::string& path : {std::string(kThreadsPath), thread_path(id)}) {
        const HttpResponse r = service.handle(get(path + "?$select=" + c.select));
        CHECK(r.status == 400);
        check_envelope(r, "BadRequest");
        CHECK(message_of(r) == c.message);
      }
    }
  }

  TEST_CASE("query options the collection does not support get Graph's errors") {
    struct Case {
      std::string query;
      int status;
      std::string code;
      std::string message;
    };
    const std::vector<Case> cases = {
        {"$filter=isLocked%20eq%20true", 501, "FilteringOnConversations",
         "$filter is not supported on this collection."},
        {"$orderby=topic", 400, "BadRequest", "$orderby is not supported on this collection."},
        {"$search=%22x%22", 400, "BadRequest", "$search is not supported on this collection."},
        {"$expand=posts", 400, "BadRequest", "$expand is not supported on this collection."},
        {"$count=true", 400, "BadRequest", "$count is not supported on this collection."},
        {"$skip=2", 400, "BadRequest", "$skip is not supported on this collection."},
        {"$Filter=x", 501, "FilteringOnConversations",
         "$filter is not supported on this collection."},
        {"$top=1&$TOP=2", 400, "BadRequest", "Query option '$top' was specified more than once."},
        {"$skiptoken=bm90LWEtY3Vyc29y", 400, "BadRequest",
         "Invalid $skiptoken: follow @odata.nextLink exactly as it was given."},
        {"$skiptoken=%%", 400, "BadRequest",
         "The query option '$skiptoken=%%' is not valid percent-encoding."},
    };
    GraphService service({});
    create(service);
    for (const auto& c : cases) {
      INFO(c.query);
      const HttpResponse r = service.handle(get(std::string(kThreadsPath) + "?" + c.query));
      CHECK(r.status == c.status);
      check_envelope(r, c.code);
      CHECK(message_of(r) == c.message);
    }
    // Options without '$' are custom options: ignored.
    CHECK(service.handle(get(std::string(kThreadsPath) + "?foo=bar&&x")).status == 200);
  }

  TEST_CASE("a single thread takes $select only") {
    GraphService service({});
    const std::string id = create(service);
    for (const std::string option : {"$top=1", "$filter=x", "$expand=posts", "$skiptoken=x"}) {
      INFO(option);
      const HttpResponse r = service.handle(get(thread_path(id) + "?" + option));
      CHECK(r.status == 400);
      check_envelope(r, "BadRequest");
      CHECK(message_of(r) == "Query option '" + option.substr(0, option.find('=')) +
                                 "' is not supported when getting one thread; use $select.");
    }
  }

  TEST_CASE("groups: unknown ones are 404 like create, each lists only its own threads") {
    GraphService service({.accepted_token = {}, .groups = {kGroup, kOtherGroup}});
    const std::string mine = create(service, "mine");
    const std::string theirs = create(service, "theirs", kOtherGroup);
    CHECK(ids_in(service.handle(get(kThreadsPath)).body) == std::vector<std::string>{mine});
    CHECK(ids_in(service.handle(get(threads_path(kOtherGroup))).body) ==
          std::vector<std::string>{theirs});
    // GUIDs compare case-insensitively.
    CHECK(ids_in(service.handle(get("/v1.0/groups/8B8A9C1E-1111-4222-8333-944455556666/threads"))
                     .body) == std::vector<std::string>{mine});

    const HttpResponse unknown =
        service.handle(get(threads_path("00000000-0000-4000-8000-000000000009")));
    CHECK(unknown.status == 404);
    check_envelope(unknown, "ErrorItemNotFound");
    CHECK(message_of(unknown) ==
          "The specified object was not found in the store., Group "
          "'00000000-0000-4000-8000-000000000009' does not exist.");
    const HttpResponse malformed = service.handle(get(threads_path("engineering")));
    CHECK(malformed.status == 400);
    check_envelope(malformed, "ErrorInvalidIdMalformed");
  }

  TEST_CASE("a group without threads lists an empty page without nextLink") {
    GraphService service({});
    const HttpResponse r = service.handle(get(threads_path(kOtherGroup, "beta")));
    CHECK(r.status == 200);
    CHECK(r.body == std::string(R"({"@odata.context":")") + kOrigin + "/beta/$metadata#groups('" +
                        kOtherGroup + R"(')/threads","value":[]})");
  }
}

TEST_SUITE("emulator: single thread (GET PATCH DELETE)") {
  TEST_CASE("GET answers the thread, found by its percent-encoded or raw id") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string id = create(service, "Hello");
    const std::string expected = std::string(R"({"@odata.context":")") + kOrigin +
                                 "/v1.0/$metadata#groups('" + kGroup + R"(')/threads/$entity",)" +
                                 default_thread_json(id, "Hello", "2026-11-27T15:12:44Z").substr(1);
    // Only '/' must be escaped inside a segment; escapes may use either case.
    std::string lower_escapes;
    std::string slash_only;
    for (char ch : id) {
      lower_escapes += ch == '+'   ? "%2b"
                       : ch == '/' ? "%2f"
                       : ch == '=' ? "%3d"
                                   : std::string(1, ch);
      slash_only += ch == '/' ? "%2F" : std::string(1, ch);
    }
    struct Case {
      std::string name;
      std::string target;
    };
    const std::vector<Case> cases = {
        {"percent-encoded", thread_path(id)},
        {"lower-case escapes", threads_path() + "/" + lower_escapes},
        {"'+' and '=' raw", threads_path() + "/" + slash_only},
        {"the Location form",
         "/v1.0/groups('" + std::string(kGroup) + "')/threads('" + encode_id(id) + "')"},
    };
    for (const auto& c : cases) {
      INFO(c.name << ": " << c.target);
      const HttpResponse r = service.handle(get(c.target));
      CHECK(r.status == 200);
      CHECK(r.body == expected);
    }
  }

  TEST_CASE("the Location of a created thread can be fetched as it is") {
    GraphService service({});
    const HttpResponse made = service.handle(post());
    const std::string location(made.header("Location"));
    const HttpResponse r = service.handle(get(target_of(location)));
    CHECK(r.status == 200);
    CHECK(ids_in(r.body) == std::vector<std::string>{created(made).id});
  }

  TEST_CASE("an unknown thread, or one of another group, is 404 ErrorItemNotFound") {
    GraphService service({});
    const std::string id = create(service);
    struct Case {
      std::string method;
      std::string target;
      std::string body;
    };
    const std::string missing = "AAQkAGI2TG93ZXI=";
    const std::vector<Case> cases = {
        {"GET", thread_path(missing), ""},
        {"GET", thread_path(id, kOtherGroup), ""},
        {"DELETE", thread_path(missing), ""},
        {"DELETE", thread_path(id, kOtherGroup), ""},
        {"PATCH", thread_path(missing), R"({"isLocked":true})"},
        {"POST", thread_path(missing) + "/reply", reply_body()},
        {"POST", thread_path(id, kOtherGroup) + "/reply", reply_body()},
    };
    for (const auto& c : cases) {
      INFO(c.method << " " << c.target);
      const HttpResponse r = service.handle(request(c.method, c.target, c.body));
      CHECK(r.status == 404);
      check_envelope(r, "ErrorItemNotFound");
      CHECK(message_of(r) == kNotFound);
    }
    CHECK(service.threads().size() == 1);
  }

  TEST_CASE("DELETE answers 204 without a body, the thread is gone") {
    GraphService service({});
    const std::string keep = create(service);
    const std::string gone = create(service);
    const HttpResponse r = service.handle(
        with_header(request("DELETE", thread_path(gone)), "client-request-id", "c1"));
    CHECK(r.status == 204);
    CHECK(r.reason == "No Content");
    CHECK(r.body.empty());
    CHECK(r.header("Content-Type").empty());
    CHECK(gt::looks_like_guid(std::string(r.header("request-id"))));
    CHECK(r.header("client-request-id") == "c1");
    CHECK_FALSE(r.header("Date").empty());
    CHECK(service.handle(get(thread_path(gone))).status == 404);
    CHECK(service.handle(request("DELETE", thread_path(gone))).status == 404);
    CHECK(ids_in(service.handle(get(kThreadsPath)).body) == std::vector<std::string>{keep});
    REQUIRE(service.threads().size() == 1);
    CHECK(service.threads()[0].id == keep);
  }

  TEST_CASE("PATCH isLocked answers 200 {} and changes only isLocked") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string older = create(service, "older");
    clock.tick();
    const std::string newer = create(service, "newer");
    clock.tick();
    const HttpResponse r =
        service.handle(request("PATCH", thread_path(older), R"({"isLocked":true})"));
    CHECK(r.status == 200);
    CHECK(r.body == "{}");
    CHECK(r.header("Content-Type").starts_with("application/json"));
    const HttpResponse after = service.handle(get(thread_path(older)));
    CHECK(after.body.find(
              default_thread_json(older, "older", "2026-11-27T15:12:44Z", true).substr(1)) !=
          std::string::npos);
    // Locking is not a delivery: the order stays.
    CHECK(ids_in(service.handle(get(kThreadsPath)).body) == std::vector<std::string>{newer, older});
    // Unlock again; an empty object and annotations change nothing.
    CHECK(service.handle(request("PATCH", thread_path(older), R"({"IsLocked":false})")).status ==
          200);
    CHECK(service.handle(request("PATCH", thread_path(older), R"({})")).status == 200);
    CHECK(service.handle(request("PATCH", thread_path(older), R"({"@odata.type":"x"})")).status ==
          200);
    CHECK(service.handle(get(thread_path(older))).body.find(R"("isLocked":false)") !=
          std::string::npos);
  }

  TEST_CASE("PATCH: every other property, bad values and bodies are refused") {
    struct Case {
      std::string body;
      std::string content_type;
      int status;
      std::string code;
      std::string message;
    };
    const std::string json = "application/json";
    const std::vector<Case> cases = {
        {R"({"topic":"new"})", json, 400, "ErrorInvalidRequest",
         "Invalid request: topic: cannot be updated; only isLocked can be changed"},
        {R"({"isLocked":true,"preview":"p"})", json, 400, "ErrorInvalidRequest",
         "Invalid request: preview: cannot be updated; only isLocked can be changed"},
        {R"({"posts":[]})", json, 400, "ErrorInvalidRequest",
         "Invalid request: posts: cannot be updated; only isLocked can be changed"},
        {R"({"colour":"red"})", json, 400, "ErrorInvalidRequest",
         "Invalid request: colour: unknown property of conversationThread; only isLocked can be "
         "changed"},
        {R"({"isLocked":"yes"})", json, 400, "ErrorInvalidRequest",
         "Invalid request: isLocked: expected true or false"},
        {R"([true])", json, 400, "ErrorInvalidRequest",
         "Invalid request: expected a JSON object such as {\"isLocked\": true}"},
        {R"({"isLocked":)", json, 400, "BadRequest", "Unable to read JSON request payload"},
        {R"({"isLocked":true})", "text/plain", 415, "UnsupportedMediaType",
         "The content type 'text/plain' is not supported; send application/json."},
    };
    GraphService service({});
    const std::string id = create(service);
    for (const auto& c : cases) {
      INFO(c.body << " as " << c.content_type);
      const HttpResponse r = service.handle(
          with_header(request("PATCH", thread_path(id), c.body), "Content-Type", c.content_type));
      CHECK(r.status == c.status);
      check_envelope(r, c.code);
      CHECK(message_of(r).starts_with(c.message));
    }
    CHECK(service.handle(get(thread_path(id))).body.find(R"("isLocked":false)") !=
          std::string::npos);
  }

  TEST_CASE("a PATCH body over the limit is 413") {
    GraphService service({.accepted_token = {}, .groups = {}, .max_body_bytes = 200});
    const std::string id = create(service);
    const HttpResponse r = service.handle(request(
        "PATCH", thread_path(id), R"({"isLocked":true,"@x":")" + std::string(300, 'x') + "\"}"));
    CHECK(r.status == 413);
    check_envelope(r, "RequestEntityTooLarge");
  }
}

TEST_SUITE("emulator: reply") {
  TEST_CASE("a reply answers 202 without a body and updates the thread") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string first = create(service, "first");
    clock.tick();
    const std::string second = create(service, "second");
    clock.tick(60);
    const HttpResponse r = service.handle(request(
        "POST", thread_path(first) + "/reply",
        R"({"post":{"body":{"contentType":"html","content":"<p>Got it &amp; thanks</p>"},)"
        R"("sender":{"emailAddress":{"name":"Ann","address":"ann@example.com"}},)"
        R"("attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"a.txt","contentBytes":"aGk="}]}})"));
    CHECK(r.status == 202);
    CHECK(r.reason == "Accepted");
    CHECK(r.body.empty());
    CHECK(r.header("Content-Type").empty());
    CHECK(gt::looks_like_guid(std::string(r.header("request-id"))));

    // Delivered now: first in the list, with the reply's preview and sender.
    const HttpResponse list = service.handle(get(kThreadsPath));
    CHECK(ids_in(list.body) == std::vector<std::string>{first, second});
    const HttpResponse thread = service.handle(get(thread_path(first)));
    CHECK(
        thread.body.find(
            R"("topic":"first","hasAttachments":true,"lastDeliveredDateTime":"2026-11-27T15:13:45Z",)"
            R"("uniqueSenders":["Emulator User","Ann"],"preview":"Got it & thanks","isLocked":false})") !=
        std::string::npos);

    const auto stored = service.store().find(kGroup, first);
    REQUIRE(stored);
    REQUIRE(stored->posts.size() == 2);
    const gt::emulator::StoredPost& reply = stored->posts[1];
    CHECK(reply.body.content == "<p>Got it &amp; thanks</p>");
    CHECK(reply.body.content_type == gt::BodyType::kHtml);
    CHECK(reply.sender == gt::Recipient{{"ann@example.com", "Ann"}});
    CHECK(reply.received_date_time == "2026-11-27T15:13:45Z");
    CHECK(reply.has_attachments);
    CHECK(reply.id.starts_with("AAMk"));
    CHECK(reply.id != stored->posts[0].id);
    CHECK(stored->posts[0].received_date_time == "2026-11-27T15:12:44Z");
  }

  TEST_CASE("microsoft.graph.reply works as reply does, 'Post' matches case-insensitively") {
    GraphService service({});
    const std::string id = create(service);
    CHECK(
        service.handle(request("POST", thread_path(id) + "/microsoft.graph.reply", reply_body("a")))
            .status == 202);
    CHECK(service
              .handle(request("POST", thread_path(id) + "/reply",
                              R"({"Post":{"Body":{"Content":"b"}}})"))
              .status == 202);
    const auto stored = service.store().find(kGroup, id);
    REQUIRE(stored);
    REQUIRE(stored->posts.size() == 3);
    CHECK(stored->posts[1].body.content == "a");
    CHECK(stored->posts[2].body.content == "b");
    // The same sender twice is one unique sender.
    CHECK(stored->unique_senders == std::vector<std::string>{"Emulator User"});
  }

  TEST_CASE("a reply to a locked thread is 423 ErrorThreadLocked and changes nothing") {
    GraphService service({});
    const std::string id = create(service);
    REQUIRE(service.handle(request("PATCH", thread_path(id), R"({"isLocked":true})")).status ==
            200);
    const HttpResponse r =
        service.handle(request("POST", thread_path(id) + "/reply", reply_body()));
    CHECK(r.status == 423);
    CHECK(r.reason == "Locked");
    check_envelope(r, "ErrorThreadLocked");
    CHECK(message_of(r) ==
          "The conversation thread is locked; unlock it (PATCH {\"isLocked\": false}) before "
          "replying.");
    CHECK(service.store().find(kGroup, id)->posts.size() == 1);
  }

  TEST_CASE("reply bodies follow the post rules of create, with paths under post") {
    struct Case {
      std::string body;
      std::string code;
      std::string message;
    };
    const std::vector<Case> cases = {
        {"{}", "ErrorInvalidRequest", "Invalid request: post: required"},
        {R"({"post":{"body":{"content":""}}})", "ErrorInvalidRequest",
         "Invalid request: post.body.content"},
        {R"({"post":{}})", "ErrorInvalidRequest", "Invalid request: post.body"},
        {R"({"post":{"body":{"contentType":"htm","content":"x"}}})", "ErrorInvalidRequest",
         "Invalid request: post.body.contentType"},
        {R"({"post":{"body":{"content":"x"},"sender":{"emailAddress":{"address":"nope"}}}})",
         "ErrorInvalidRequest", "Invalid request: post.sender.emailAddress.address"},
        {R"({"post":"text"})", "ErrorInvalidRequest", "Invalid request: post: "},
        {R"({"post":{"body":{"content":"x"}},"comment":"hi"})", "ErrorInvalidRequest",
         "Invalid request: comment: unknown property; a reply's body has only \"post\""},
        {R"([])", "ErrorInvalidRequest",
         "Invalid request: expected a JSON object {\"post\": {...}}"},
        {R"({"post":)", "BadRequest", "Unable to read JSON request payload"},
    };
    GraphService service({});
    const std::string id = create(service);
    for (const auto& c : cases) {
      INFO(c.body);
      const HttpResponse r = service.handle(request("POST", thread_path(id) + "/reply", c.body));
      CHECK(r.status == 400);
      check_envelope(r, c.code);
      CHECK(message_of(r).starts_with(c.message));
    }
    CHECK(service.store().find(kGroup, id)->posts.size() == 1);
  }

  TEST_CASE("reply checks run in order: token, group, thread, media type, size, body") {
    GraphService service(
        {.accepted_token = "test-token", .groups = {kGroup}, .max_body_bytes = 80});
    const std::string id = create(service);
    // Everything is wrong; each fix reveals the next check.
    HttpRequest r =
        request("POST", "/v1.0/groups/nope/threads/AAQkAGI2/reply", "{" + std::string(100, ' '));
    r = with_header(with_header(r, "Content-Type", "text/plain"), "Authorization", "Bearer x");
    CHECK(service.handle(r).status == 401);
    r = with_header(r, "Authorization", "Bearer test-token");
    CHECK(service.handle(r).status == 400);
    r.target = "/v1.0/groups/00000000-0000-4000-8000-000000000002/threads/AAQkAGI2/reply";
    CHECK(service.handle(r).status == 404);
    r.target = threads_path() + "/AAQkAGI2/reply";
    CHECK(message_of(service.handle(r)) == kNotFound);
    r.target = thread_path(id) + "/reply";
    CHECK(service.handle(r).status == 415);
    r = with_header(r, "Content-Type", "application/json");
    CHECK(service.handle(r).status == 413);
    r.body = "{";
    CHECK(service.handle(r).status == 400);
    r.body = reply_body();
    CHECK(service.handle(r).status == 202);
  }
}

namespace {

// "Bearer <unsigned JWT>" with these claims; "{exp}" becomes kT0 + `exp_offset` seconds.
std::string jwt_bearer(std::string claims, std::int64_t exp_offset = 3600) {
  const auto at = claims.find("{exp}");
  if (at != std::string::npos) claims.replace(at, 5, std::to_string(kT0Epoch + exp_offset));
  return "Bearer " + gt::test::make_jwt(claims);
}

// One request per operation on `id` (a thread of kGroup).
HttpRequest operation(const std::string& op, const std::string& id) {
  if (op == "create") return post();
  if (op == "reply") return request("POST", thread_path(id) + "/reply", reply_body());
  if (op == "list") return get(kThreadsPath);
  if (op == "get") return get(thread_path(id));
  if (op == "patch") return request("PATCH", thread_path(id), R"({"isLocked":true})");
  return request("DELETE", thread_path(id));
}

}  // namespace

TEST_SUITE("emulator: tokens") {
  TEST_CASE("JWTs are held to Graph's rules per operation, opaque tokens may do everything") {
    struct Case {
      std::string name;
      std::string authorization;
      std::string op;
      int status;
    };
    const std::string app_write = jwt_bearer(R"({"roles":["Group.ReadWrite.All"],"exp":{exp}})");
    const std::string app_conv_write =
        jwt_bearer(R"({"roles":["Group-Conversation.ReadWrite.All"],"exp":{exp}})");
    const std::string app_read = jwt_bearer(R"({"roles":["Group.Read.All"],"exp":{exp}})");
    const std::string app_conv_read =
        jwt_bearer(R"({"roles":["Group-Conversation.Read.All"],"exp":{exp}})");
    const std::string app_other = jwt_bearer(R"({"roles":["User.Read.All"],"exp":{exp}})");
    const std::string user_write =
        jwt_bearer(R"({"scp":"openid Group.ReadWrite.All","exp":{exp}})");
    const std::string user_conv =
        jwt_bearer(R"({"scp":"Group-Conversation.ReadWrite.All","exp":{exp}})");
    const std::string user_lower = jwt_bearer(R"({"scp":"group.readwrite.all","exp":{exp}})");
    const std::string user_read = jwt_bearer(R"({"scp":"Group.Read.All","exp":{exp}})");
    const std::string user_other = jwt_bearer(R"({"scp":"User.Read","exp":{exp}})");
    const std::string no_claims = jwt_bearer(R"({"exp":{exp}})");
    const std::string no_exp = jwt_bearer(R"({"scp":"Group.ReadWrite.All"})");
    const std::string opaque = "Bearer not-a-jwt";
    const std::vector<Case> cases = {
        // App-only: never create or reply; the rest with the right roles.
        {"app write", app_write, "create", 403},
        {"app write", app_write, "reply", 403},
        {"app write", app_write, "list", 200},
        {"app write", app_write, "get", 200},
        {"app write", app_write, "patch", 200},
        {"app write", app_write, "delete", 204},
        {"app conversation write", app_conv_write, "create", 403},
        {"app conversation write", app_conv_write, "patch", 200},
        {"app conversation write", app_conv_write, "delete", 204},
        {"app read", app_read, "list", 200},
        {"app read", app_read, "get", 200},
        {"app read", app_read, "patch", 403},
        {"app read", app_read, "delete", 403},
        {"app read", app_read, "create", 403},
        {"app conversation read", app_conv_read, "list", 200},
        {"app conversation read", app_conv_read, "delete", 403},
        {"app other role", app_other, "list", 403},
        {"app other role", app_other, "get", 403},
        // Delegated: a suitable scope.
        {"user write", user_write, "create", 201},
        {"user write", user_write, "reply", 202},
        {"user write", user_write, "list", 200},
        {"user write", user_write, "delete", 204},
        {"user conversation write", user_conv, "create", 201},
        {"user conversation write", user_conv, "reply", 202},
        {"user scope in lower case", user_lower, "create", 201},
        {"user read", user_read, "list", 200},
        {"user read", user_read, "get", 200},
        {"user read", user_read, "create", 403},
        {"user read", user_read, "reply", 403},
        {"user read", user_read, "patch", 403},
        {"user other scope", user_other, "create", 403},
        {"user other scope", user_other, "list", 403},
        {"no scp, no roles", no_claims, "list", 403},
        {"no exp", no_exp, "create", 201},
        // Opaque tokens keep full access.
        {"opaque", opaque, "create", 201},
        {"opaque", opaque, "reply", 202},
        {"opaque", opaque, "patch", 200},
        {"opaque", opaque, "delete", 204},
    };
    for (const auto& c : cases) {
      INFO(c.name << " -> " << c.op);
      ManualClock clock;
      GraphService service(clocked(clock));
      const std::string id = create(service);
      const HttpResponse r =
          service.handle(with_header(operation(c.op, id), "Authorization", c.authorization));
      CHECK(r.status == c.status);
      if (c.status == 403) {
        check_envelope(r, "ErrorAccessDenied");
        CHECK(message_of(r) == kDenied);
      }
    }
  }

  TEST_CASE("an expired JWT is 401 for every operation, by the injected clock") {
    struct Case {
      std::int64_t exp_offset;
      int create_status;
    };
    // exp is the first second the token is no longer valid.
    const std::vector<Case> cases = {{-3600, 401}, {-1, 401}, {0, 401}, {1, 201}};
    for (const auto& c : cases) {
      INFO("exp = now + " << c.exp_offset);
      ManualClock clock;
      GraphService service(clocked(clock));
      const std::string id = create(service);
      const std::string token =
          jwt_bearer(R"({"scp":"Group.ReadWrite.All","exp":{exp}})", c.exp_offset);
      for (const std::string op : {"create", "reply", "list", "get", "patch", "delete"}) {
        INFO(op);
        const HttpResponse r =
            service.handle(with_header(operation(op, id), "Authorization", token));
        if (c.create_status == 401) {
          CHECK(r.status == 401);
          check_envelope(r, "InvalidAuthenticationToken");
          CHECK(message_of(r) == "Lifetime validation failed, the token is expired.");
          CHECK(r.header("WWW-Authenticate") == "Bearer realm=\"\", error=\"invalid_token\"");
        } else {
          CHECK(r.status / 100 == 2);
        }
      }
    }
  }

  TEST_CASE("the clock decides: the same token expires when the clock passes exp") {
    ManualClock clock;
    GraphService service(clocked(clock));
    const std::string token = jwt_bearer(R"({"scp":"Group.ReadWrite.All","exp":{exp}})", 10);
    CHECK(service.handle(with_header(post(), "Authorization", token)).status == 201);
    clock.tick(10);
    CHECK(service.handle(with_header(post(), "Authorization", token)).status == 401);
  }

  TEST_CASE("token checks come before the group and the body are looked at") {
    ManualClock clock;
    ServiceOptions options = clocked(clock);
    options.groups = {kGroup};
    GraphService service(options);
    const std::string app = jwt_bearer(R"({"roles":["Group.ReadWrite.All"],"exp":{exp}})");
    HttpRequest r = with_header(post("/v1.0/groups/nope/threads", "{"), "Authorization", app);
    r = with_header(r, "Content-Type", "text/plain");
    CHECK(service.handle(r).status == 403);
  }

  TEST_CASE("accepted_token still applies, and a JWT matching it is still checked") {
    const std::string expired = jwt_bearer(R"({"scp":"Group.ReadWrite.All","exp":{exp}})", -5);
    ManualClock clock;
    ServiceOptions options = clocked(clock);
    options.accepted_token = expired.substr(7);
    GraphService service(options);
    const HttpResponse wrong = service.handle(post());
    CHECK(wrong.status == 401);
    CHECK(message_of(wrong) == "Access token validation failure. Invalid audience.");
    const HttpResponse right = service.handle(with_header(post(), "Authorization", expired));
    CHECK(right.status == 401);
    CHECK(message_of(right) == "Lifetime validation failed, the token is expired.");
  }
}

namespace {

constexpr const char* kBatchPath = "/v1.0/$batch";

// One response of a $batch answer: its status and its text (the serialized response object).
struct BatchAnswer {
  std::string id;
  int status = 0;
  std::string text;
};

// The responses in the order they appear. The emulator writes each as {"id","status",...}, so
// the pattern cannot match inside a body (threads there have no "status").
std::vector<BatchAnswer> batch_answers(const HttpResponse& r) {
  static const std::regex kItem(R"re(\{"id":"([^"]*)","status":(\d+),)re");
  std::vector<BatchAnswer> out;
  std::vector<std::size_t> starts;
  for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), kItem);
       it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1], std::stoi((*it)[2]), {}});
    starts.push_back(static_cast<std::size_t>(it->position()));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : r.body.size();
    out[i].text = r.body.substr(starts[i], end - starts[i]);
  }
  return out;
}

// The thread ids in an answer's body.
std::vector<std::string> body_ids(const BatchAnswer& answer) {
  const auto body = answer.text.find(R"("body":)");
  return body == std::string::npos ? std::vector<std::string>{} : ids_in(answer.text.substr(body));
}

std::string create_item(const std::string& id, const std::string& group = kGroup,
                        const std::string& extra = {}) {
  return R"({"id":")" + id + R"(","method":"POST","url":"/groups/)" + group +
         R"(/threads","headers":{"Content-Type":"application/json"},"body":{"topic":"B)" + id +
         R"(","posts":[{"body":{"content":"x"}}]})" + extra + "}";
}

std::string get_item(const std::string& id, const std::string& url, const std::string& extra = {}) {
  return R"({"id":")" + id + R"(","method":"GET","url":")" + url + "\"" + extra + "}";
}

HttpRequest batch(const std::vector<std::string>& items) {
  std::string body = R"({"requests":[)";
  for (std::size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return post(kBatchPath, body + "]}");
}

}  // namespace

TEST_SUITE("emulator: $batch") {
  TEST_CASE("a batch answers 200 with each response: id, status, headers, body") {
    GraphService service({});
    const HttpResponse r = service.handle(with_header(
        batch({create_item("1"), get_item("2", "/groups/" + std::string(kGroup) + "/threads",
                                          R"(,"dependsOn":["1"])")}),
        "client-request-id", "outer"));
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type").starts_with("application/json"));
    CHECK(r.header("client-request-id") == "outer");
    CHECK(r.body.starts_with(R"({"responses":[{"id":"1","status":201,"headers":{"Content-Type":)"));
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 2);
    REQUIRE(service.threads().size() == 1);
    const std::string id = service.threads()[0].id;
    CHECK(answers[0].id == "1");
    CHECK(answers[0].status == 201);
    CHECK(answers[0].text.find(R"("Location":"https://127.0.0.1:8443/v1.0/groups(')") !=
          std::string::npos);
    CHECK(answers[0].text.find(R"("body":)" + service.threads()[0].json) != std::string::npos);
    CHECK(answers[1].id == "2");
    CHECK(answers[1].status == 200);
    CHECK(body_ids(answers[1]) == std::vector<std::string>{id});
  }

  TEST_CASE("dependsOn runs a request after its dependencies, answers keep request order") {
    GraphService service({});
    // "list" comes first but depends on "make", which comes last.
    const HttpResponse r = service.handle(batch(
        {get_item("list", "/groups/" + std::string(kGroup) + "/threads",
                  R"(,"dependsOn":["MAKE"])"),
         get_item("before", "/groups/" + std::string(kGroup) + "/threads"), create_item("make")}));
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 3);
    CHECK(answers[0].id == "list");
    CHECK(answers[1].id == "before");
    CHECK(answers[2].id == "make");
    REQUIRE(service.threads().size() == 1);
    CHECK(body_ids(answers[0]) == std::vector<std::string>{service.threads()[0].id});
    CHECK(body_ids(answers[1]).empty());  // ran before "make": nothing to list yet
  }

  TEST_CASE("a request whose dependency failed answers 424, transitively") {
    GraphService service({});
    const HttpResponse r = service.handle(batch(
        {create_item("bad", "not-a-guid"), create_item("child", kGroup, R"(,"dependsOn":["bad"])"),
         create_item("grandchild", kGroup, R"(,"dependsOn":["child"])"), create_item("free")}));
    REQUIRE(r.status == 200);
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 4);
    CHECK(answers[0].status == 400);
    CHECK(answers[0].text.find(R"("code":"ErrorInvalidIdMalformed")") != std::string::npos);
    CHECK(answers[1].status == 424);
    CHECK(
        answers[1].text.find(
            R"("code":"FailedDependency","message":"This request depends on request 'bad', which did not succeed.")") !=
        std::string::npos);
    CHECK(answers[2].status == 424);
    CHECK(answers[2].text.find("request 'child'") != std::string::npos);
    CHECK(answers[3].status == 201);
    CHECK(service.threads().size() == 1);
  }

  TEST_CASE("malformed batches are 400 as a whole, and nothing runs") {
    struct Case {
      std::string name;
      std::string body;
      std::string message;
    };
    std::vector<std::string> twenty_one;
    for (int i = 0; i < 21; ++i) twenty_one.push_back(create_item(std::to_string(i)));
    const std::string list = "/groups/" + std::string(kGroup) + "/threads";
    const std::vector<Case> cases = {
        {"21 requests", batch(twenty_one).body,
         "Invalid batch request: it has 21 requests; the limit is 20."},
        {"duplicate ids ignoring case", batch({create_item("a"), get_item("A", list)}).body,
         "Invalid batch request: requests[1].id 'A' is also the id of requests[0]; ids must be "
         "unique (ignoring case)."},
        {"no requests", R"({"reqs":[]})",
         "Invalid batch request: expected a JSON object {\"requests\": [...]}."},
        {"requests not an array", R"({"requests":{}})",
         "Invalid batch request: expected a JSON object {\"requests\": [...]}."},
        {"empty", R"({"requests":[]})", "Invalid batch request: \"requests\" is empty."},
        {"not an object", R"({"requests":[1]})",
         "Invalid batch request: requests[0] must be an object."},
        {"no id", R"({"requests":[{"method":"GET","url":"/x"}]})",
         "Invalid batch request: requests[0].id must be a non-empty string."},
        {"numeric id", R"({"requests":[{"id":1,"method":"GET","url":"/x"}]})",
         "Invalid batch request: requests[0].id must be a non-empty string."},
        {"no method", R"({"requests":[{"id":"1","url":"/x"}]})",
         "Invalid batch request: requests[0].method must be a non-empty string."},
        {"bad method", R"({"requests":[{"id":"1","method":"FETCH","url":"/x"}]})",
         "Invalid batch request: requests[0].method 'FETCH' is not supported."},
        {"no url", R"({"requests":[{"id":"1","method":"GET"}]})",
         "Invalid batch request: requests[0].url must be a non-empty string."},
        {"absolute url",
         R"({"requests":[{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/me"}]})",
         "Invalid batch request: requests[0].url must be relative, such as "
         "\"/groups/{id}/threads\"."},
        {"headers not an object",
         R"({"requests":[{"id":"1","method":"GET","url":"/x","headers":["a"]}]})",
         "Invalid batch request: requests[0].headers must be an object."},
        {"header not a string",
         R"({"requests":[{"id":"1","method":"GET","url":"/x","headers":{"a":1}}]})",
         "Invalid batch request: requests[0].headers.a must be a string."},
        {"unknown dependency", batch({get_item("1", list, R"(,"dependsOn":["9"])")}).body,
         "Invalid batch request: requests[0].dependsOn: \"9\" is not the id of a request in this "
         "batch."},
        {"dependsOn not an array", batch({get_item("1", list, R"(,"dependsOn":"2")")}).body,
         "Invalid batch request: requests[0].dependsOn must be an array of ids."},
        {"cycle",
         batch({get_item("1", list, R"(,"dependsOn":["2"])"),
                get_item("2", list, R"(,"dependsOn":["1"])")})
             .body,
         "Invalid batch request: dependsOn forms a cycle."},
        {"self", batch({create_item("1", kGroup, R"(,"dependsOn":["1"])")}).body,
         "Invalid batch request: dependsOn forms a cycle."},
    };
    for (const auto& c : cases) {
      INFO(c.name);
      GraphService service({});
      const HttpResponse r = service.handle(post(kBatchPath, c.body));
      CHECK(r.status == 400);
      check_envelope(r, "BadRequest");
      CHECK(message_of(r) == c.message);
      CHECK(service.threads().empty());
    }
  }

  TEST_CASE("20 requests are allowed") {
    std::vector<std::string> twenty;
    for (int i = 0; i < 20; ++i) twenty.push_back(create_item(std::to_string(i)));
    GraphService service({});
    const HttpResponse r = service.handle(batch(twenty));
    CHECK(r.status == 200);
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 20);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      CHECK(answers[i].id == std::to_string(i));
      CHECK(answers[i].status == 201);
    }
    CHECK(service.threads().size() == 20);
  }

  TEST_CASE("the batch request itself: token, media type, JSON") {
    GraphService service({});
    const HttpResponse no_token =
        service.handle(without_header(batch({create_item("1")}), "Authorization"));
    CHECK(no_token.status == 401);
    check_envelope(no_token, "InvalidAuthenticationToken");
    const HttpResponse media =
        service.handle(with_header(batch({create_item("1")}), "Content-Type", "text/plain"));
    CHECK(media.status == 415);
    check_envelope(media, "UnsupportedMediaType");
    const HttpResponse json = service.handle(post(kBatchPath, R"({"requests":[)"));
    CHECK(json.status == 400);
    CHECK(message_of(json).starts_with("Unable to read JSON request payload"));
    CHECK(service.threads().empty());
  }

  TEST_CASE("a request with a body but no Content-Type answers 400 alone") {
    GraphService service({});
    const std::string no_type =
        R"({"id":"1","method":"POST","url":"/groups/)" + std::string(kGroup) +
        R"(/threads","body":{"topic":"T","posts":[{"body":{"content":"x"}}]}})";
    const HttpResponse r = service.handle(batch({no_type, create_item("2")}));
    REQUIRE(r.status == 200);
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 2);
    CHECK(answers[0].status == 400);
    CHECK(
        answers[0].text.find(
            R"("message":"A request with a body must have a Content-Type header in its headers.")") !=
        std::string::npos);
    CHECK(answers[1].status == 201);
    CHECK(service.threads().size() == 1);
  }

  TEST_CASE("requests run with the batch's Authorization, whatever their own headers say") {
    GraphService service({.accepted_token = "outer-token", .groups = {}});
    const std::string list = "/groups/" + std::string(kGroup) + "/threads";
    HttpRequest r = batch({create_item("1", kGroup,
                                       R"(,"headers":{"Content-Type":"application/json",)"
                                       R"("Authorization":"Bearer inner-token"})"),
                           get_item("2", list, R"(,"headers":{"client-request-id":"item-2"})")});
    r = with_header(r, "Authorization", "Bearer outer-token");
    const auto answers = batch_answers(service.handle(r));
    REQUIRE(answers.size() == 2);
    CHECK(answers[0].status == 201);
    CHECK(answers[1].status == 200);
    CHECK(answers[1].text.find(R"("client-request-id":"item-2")") != std::string::npos);

    // An app-only outer token: the create inside is refused, the list allowed.
    GraphService open({});
    HttpRequest app = batch({create_item("1"), get_item("2", list)});
    app = with_header(app, "Authorization",
                      jwt_bearer(R"({"roles":["Group.ReadWrite.All"],"exp":9999999999})"));
    const auto app_answers = batch_answers(open.handle(app));
    REQUIRE(app_answers.size() == 2);
    CHECK(app_answers[0].status == 403);
    CHECK(app_answers[0].text.find(R"("code":"ErrorAccessDenied")") != std::string::npos);
    CHECK(app_answers[1].status == 200);
  }

  TEST_CASE("requests reach every endpoint, a string body is base64, a nested batch is 400") {
    GraphService service({});
    const std::string id = create(service);
    const std::string thread = "/groups/" + std::string(kGroup) + "/threads/" + encode_id(id);
    // {"isLocked":true} in base64
    const std::string lock = R"({"id":"lock","method":"PATCH","url":")" + thread +
                             R"(","headers":{"Content-Type":"application/json"},)"
                             R"("body":"eyJpc0xvY2tlZCI6dHJ1ZX0="})";
    const std::string reply = R"({"id":"reply","method":"POST","url":")" + thread +
                              R"(/reply","headers":{"Content-Type":"application/json"},)"
                              R"("body":{"post":{"body":{"content":"r"}}},"dependsOn":["lock"]})";
    const std::string nested = R"({"id":"nested","method":"POST","url":"/$batch",)"
                               R"("headers":{"Content-Type":"application/json"},)"
                               R"("body":{"requests":[]}})";
    const std::string bad64 = R"({"id":"bad64","method":"PATCH","url":")" + thread +
                              R"(","headers":{"Content-Type":"application/json"},"body":"*"})";
    const HttpResponse r = service.handle(
        batch({lock, reply, get_item("get", thread, R"(,"dependsOn":["reply"])"), nested, bad64,
               R"({"id":"del","method":"delete","url":")" + thread + R"(","dependsOn":["get"]})"}));
    const auto answers = batch_answers(r);
    REQUIRE(answers.size() == 6);
    CHECK(answers[0].status == 200);
    CHECK(answers[0].text.find(R"("body":{})") != std::string::npos);
    CHECK(answers[1].status == 423);  // locked by the request before
    CHECK(answers[2].status == 424);  // depends on the failed reply
    CHECK(answers[3].status == 400);
    CHECK(answers[3].text.find("A batch cannot contain a $batch request.") != std::string::npos);
    CHECK(answers[4].status == 400);
    CHECK(answers[5].status == 424);
    CHECK(answers[5].text.find("request 'get'") != std::string::npos);
    CHECK(service.threads().size() == 1);
    CHECK(service.store().find(kGroup, id)->is_locked);
  }

  TEST_CASE("/beta/$batch and an encoded %24batch work") {
    GraphService service({});
    for (const std::string path : {"/beta/$batch", "/v1.0/%24batch"}) {
      INFO(path);
      const HttpResponse r = service.handle(post(path, batch({create_item("1")}).body));
      CHECK(r.status == 200);
      const auto answers = batch_answers(r);
      REQUIRE(answers.size() == 1);
      CHECK(answers[0].status == 201);
    }
    CHECK(service.threads().size() == 2);
    CHECK(service.threads()[0].json.find("/beta/$metadata") != std::string::npos);
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
