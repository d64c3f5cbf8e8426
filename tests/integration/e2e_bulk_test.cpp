// End-to-end tests of bulk creation: the real graph-threads binary against the emulator's server
// over loopback TLS. Each case asserts on the result lines, the exit code, and on what the server
// received and created — exactly once per item.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

#include "emulator/limits.hpp"
#include "emulator/server.hpp"
#include "support/subprocess.hpp"
#include "support/temp_file.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::test::TestPki;
namespace json = boost::json;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
constexpr const char* kOtherGroup = "7d3f2c1a-5b6e-4f70-8a9b-0c1d2e3f4a5b";
constexpr const char* kMissingGroup = "00000000-0000-4000-8000-000000000000";

struct Emulator {
  explicit Emulator(gt::emulator::ServiceOptions options = {},
                    gt::emulator::LimitOptions limit_options = {})
      : service(std::move(options)), limits(limit_options) {
    gt::emulator::ServerOptions so{.host = "127.0.0.1", .port = 0, .tls = TestPki::get().server};
    so.on_request = [this](const gt::emulator::RequestLog& log) {
      std::lock_guard lock(mu);
      handled.push_back({std::chrono::steady_clock::now(), log.status, log.method});
    };
    if (limit_options.any()) so.limits = &limits;
    server = std::make_unique<gt::emulator::Server>(so, service, faults);
    auto st = server->start();
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  }

  struct Handled {
    std::chrono::steady_clock::time_point at;
    int status;
    std::string method;
  };
  std::vector<Handled> handled_copy() {
    std::lock_guard lock(mu);
    return handled;
  }
  std::size_t posts() const {
    std::size_t n = 0;
    for (const auto& r : server->received()) n += r.method == "POST";
    return n;
  }
  // Threads per topic, to prove nothing was created twice.
  std::map<std::string, int> topics() const {
    std::map<std::string, int> out;
    for (const auto& t : service.threads()) ++out[t.request.topic.value_or("")];
    return out;
  }

  gt::emulator::GraphService service;
  gt::emulator::FaultPlan faults;
  gt::emulator::Limits limits;
  std::unique_ptr<gt::emulator::Server> server;
  std::mutex mu;
  std::vector<Handled> handled;
};

