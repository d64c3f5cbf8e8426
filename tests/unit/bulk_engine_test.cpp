#include "gt/bulk_engine.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "gt/clock.hpp"
#include "support/sim_loop.hpp"

using namespace std::chrono_literals;
using gt::Outcome;
using gt::test::SimLoop;
using gt::test::SimReply;

namespace {

namespace json = boost::json;

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

std::string body_for(std::size_t i) {
  return R"({"topic":"t)" + std::to_string(i) +
         R"(","posts":[{"body":{"contentType":"text","content":"x"}}]})";
}

std::string topic_of(const gt::HttpRequest& r) {
  json::value v = json::parse(r.body);
  return std::string(v.at("topic").as_string());
}

gt::HttpResponse answer(int status, std::string body = {}, std::vector<gt::Header> headers = {}) {
  gt::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

SimReply created(const std::string& id, std::chrono::milliseconds latency = 10ms) {
  SimReply s;
  s.latency = latency;
  s.response = answer(201, R"({"id":")" + id + R"(","topic":"x"})");
  return s;
}

SimReply status(int code, std::vector<gt::Header> headers = {}) {
  SimReply s;
  s.response = answer(code, R"({"error":{"code":"E","message":"m"}})", std::move(headers));
  return s;
}

SimReply dropped_after_write() {
  SimReply s;
  s.ok = false;
  s.error =
      gt::TransportError{gt::TransportFailure::kConnectionLost, true, 0, "connection lost", ""};
  return s;
}

SimReply refused() {
  SimReply s;
  s.ok = false;
  s.error =
      gt::TransportError{gt::TransportFailure::kConnectRefused, false, 0, "connection refused", ""};
  return s;
}

// A run over `n` generated items (or given ones), recording results and what the source saw.
struct Run {
  explicit Run(SimLoop::Server server) : loop(std::move(server)) {}

  SimLoop loop;
  gt::BulkOptions options{
      .graph = {.base = *gt::parse_base_url("https://graph.microsoft.com", "test"),
                .api_version = "v1.0"},
      .retry = gt::RetryPolicy{.max_retries = 3, .base_delay = 1000ms},
  };
  std::vector<gt::BulkWork> items;
  std::vector<gt::ItemResult> results;
  std::size_t pulled = 0;
  std::size_t most_held = 0;  // pulled but not yet emitted, at most
  std::function<void(gt::BulkEngine&, const gt::BulkCounts&)> on_tick;
  std::unique_ptr<gt::BulkEngine> engine;
  int ids = 0;
  std::chrono::system_clock::time_point wall0 =
      std::chrono::system_clock::from_time_t(1'800'000'000);

  void generate(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      items.push_back({.index = i,
                       .group = kGroup,
                       .topic = "t" + std::to_string(i),
                       .body_json = body_for(i)});
    }
  }

  std::chrono::system_clock::time_point wall() const {
    return wall0 + std::chrono::duration_cast<std::chrono::system_clock::duration>(loop.now() -
                                                                                   loop.epoch());
  }

  void go() {
    engine = std::make_unique<gt::BulkEngine>(
        gt::BulkDeps{
            .loop = loop,
            .next = [this]() -> std::optional<gt::BulkWork> {
              if (pulled == items.size()) return std::nullopt;
              most_held = std::max(most_held, pulled + 1 - results.size());
              return items[pulled++];
            },
            .emit = [this](const gt::ItemResult& r) { results.push_back(r); },
            .bearer = []() -> gt::Result<std::string> { return std::string("tok"); },
            .new_request_id = [this] { return "crid-" + std::to_string(ids++); },
            .jitter = [] { return 0.0; },
            .wall_now = [this] { return wall(); },
            .on_tick =
                [this](const gt::BulkCounts& c) {
                  if (on_tick) on_tick(*engine, c);
                },
        },
        options);
    engine->run();
  }

  std::size_t posts_of(const std::string& topic) const {
    std::size_t n = 0;
    for (const auto& r : loop.records()) {
      if (r.request.method == "POST" && r.request.target.ends_with("/threads") &&
          topic_of(r.request) == topic) {
        ++n;
      }
    }
    return n;
  }
};

}  // namespace

