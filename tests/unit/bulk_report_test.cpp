#include "gt/bulk_report.hpp"

#include <doctest/doctest.h>

#include "support/app_harness.hpp"
#include "support/temp_file.hpp"

using namespace std::chrono_literals;

TEST_SUITE("bulk report") {
  TEST_CASE("group_digits") {
    CHECK(gt::group_digits(0) == "0");
    CHECK(gt::group_digits(999) == "999");
    CHECK(gt::group_digits(1000) == "1,000");
    CHECK(gt::group_digits(1234567) == "1,234,567");
  }

  TEST_CASE("progress_line with a total: bar, count, rate, ETA, failures") {
    gt::BulkCounts c;
    c.created = 2500;
    c.failed = 2;
    c.throttled = 3;
    const std::string line = gt::progress_line(c, 10000, 5s, 100);
    // A quarter done: a quarter of the bar filled.
    const auto close = line.find(']');
    REQUIRE(close != std::string::npos);
    const auto filled = std::count(line.begin(), line.begin() + close, '#');
    CHECK(filled == static_cast<long>((close - 1) / 4));
    CHECK(line[1 + filled] == '>');
    CHECK(line.find("2,502/10,000") != std::string::npos);
    CHECK(line.find("500/s") != std::string::npos);
    CHECK(line.find("ETA 15s") != std::string::npos);
    CHECK(line.find("failed 2") != std::string::npos);
    CHECK(line.find("throttled 3") != std::string::npos);
    CHECK(line.size() <= 100);
    CHECK(line.find('\n') == std::string::npos);
  }

  TEST_CASE("progress_line without a total, and on a narrow terminal") {
    gt::BulkCounts c;
    c.created = 10;
    CHECK(gt::progress_line(c, std::nullopt, 2s, 80).rfind("10 done  5/s", 0) == 0);
    CHECK(gt::progress_line(c, 1000, 2s, 20).size() <= 40);
  }

  TEST_CASE("bulk_summary counts everything") {
    gt::BulkCounts c;
    c.created = 9998;
    c.failed = 1;
    c.unknown = 1;
    c.requests = 10012;
    c.throttled = 12;
    c.retries = 12;
    c.connections = 4;
    CHECK(gt::bulk_summary(c, 10s) ==
          "10,000 items: 9,998 created, 1 failed, 1 unknown, 0 skipped in 10.0 s (1,000/s); "
          "10,012 requests, 12 throttled, 12 retries, 4 connections");
    c.reconciled = 1;
    CHECK(gt::bulk_summary(c, 10s).find("reconcile: 1 found, 0 sent again") != std::string::npos);
  }
}

TEST_SUITE("bulk create (app)") {
  TEST_CASE("a progress bar on a terminal's stderr, none otherwise, results on stdout") {
    std::string input;
    for (int i = 0; i < 30; ++i) input += R"({"topic":"t)" + std::to_string(i) + R"("})" + "\n";
    gt::test::TempFile items(input, ".ndjson");
    for (bool tty : {true, false}) {
      CAPTURE(tty);
      gt::test::AppHarness h;
      h.err_is_tty = tty;
      h.sim_server = [](const gt::HttpRequest&, std::size_t n) {
        gt::test::SimReply r;
        r.latency = 50ms;
        r.response.status = 201;
        r.response.body = R"({"id":"sim-)" + std::to_string(n) + R"("})";
        return r;
      };
      const int code = h.run({"create", "--token", "t", "--group", "g", "--input", items.path(),
                              "--body", "same body for all", "--concurrency", "2"});
      CHECK(code == 0);
      const std::string out = h.out.str();
      CHECK(std::count(out.begin(), out.end(), '\n') == 30);
      CHECK(out.find(R"("outcome":"created")") != std::string::npos);
      const std::string err = h.err.str();
      CHECK((err.find("/30") != std::string::npos) == tty);
      CHECK((err.find('\r') != std::string::npos) == tty);
      CHECK(err.find("30 items: 30 created") != std::string::npos);
      // --body applied to every item.
      for (const auto& r : h.loop.records())
        CHECK(r.request.body.find("same body for all") != std::string::npos);
    }
  }

  TEST_CASE("an app-only or missing token stops the run before anything is read or sent") {
    gt::test::TempFile items("{\"topic\":\"a\"}\n{\"topic\":\"b\"}\n", ".ndjson");
    gt::test::AppHarness h;
    CHECK(h.run({"create", "--group", "g", "--input", items.path()}) == 3);
    CHECK(h.loop.records().empty());
    CHECK(h.out.str().empty());
  }

  TEST_CASE("one thread in a pretty-printed file is a single create, --bulk makes it a line") {
    gt::test::TempFile one(
        "{\n  \"topic\": \"T\",\n  \"posts\": [{\"body\": {\"content\": \"x\"}}]\n}\n", ".json");
    gt::test::AppHarness h;
    h.transport.respond(201, R"({"id":"single","topic":"T"})");
    CHECK(h.run({"create", "--token", "t", "--group", "g", "--input", one.path(), "-o", "id"}) ==
          0);
    CHECK(h.out.str() == "single\n");
    CHECK(h.loop.records().empty());

    gt::test::AppHarness b;
    CHECK(b.run({"create", "--token", "t", "--group", "g", "--input", one.path(), "--bulk"}) == 0);
    CHECK(b.out.str().find(R"({"index":0,"group":"g","outcome":"created")") == 0);
    CHECK(b.loop.records().size() == 1);
    CHECK(b.transport.requests.empty());
  }
}