std::vector<std::string> cli(const Emulator& e, std::vector<std::string> extra) {
  std::vector<std::string> argv = {
      GT_CLI_PATH, "create",    "--base-url", e.server->url(),
      "--token",   "e2e-token", "--cacert",   TestPki::get().ca_file->path(),
      "--group",   kGroup,      "--input",    "-"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::string item(const std::string& topic) {
  return R"({"topic":")" + topic + R"(","posts":[{"body":{"content":"hello"}}]})";
}

std::string ndjson(std::size_t n, const std::string& prefix = "t") {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += item(prefix + std::to_string(i)) + "\n";
  return out;
}

gt::test::ProcessResult run(const std::vector<std::string>& argv, const std::string& in) {
  auto r = gt::test::run_process(argv, in, {}, 90s);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

std::vector<json::object> lines(const std::string& out) {
  std::vector<json::object> v;
  std::size_t start = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    REQUIRE(end != std::string::npos);  // every line is complete
    v.push_back(json::parse(out.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return v;
}

std::string outcome(const json::object& o) {
  return std::string(o.at("outcome").as_string());
}

// graph-threads in the background (for signals), reading `input` and writing `results`.
std::unique_ptr<gt::test::BackgroundProcess> start_bulk(const Emulator& e, const std::string& input,
                                                        const std::string& results,
                                                        const std::string& concurrency) {
  const std::string cmd =
      std::string("exec '") + GT_CLI_PATH + "' create --base-url " + e.server->url() +
      " --token t --cacert '" + TestPki::get().ca_file->path() + "' --group " + kGroup +
      " --concurrency " + concurrency + " --input '" + input + "' > '" + results + "'";
  auto p =
      std::make_unique<gt::test::BackgroundProcess>(std::vector<std::string>{"/bin/sh", "-c", cmd});
  REQUIRE(p->started());
  return p;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("e2e bulk: NDJSON in, one result line per item in input order, exit 0") {
  Emulator e;
  auto r = run(cli(e, {"--concurrency", "8"}), ndjson(200));
  CHECK(r.exit_code == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 200);
  const auto stored = e.service.threads();
  std::map<std::string, std::string> id_of_topic;
  for (const auto& t : stored) id_of_topic[t.request.topic.value_or("")] = t.id;
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].at("index").as_int64() == static_cast<std::int64_t>(i));
    CHECK(outcome(out[i]) == "created");
    CHECK(out[i].at("status").as_int64() == 201);
    CHECK(out[i].at("group").as_string() == kGroup);
    CHECK(out[i].at("id").as_string() == id_of_topic["t" + std::to_string(i)]);
  }
  CHECK(stored.size() == 200);
  CHECK(contains(r.err, "200 items: 200 created, 0 failed, 0 unknown, 0 skipped"));
  // The summary is the only thing on stderr when it is not a terminal: no progress bar.
  CHECK(r.err.find('\r') == std::string::npos);
}

TEST_CASE("e2e bulk: a JSON array, per-item groups, and malformed items as their own lines") {
  Emulator e;
  const std::string input = "[\n" + item("a") + ",\n" + R"({"group":")" + kOtherGroup +
                            R"(","thread":)" + item("b") + "},\n" + R"({"topic":"c","posts":7})" +
                            ",\n" + R"({"topic":""})" + ",\n" + item("e") + "\n]";
  auto r = run(cli(e, {}), input);
  CHECK(r.exit_code == 2);  // the worst item: invalid input
  const auto out = lines(r.out);
  REQUIRE(out.size() == 5);
  CHECK(outcome(out[0]) == "created");
  CHECK(outcome(out[1]) == "created");
  CHECK(out[1].at("group").as_string() == kOtherGroup);
  CHECK(outcome(out[2]) == "failed");
  CHECK(contains(std::string(out[2].at("error").at("message").as_string()), "item 2"));
  CHECK(contains(std::string(out[2].at("error").at("message").as_string()), "posts"));
  CHECK(outcome(out[3]) == "failed");
  CHECK(outcome(out[4]) == "created");
  CHECK(e.posts() == 3);
  const auto stored = e.service.threads();
  REQUIRE(stored.size() == 3);
  CHECK(stored[1].group_id == kOtherGroup);

  SUBCASE("NDJSON with a line that is not JSON") {
    auto n = run(cli(e, {}), item("x") + "\n{not json\n\n" + item("y") + "\n");
    CHECK(n.exit_code == 2);
    const auto o = lines(n.out);
    REQUIRE(o.size() == 3);
    CHECK(outcome(o[0]) == "created");
    CHECK(outcome(o[1]) == "failed");
    CHECK(contains(std::string(o[1].at("error").at("message").as_string()), "line 2"));
    CHECK(outcome(o[2]) == "created");
    CHECK(o[2].at("index").as_int64() == 2);
  }
}

TEST_CASE("e2e bulk: --validate-only checks everything and sends nothing") {
  Emulator e;
  auto r = run(cli(e, {"--validate-only"}), ndjson(3) + R"({"topic":"x","posts":[]})" + "\n");
  CHECK(r.exit_code == 2);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].at("index").as_int64() == 3);
  CHECK(contains(r.err, "4 items"));
  CHECK(contains(r.err, "3 valid, 1 invalid; nothing was sent"));
  CHECK(e.server->received().empty());

  auto ok = run(cli(e, {"--validate-only"}), ndjson(3));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.empty());
}

TEST_CASE("e2e bulk: never more requests in flight than --concurrency") {
  // Each request is held 200 ms, so the three connections' requests overlap even on a busy machine.
  Emulator e({}, {.latency = 200ms});
  auto r = run(cli(e, {"--concurrency", "3"}), ndjson(15));
  CHECK(r.exit_code == 0);
  CHECK(e.server->peak_in_flight() == 3);
  CHECK(e.service.threads().size() == 15);
}