TEST_SUITE("bulk engine") {
  TEST_CASE("results come out in input order, whatever order the answers arrive in") {
    Run run([](const gt::HttpRequest& r, std::size_t) {
      const int i = std::stoi(topic_of(r).substr(1));
      return created("id-" + std::to_string(i), std::chrono::milliseconds(200 - 10 * i));
    });
    run.options.concurrency = 8;
    run.generate(20);
    run.go();
    REQUIRE(run.results.size() == 20);
    for (std::size_t i = 0; i < 20; ++i) {
      CHECK(run.results[i].index == i);
      CHECK(run.results[i].outcome == Outcome::kCreated);
      CHECK(run.results[i].id == "id-" + std::to_string(i));
      CHECK(run.results[i].status == 201);
      CHECK(run.results[i].group == kGroup);
    }
    CHECK(run.engine->counts().created == 20);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 0);
  }

  TEST_CASE("never more requests in flight than --concurrency, and the slots stay full") {
    for (std::size_t n : {1u, 4u, 16u}) {
      Run run([](const gt::HttpRequest&, std::size_t k) {
        return created("id" + std::to_string(k), 100ms);
      });
      run.options.concurrency = n;
      run.generate(64);
      run.go();
      CAPTURE(n);
      CHECK(run.loop.peak_in_flight() == n);
      CHECK(run.results.size() == 64);
      // 64 items at 100 ms each over n slots: exactly 64/n rounds of virtual time.
      CHECK(run.loop.elapsed() == std::chrono::milliseconds(100 * ((64 + n - 1) / n)));
    }
  }

  TEST_CASE("a 429 pauses every worker for its Retry-After, then each item is sent again") {
    Run run([](const gt::HttpRequest&, std::size_t k) {
      if (k == 5) return status(429, {{"Retry-After", "2"}});
      return created("id" + std::to_string(k), 100ms);
    });
    run.options.concurrency = 4;
    run.generate(12);
    run.go();
    REQUIRE(run.results.size() == 12);
    for (const auto& r : run.results) CHECK(r.outcome == Outcome::kCreated);
    const auto& rec = run.loop.records();
    const auto throttled_at = rec[5].finished;
    // Nothing started between the 429 and the end of its Retry-After, by any worker.
    for (const auto& r : rec) {
      CHECK_FALSE((r.started > throttled_at && r.started < throttled_at + 2s));
    }
    CHECK(run.engine->counts().throttled == 1);
    CHECK(run.engine->counts().retries == 1);
    for (std::size_t i = 0; i < 12; ++i) CHECK(run.posts_of("t" + std::to_string(i)) >= 1);
    CHECK(rec.size() == 13);
  }

  TEST_CASE("a 429 storm: every item is created exactly once, the shared pause keeps 429s few") {
    // The server refuses everything for the first 3 s of virtual time.
    SimLoop* loop = nullptr;
    Run run([&](const gt::HttpRequest&, std::size_t k) {
      if (loop->elapsed() < 3s) return status(429, {{"Retry-After", "1"}});
      return created("id" + std::to_string(k), 50ms);
    });
    loop = &run.loop;
    run.options.concurrency = 4;
    run.options.retry.max_retries = 10;
    run.generate(40);
    run.go();
    REQUIRE(run.results.size() == 40);
    for (std::size_t i = 0; i < 40; ++i) {
      CHECK(run.results[i].outcome == Outcome::kCreated);
      CHECK(run.posts_of("t" + std::to_string(i)) >= 1);
    }
    // Without a shared pause each of 4 workers would keep hitting the wall every second; with it,
    // each pause is met by at most the 4 requests already in flight.
    CHECK(run.engine->counts().throttled <= 4 * 3);
  }

  TEST_CASE("more concurrency than the service admits: it adapts after a few 429s") {
    // Outlook-like: 4 in flight per app, 100 ms each; more get 429 with Retry-After 1.
    SimLoop* loop = nullptr;
    Run run([&](const gt::HttpRequest&, std::size_t k) {
      if (loop->in_flight() >= 4) {
        SimReply s = status(429, {{"Retry-After", "1"}});
        s.latency = 1ms;
        return s;
      }
      return created("id" + std::to_string(k), 100ms);
    });
    loop = &run.loop;
    run.options.concurrency = 8;
    run.generate(100);
    run.go();
    REQUIRE(run.results.size() == 100);
    for (const auto& r : run.results) CHECK(r.outcome == Outcome::kCreated);
    CHECK(run.engine->counts().throttled == 4);
    // 100 x 100 ms over 4 slots is 2.5 s; the four 429s cost one shared 1 s pause.
    CHECK(run.loop.elapsed() <= 3700ms);
  }

  TEST_CASE("throttled beyond --retries: failed with Graph's status, exit 1") {
    Run run([](const gt::HttpRequest&, std::size_t) {
      return status(429, {{"Retry-After", "1"}});
    });
    run.options.retry.max_retries = 2;
    run.generate(3);
    run.go();
    REQUIRE(run.results.size() == 3);
    for (const auto& r : run.results) {
      CHECK(r.outcome == Outcome::kFailed);
      CHECK(r.status == 429);
      CHECK(r.attempts == 3);
      CHECK(r.error.code == "E");
    }
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 1);
  }

  TEST_CASE("written without an answer: unknown, never sent again, others go on") {
    Run run([](const gt::HttpRequest& r, std::size_t k) {
      if (topic_of(r) == "t3") return dropped_after_write();
      return created("id" + std::to_string(k));
    });
    run.generate(8);
    run.go();
    REQUIRE(run.results.size() == 8);
    CHECK(run.results[3].outcome == Outcome::kUnknown);
    CHECK(run.results[3].error.message.find("outcome unknown") != std::string::npos);
    CHECK_FALSE(run.results[3].error.client_request_id.empty());
    CHECK(run.posts_of("t3") == 1);
    CHECK(run.results[4].outcome == Outcome::kCreated);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 5);
  }

  TEST_CASE("a 504 is unknown too, and not sent again") {
    Run run([](const gt::HttpRequest&, std::size_t) { return status(504); });
    run.generate(1);
    run.go();
    CHECK(run.results.at(0).outcome == Outcome::kUnknown);
    CHECK(run.loop.records().size() == 1);
  }

  TEST_CASE("nothing written (connection refused): retried, then created") {
    Run run([](const gt::HttpRequest&, std::size_t k) {
      if (k < 2) return refused();
      return created("id" + std::to_string(k));
    });
    run.generate(1);
    run.go();
    CHECK(run.results.at(0).outcome == Outcome::kCreated);
    CHECK(run.results.at(0).attempts == 3);
  }

  TEST_CASE("a Graph error fails that item only, the worst code is the exit code") {
    Run run([](const gt::HttpRequest& r, std::size_t k) {
      if (topic_of(r) == "t1") return status(400);
      if (topic_of(r) == "t2") return status(403);
      return created("id" + std::to_string(k));
    });
    run.generate(4);
    run.go();
    CHECK(run.results[1].outcome == Outcome::kFailed);
    CHECK(run.results[1].status == 400);
    CHECK(run.results[2].status == 403);
    CHECK(run.results[3].outcome == Outcome::kCreated);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 3);
  }

  TEST_CASE("a 401 stops the run: the rest of the input is not read or sent") {
    Run run([](const gt::HttpRequest&, std::size_t) { return status(401); });
    run.options.concurrency = 2;
    run.generate(100);
    run.go();
    CHECK(run.results.size() == 2);
    CHECK(run.pulled == 2);
    CHECK(run.engine->stop_reason().find("401") != std::string::npos);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 3);
  }

  TEST_CASE("items handed in as failed or skipped keep their place") {
    Run run([](const gt::HttpRequest&, std::size_t k) {
      return created("id" + std::to_string(k), 50ms);
    });
    run.generate(5);
    gt::ItemResult bad;
    bad.outcome = Outcome::kFailed;
    bad.error.kind = gt::ErrorKind::kUsage;
    bad.error.message = "item 1 (line 2): not JSON";
    run.items[1].ready = bad;
    gt::ItemResult skipped;
    skipped.outcome = Outcome::kSkipped;
    skipped.id = "earlier";
    run.items[3].ready = skipped;
    run.go();
    REQUIRE(run.results.size() == 5);
    CHECK(run.results[1].outcome == Outcome::kFailed);
    CHECK(run.results[1].index == 1);
    CHECK(run.results[3].outcome == Outcome::kSkipped);
    CHECK(run.results[3].id == "earlier");
    CHECK(run.loop.records().size() == 3);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 2);
  }

  TEST_CASE("--max-rate paces creates ahead of time") {
    Run run([](const gt::HttpRequest&, std::size_t k) {
      return created("id" + std::to_string(k), 10ms);
    });
    run.options.concurrency = 10;
    run.options.max_rate = 5;  // one every 200 ms
    run.generate(10);
    run.go();
    const auto& rec = run.loop.records();
    REQUIRE(rec.size() == 10);
    for (std::size_t i = 1; i < rec.size(); ++i) {
      CHECK(rec[i].started - rec[i - 1].started == 200ms);
    }
  }

  TEST_CASE("memory: items held at once are bounded by the window, not the input") {
    // The first item is slow, so everything after it waits in the reorder buffer.
    Run run([](const gt::HttpRequest& r, std::size_t k) {
      return created("id" + std::to_string(k), topic_of(r) == "t0" ? 60s : 1ms);
    });
    run.options.concurrency = 4;
    run.options.reorder_window = 100;
    run.generate(5000);
    run.go();
    CHECK(run.results.size() == 5000);
    CHECK(run.most_held <= 100);
  }

  TEST_CASE("--batch: up to 20 creates per request, per-item statuses, 429s retried alone") {
    // Parts answer by topic: t1 400, t2 429 (Retry-After 1), t4 404, others 201.
    Run run([](const gt::HttpRequest& r, std::size_t k) {
      if (!r.target.ends_with("$batch")) return created("single" + std::to_string(k));
      json::array responses;
      const json::value batch = json::parse(r.body);
      for (const auto& part : batch.at("requests").as_array()) {
        const std::string id(part.at("id").as_string());
        const std::string topic(part.at("body").at("topic").as_string());
        json::object o{{"id", id}};
        if (topic == "t1") {
          o["status"] = 400;
          o["body"] = json::parse(R"({"error":{"code":"BadRequest","message":"no"}})");
        } else if (topic == "t2") {
          o["status"] = 429;
          o["headers"] = json::object{{"Retry-After", "1"}};
        } else if (topic == "t4") {
          o["status"] = 404;
        } else {
          o["status"] = 201;
          o["body"] = json::object{{"id", "b-" + topic}};
        }
        responses.insert(responses.begin(), o);  // Graph may answer in any order
      }
      SimReply s;
      s.response = answer(200, json::serialize(json::object{{"responses", responses}}));
      return s;
    });
    run.options.batch = true;
    run.options.concurrency = 1;
    run.generate(25);
    run.go();
    REQUIRE(run.results.size() == 25);
    const auto& rec = run.loop.records();
    // A batch of 20; after the shared pause, t2 alone (retries go first), then a batch of 5.
    REQUIRE(rec.size() == 3);
    CHECK(json::parse(rec[0].request.body).at("requests").as_array().size() == 20);
    CHECK(rec[0].request.target == "/v1.0/$batch");
    CHECK(rec[1].request.target.ends_with("/threads"));
    CHECK(topic_of(rec[1].request) == "t2");
    CHECK(rec[1].started >= rec[0].finished + 1s);
    CHECK(rec[2].request.target == "/v1.0/$batch");
    CHECK(json::parse(rec[2].request.body).at("requests").as_array().size() == 5);
    CHECK(run.results[0].outcome == Outcome::kCreated);
    CHECK(run.results[0].id == "b-t0");
    CHECK(run.results[1].outcome == Outcome::kFailed);
    CHECK(run.results[1].status == 400);
    CHECK(run.results[1].error.code == "BadRequest");
    CHECK(run.results[2].outcome == Outcome::kCreated);
    CHECK(run.results[2].id == "single1");
    CHECK(run.results[2].attempts == 2);
    CHECK(run.results[4].status == 404);
    CHECK(run.results[24].id == "b-t24");
  }

  TEST_CASE("--batch: a batch written without an answer makes every part unknown") {
    Run run([](const gt::HttpRequest&, std::size_t) { return dropped_after_write(); });
    run.options.batch = true;
    run.generate(3);
    run.go();
    for (const auto& r : run.results) CHECK(r.outcome == Outcome::kUnknown);
    CHECK(run.loop.records().size() == 1);
  }

  TEST_CASE("--reconcile: an unknown found among the group's threads is created, not resent") {
    // t1's create is lost on the way back, but the thread exists; the list shows it.
    Run* self = nullptr;
    Run run([&](const gt::HttpRequest& r, std::size_t k) {
      if (r.method == "GET") {
        SimReply s;
        const std::string when = gt::utc_timestamp(self->wall());
        s.response =
            answer(200, R"({"value":[{"id":"other","topic":"t1","lastDeliveredDateTime":")" +
                            gt::utc_timestamp(self->wall0 - 3600s) +
                            R"("},{"id":"found-t1","topic":"t1","lastDeliveredDateTime":")" + when +
                            R"("}]})");
        return s;
      }
      if (topic_of(r) == "t1") return dropped_after_write();
      return created("id" + std::to_string(k));
    });
    self = &run;
    run.options.reconcile = true;
    run.generate(3);
    run.go();
    REQUIRE(run.results.size() == 3);
    CHECK(run.results[1].outcome == Outcome::kCreated);
    CHECK(run.results[1].id == "found-t1");
    CHECK(run.results[1].reconciled);
    CHECK_FALSE(run.results[1].resent);
    CHECK(run.posts_of("t1") == 1);
    CHECK(run.engine->counts().reconciled == 1);
    CHECK(gt::bulk_exit_code(run.engine->counts(), false) == 0);
  }

  TEST_CASE("--reconcile: not found after the bounded wait, sent once more, and says so") {
    Run run([&](const gt::HttpRequest& r, std::size_t k) {
      if (r.method == "GET") {
        SimReply s;
        s.response = answer(200, R"({"value":[]})");
        return s;
      }
      if (topic_of(r) == "t0" && k == 0) return dropped_after_write();
      return created("id" + std::to_string(k));
    });
    run.options.reconcile = true;
    run.options.reconcile_looks = 3;
    run.generate(1);
    run.go();
    CHECK(run.results.at(0).outcome == Outcome::kCreated);
    CHECK(run.results.at(0).resent);
    CHECK_FALSE(run.results.at(0).reconciled);
    CHECK(run.posts_of("t0") == 2);
    std::size_t lists = 0;
    for (const auto& r : run.loop.records()) lists += r.request.method == "GET";
    CHECK(lists == 3);
    // 2 s, 4 s and 8 s between the looks: bounded, and spread out.
    CHECK(run.loop.elapsed() >= 14s);
  }

  TEST_CASE("--reconcile: a resent item that is lost again stays unknown") {
    Run run([&](const gt::HttpRequest& r, std::size_t) {
      if (r.method == "GET") {
        SimReply s;
        s.response = answer(200, R"({"value":[]})");
        return s;
      }
      return dropped_after_write();
    });
    run.options.reconcile = true;
    run.generate(1);
    run.go();
    CHECK(run.results.at(0).outcome == Outcome::kUnknown);
    CHECK(run.results.at(0).resent);
    CHECK(run.posts_of("t0") == 2);
  }

  TEST_CASE("stop(): no new items, the ones in flight finish, waiting retries are not sent") {
    Run run([](const gt::HttpRequest&, std::size_t k) {
      if (k == 0) return status(503, {{"Retry-After", "5"}});
      return created("id" + std::to_string(k), 1s);
    });
    run.options.concurrency = 4;
    run.generate(100);
    run.on_tick = [&](gt::BulkEngine& e, const gt::BulkCounts&) {
      if (run.loop.elapsed() >= 500ms && !e.stopping()) e.stop();
    };
    run.go();
    // Item 0 got 503 at 10 ms (latency default) and waits; items 1-3 were in flight.
    REQUIRE(run.results.size() == 4);
    CHECK(run.results[0].outcome == Outcome::kFailed);
    CHECK(run.results[0].error.message.find("interrupted") != std::string::npos);
    for (std::size_t i = 1; i < 4; ++i) CHECK(run.results[i].outcome == Outcome::kCreated);
    CHECK(run.pulled == 4);
    CHECK(gt::bulk_exit_code(run.engine->counts(), true) == 130);
  }

  TEST_CASE("abort(): the ones in flight end at once as unknown") {
    Run run([](const gt::HttpRequest&, std::size_t) {
      SimReply s;
      s.stall = true;
      return s;
    });
    run.options.concurrency = 3;
    run.options.request_timeout = 600s;
    run.generate(10);
    run.on_tick = [&](gt::BulkEngine& e, const gt::BulkCounts&) {
      if (run.loop.elapsed() >= 1s) e.abort();
    };
    run.go();
    REQUIRE(run.results.size() == 3);
    for (const auto& r : run.results) CHECK(r.outcome == Outcome::kUnknown);
    CHECK(run.loop.elapsed() < 2s);
  }
}