TEST_CASE("e2e bulk: a 429 pauses every worker for its Retry-After, each item created once") {
  Emulator e;
  e.faults.script(5, Fault{.kind = FaultKind::kStatus, .status = 429, .retry_after = "1"});
  auto r = run(cli(e, {"--concurrency", "4"}), ndjson(40));
  CHECK(r.exit_code == 0);
  for (const auto& [topic, n] : e.topics()) CHECK_MESSAGE(n == 1, topic);
  CHECK(e.service.threads().size() == 40);
  CHECK(contains(r.err, "1 throttled"));
  const auto handled = e.handled_copy();
  auto throttled =
      std::find_if(handled.begin(), handled.end(), [](const auto& h) { return h.status == 429; });
  REQUIRE(throttled != handled.end());
  // Within the Retry-After only what was already on its way is answered: the 3 others in flight,
  // and the few the client may have sent on their answers before the 429 reached it. Without the
  // shared pause the other workers would go on: hundreds in 900 ms.
  std::size_t during = 0;
  for (const auto& h : handled) {
    if (h.at > throttled->at && h.at < throttled->at + 900ms) ++during;
  }
  CHECK(during <= 8);
}

TEST_CASE("e2e bulk: written without an answer is unknown, not sent again, exit 5") {
  Emulator e;
  e.faults.script(2, Fault{.kind = FaultKind::kDropAfterRead});
  auto r = run(cli(e, {"--concurrency", "1"}), ndjson(3));
  CHECK(r.exit_code == 5);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(outcome(out[0]) == "created");
  CHECK(outcome(out[1]) == "unknown");
  CHECK(contains(std::string(out[1].at("error").at("message").as_string()), "outcome unknown"));
  CHECK_FALSE(out[1].at("error").at("clientRequestId").as_string().empty());
  CHECK(outcome(out[2]) == "created");
  CHECK(e.posts() == 3);
  CHECK(e.service.threads().size() == 3);  // the lost answer's thread exists
  CHECK(contains(r.err, "unknown outcome"));
}

TEST_CASE("e2e bulk: --reconcile finds the thread whose answer was lost") {
  Emulator e;
  e.faults.script(2, Fault{.kind = FaultKind::kDropAfterRead});
  auto r =
      run(cli(e, {"--concurrency", "1", "--reconcile", "--reconcile-delay", "0.2"}), ndjson(3));
  CHECK(r.exit_code == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 3);
  CHECK(outcome(out[1]) == "created");
  CHECK(out[1].at("reconciled").as_bool());
  CHECK(out[1].at("id").as_string() == e.service.threads()[1].id);
  CHECK(e.posts() == 3);
  CHECK(e.service.threads().size() == 3);
  CHECK(contains(r.err, "reconcile: 1 found, 0 sent again"));
}

TEST_CASE("e2e bulk: --reconcile sends once more what it cannot find, and says so") {
  Emulator e;
  // The connection is closed after the request was read but before it reached the service: the
  // client cannot tell this from a lost answer.
  e.faults.script(1, Fault{.kind = FaultKind::kStall});
  auto r = run(
      cli(e, {"--concurrency", "1", "--reconcile", "--reconcile-delay", "0.1", "--timeout", "1"}),
      ndjson(1));
  CHECK(r.exit_code == 0);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(outcome(out[0]) == "created");
  CHECK(out[0].at("resent").as_bool());
  CHECK(e.service.threads().size() == 1);
  CHECK(e.posts() == 2);
}

TEST_CASE("e2e bulk: --batch packs creates, per-item statuses come back in the lines") {
  Emulator e(gt::emulator::ServiceOptions{.groups = {kGroup, kOtherGroup}});
  std::string input;
  for (int i = 0; i < 25; ++i) {
    const char* group = i == 3 ? kMissingGroup : (i % 2 ? kOtherGroup : kGroup);
    input += R"({"group":")" + std::string(group) + R"(","thread":)" +
             item("b" + std::to_string(i)) + "}\n";
  }
  auto r = run(cli(e, {"--batch"}), input);
  CHECK(r.exit_code == 1);
  const auto out = lines(r.out);
  REQUIRE(out.size() == 25);
  for (int i = 0; i < 25; ++i) {
    CAPTURE(i);
    CHECK(outcome(out[i]) == (i == 3 ? "failed" : "created"));
  }
  CHECK(out[3].at("status").as_int64() == 404);
  const auto got = e.server->received();
  REQUIRE(got.size() == 2);  // 20 + 5
  CHECK(got[0].target == "/v1.0/$batch");
  CHECK(e.service.threads().size() == 24);
}

TEST_CASE("e2e bulk: Ctrl-C finishes what is in flight, exits 130, --resume does the rest") {
  Emulator e({}, {.latency = 100ms});
  gt::test::TempFile input(ndjson(60), ".ndjson");
  gt::test::TempFile results("", ".ndjson");
  auto bg = start_bulk(e, input.path(), results.path(), "2");
  auto& p = *bg;
  // Wait until some items are done, then interrupt once.
  for (int i = 0; i < 500 && e.service.threads().size() < 6; ++i) std::this_thread::sleep_for(20ms);
  p.send_signal(SIGINT);
  const auto code = p.wait(30s);
  REQUIRE(code);
  CHECK(*code == 130);
  const std::string first_text = gt::test::run_process({"/bin/cat", results.path()}).out;
  const auto first = lines(first_text);
  CHECK(first.size() < 60);
  CHECK(first.size() >= 6);
  // Everything that was sent finished and was reported: the server has exactly these threads.
  std::size_t created = 0;
  for (const auto& o : first) created += outcome(o) == "created";
  CHECK(created == first.size());
  CHECK(e.service.threads().size() == created);
  CHECK(contains(p.stderr_text(), "stopping"));

  auto rest = run({GT_CLI_PATH, "create", "--base-url", e.server->url(), "--token", "t", "--cacert",
                   TestPki::get().ca_file->path(), "--group", kGroup, "--input", input.path(),
                   "--resume", results.path(), "--concurrency", "4"},
                  "");
  CHECK(rest.exit_code == 0);
  const auto second = lines(rest.out);
  REQUIRE(second.size() == 60);
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < second.size(); ++i) {
    if (i < first.size()) {
      CHECK(outcome(second[i]) == "skipped");
      CHECK(second[i].at("id") == first[i].at("id"));
      ++skipped;
    } else {
      CHECK(outcome(second[i]) == "created");
    }
  }
  CHECK(skipped == first.size());
  CHECK(e.service.threads().size() == 60);
  for (const auto& [topic, n] : e.topics()) CHECK_MESSAGE(n == 1, topic);
}

TEST_CASE("e2e bulk: a second Ctrl-C ends the requests in flight at once as unknown") {
  Emulator e;
  for (int i = 1; i <= 4; ++i) e.faults.script(i, Fault{.kind = FaultKind::kStall});
  gt::test::TempFile input(ndjson(10), ".ndjson");
  gt::test::TempFile results("", ".ndjson");
  auto bg = start_bulk(e, input.path(), results.path(), "4");
  auto& p = *bg;
  for (int i = 0; i < 1000 && e.server->received().size() < 4; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(e.server->received().size() == 4);
  p.send_signal(SIGINT);
  std::this_thread::sleep_for(300ms);
  p.send_signal(SIGINT);
  const auto code = p.wait(10s);
  REQUIRE(code);
  CHECK(*code == 130);
  const auto out = lines(gt::test::run_process({"/bin/cat", results.path()}).out);
  REQUIRE(out.size() == 4);
  for (const auto& o : out) CHECK(outcome(o) == "unknown");
}
