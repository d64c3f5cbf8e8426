// Integration tests of BeastExchangeLoop (many exchanges on one io_context, a keep-alive pool per
// origin) against the emulator's Beast server over loopback TLS with a test CA, and of the
// emulator's peak_in_flight(), which the concurrency tests rely on.
//
// Nothing here asserts on speed: waits are bounded by generous deadlines, and "requests held at
// once" is made deterministic with stall faults (a stalled request stays in flight on the server
// until the client leaves).
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <thread>

#include "emulator/server.hpp"
#include "gt/beast_exchange_loop.hpp"
#include "gt/beast_transport.hpp"
#include "support/live_server.hpp"
#include "support/net.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::TransportFailure;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::test::TestPki;

namespace {

using gt::test::LiveServer;
constexpr const char* kThread = gt::test::kLiveThread;

gt::HttpRequest create_request(std::uint16_t port, std::string scheme = "https") {
  return gt::test::live_create_request(port, "127.0.0.1", std::move(scheme), "crid-loop");
}

gt::HttpRequest create_request(const LiveServer& s) {
  return create_request(s.server.port());
}

std::unique_ptr<gt::BeastExchangeLoop> make_loop(
    std::string cacert = TestPki::get().ca_file->path()) {
  auto loop = gt::BeastExchangeLoop::create({.cacert_file = std::move(cacert)});
  REQUIRE_MESSAGE(loop.ok(), (loop.ok() ? "" : loop.error().message));
  return std::move(loop).value();
}

// Where one exchange's result lands; checks that `done` is called exactly once.
struct Outcome {
  int calls = 0;
  gt::Exchange e;
};

gt::ExchangeLoop::Done record_into(Outcome& out) {
  return [&out](gt::Exchange e) {
    ++out.calls;
    out.e = std::move(e);
  };
}

// Runs one exchange, started alone, until the loop is idle again.
Outcome run_exchange(gt::BeastExchangeLoop& loop, const gt::HttpRequest& request,
                     std::chrono::milliseconds budget) {
  Outcome o;
  loop.start(request, loop.now() + budget, record_into(o));
  loop.run();
  return o;
}

// The checks every fault case makes of the exchange it failed.
void check_failed(const Outcome& failed, TransportFailure failure, bool written) {
  REQUIRE(failed.calls == 1);
  CHECK_FALSE(failed.e.ok);
  CHECK(failed.e.error.failure == failure);
  CHECK(failed.e.error.request_bytes_written == written);
  CHECK_FALSE(failed.e.error.message.empty());
}

// After one failed connection: the next exchange succeeds, on the second connection opened.
void check_recovers(gt::BeastExchangeLoop& loop, LiveServer& s) {
  const Outcome next = run_exchange(loop, create_request(s), std::chrono::seconds(30));
  REQUIRE(next.calls == 1);
  CHECK_MESSAGE(next.e.ok, next.e.error.message);
  CHECK(loop.connections_opened() == 2);
}

// Polls `ready` every 5 ms on the loop's own timers, then runs `then` — or runs it anyway once
// `limit` has passed, so a broken loop fails the test's checks instead of hanging.
void when(gt::ExchangeLoop& loop, std::function<bool()> ready, std::function<void()> then,
          std::chrono::seconds limit = 30s) {
  const auto give_up = loop.now() + limit;
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [&loop, ready = std::move(ready), then = std::move(then), give_up, poll]() mutable {
    if (ready() || loop.now() >= give_up) {
      then();
      *poll = nullptr;  // breaks the self-reference
      return;
    }
    loop.at(loop.now() + 5ms, *poll);
  };
  loop.at(loop.now(), *poll);
}

}  // namespace

// ---- the emulator's peak_in_flight(), checked with the blocking transport -----------------------

TEST_CASE("emulator server: peak_in_flight counts metered requests held at once") {
  LiveServer s;
  CHECK(s.server.peak_in_flight() == 0);
  for (int i = 0; i < 3; ++i) s.faults.push({.kind = FaultKind::kStall});
  std::vector<std::unique_ptr<gt::BeastTransport>> transports;
  for (int i = 0; i < 3; ++i) {
    auto t = gt::BeastTransport::create({.cacert_file = TestPki::get().ca_file->path()});
    REQUIRE(t.ok());
    transports.push_back(std::move(t).value());
  }
  std::vector<std::thread> clients;
  std::vector<gt::TransportError> errors(3);
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] {
      gt::HttpResponse response;
      transports[i]->send(create_request(s), std::chrono::steady_clock::now() + 60s, response,
                          errors[i]);
    });
  }
  // All three stalled requests are read (and so held) before any is released.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (s.server.received().size() < 3 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(s.server.received().size() == 3);
  CHECK(s.server.peak_in_flight() == 3);
  s.server.stop();  // closes the stalled connections: each client fails at once
  for (auto& c : clients) c.join();
  for (const auto& e : errors) {
    CHECK(e.failure == TransportFailure::kConnectionLost);
    CHECK(e.request_bytes_written);
  }
  CHECK(s.server.peak_in_flight() == 3);
}

TEST_CASE("emulator server: peak_in_flight ignores unmetered requests and sequential ones stay 1") {
  LiveServer s;
  auto t = gt::BeastTransport::create({.cacert_file = TestPki::get().ca_file->path()});
  REQUIRE(t.ok());
  auto send = [&](const gt::HttpRequest& r) {
    gt::HttpResponse response;
    gt::TransportError error;
    const bool ok = (*t)->send(r, std::chrono::steady_clock::now() + 30s, response, error);
    CHECK_MESSAGE(ok, error.message);
    return response.status;
  };
  gt::HttpRequest control = create_request(s);
  control.method = "GET";
  control.target = "/_emulator/health";
  control.body.clear();
  send(control);
  CHECK(s.server.peak_in_flight() == 0);
  for (int i = 0; i < 3; ++i) CHECK(send(create_request(s)) == 201);
  CHECK(s.server.peak_in_flight() == 1);
  // A dropped request stops counting when its connection ends.
  s.faults.push({.kind = FaultKind::kDropAfterRead});
  gt::HttpResponse response;
  gt::TransportError error;
  CHECK_FALSE(
      (*t)->send(create_request(s), std::chrono::steady_clock::now() + 30s, response, error));
  CHECK(send(create_request(s)) == 201);
  CHECK(s.server.peak_in_flight() == 1);
}

// ---- BeastExchangeLoop --------------------------------------------------------------------------

TEST_CASE("exchange loop: 50 creates, 8 in flight, over at most 8 reused connections") {
  // The server refuses (429) a 9th concurrent request of the token, and holds each 20 ms, so
  // requests overlap; neither may show.
  gt::emulator::Limits limits({.latency = 20ms, .max_concurrent = 8});
  LiveServer s({.limits = &limits});
  auto loop = make_loop();
  constexpr int kTotal = 50;
  constexpr int kParallel = 8;
  int started = 0;
  int created = 0;
  int in_flight = 0;
  int peak = 0;
  std::vector<std::string> failures;
  std::function<void()> launch = [&] {
    auto r = create_request(s);
    r.headers.push_back({"X-Item", std::to_string(started)});
    ++started;
    peak = std::max(peak, ++in_flight);
    loop->start(std::move(r), loop->now() + 60s, [&](gt::Exchange e) {
      --in_flight;
      if (e.ok && e.response.status == 201) {
        ++created;
        CHECK(e.started <= e.finished);
      } else {
        failures.push_back(e.ok ? "status " + std::to_string(e.response.status) : e.error.message);
      }
      if (started < kTotal) launch();
    });
  };
  for (int i = 0; i < kParallel; ++i) launch();
  loop->run();
  CHECK(failures.empty());
  if (!failures.empty()) MESSAGE("first failure: " << failures.front());
  CHECK(created == kTotal);
  CHECK(in_flight == 0);
  CHECK(peak == kParallel);
  CHECK(s.service.threads().size() == kTotal);
  CHECK(s.server.received().size() == kTotal);
  CHECK(loop->connections_opened() >= 1);
  CHECK(loop->connections_opened() <= kParallel);
  CHECK(s.server.connections_accepted() == loop->connections_opened());
  CHECK(s.server.peak_in_flight() <= kParallel);
  // Every connection survived and sits in the pool.
  CHECK(loop->idle_connections() == loop->connections_opened());
}

TEST_CASE("exchange loop: exchanges run concurrently, and abort_all ends them with kInterrupted") {
  LiveServer s;
  for (int i = 0; i < 3; ++i) s.faults.push({.kind = FaultKind::kStall});
  auto loop = make_loop();
  std::deque<Outcome> out(3);
  const auto before = loop->now();
  for (auto& o : out) loop->start(create_request(s), loop->now() + 60s, record_into(o));
  std::size_t peak_when_aborted = 0;
  bool late_timer_ran = false;
  when(
      *loop, [&] { return s.server.received().size() >= 3; },
      [&] {
        peak_when_aborted = s.server.peak_in_flight();
        // A timer set before abort_all() survives it.
        loop->at(loop->now() + 10ms, [&] { late_timer_ran = true; });
        loop->abort_all();
        for (const auto& o : out) CHECK(o.calls == 0);  // not from inside abort_all()
      });
  loop->run();
  CHECK(peak_when_aborted == 3);
  CHECK(late_timer_ran);
  for (const auto& o : out) {
    REQUIRE(o.calls == 1);
    CHECK_FALSE(o.e.ok);
    CHECK(o.e.error.failure == TransportFailure::kInterrupted);
    CHECK(o.e.error.request_bytes_written);
    CHECK(o.e.error.message.find("interrupted") == 0);
    CHECK(o.e.started >= before);
    CHECK(o.e.started <= o.e.finished);
  }
  // Interrupted connections are never pooled.
  CHECK(loop->idle_connections() == 0);
}

TEST_CASE("exchange loop: abort_all before run() ends exchanges before they touch the network") {
  LiveServer s;
  auto loop = make_loop();
  Outcome a, b;
  loop->start(create_request(s), loop->now() + 60s, record_into(a));
  loop->start(create_request(s), loop->now() + 60s, record_into(b));
  loop->abort_all();
  loop->run();
  for (const Outcome* o : {&a, &b}) {
    REQUIRE(o->calls == 1);
    CHECK(o->e.error.failure == TransportFailure::kInterrupted);
    CHECK_FALSE(o->e.error.request_bytes_written);
    CHECK(o->e.started == o->e.finished);
  }
  CHECK(loop->connections_opened() == 0);
  CHECK(s.server.connections_accepted() == 0);
}

TEST_CASE("exchange loop: a deadline ends a stalled exchange with kTimeout while others complete") {
  LiveServer s;
  s.faults.push({.kind = FaultKind::kStall});  // the first request read: the one started alone
  auto loop = make_loop();
  Outcome stalled;
  std::deque<Outcome> others(3);
  // Long enough to connect and send (the server must read the request first), short enough
  // that the test does not linger.
  loop->start(create_request(s), loop->now() + 3s, record_into(stalled));
  when(
      *loop, [&] { return s.server.received().size() >= 1; },
      [&] {
        for (auto& o : others) loop->start(create_request(s), loop->now() + 60s, record_into(o));
      });
  loop->run();
  REQUIRE(stalled.calls == 1);
  CHECK_FALSE(stalled.e.ok);
  CHECK(stalled.e.error.failure == TransportFailure::kTimeout);
  CHECK(stalled.e.error.request_bytes_written);
  CHECK(stalled.e.error.status == 0);
  CHECK(stalled.e.error.message.find("timed out waiting for the response") == 0);
  CHECK(stalled.e.started < stalled.e.finished);
  for (const auto& o : others) {
    REQUIRE(o.calls == 1);
    CHECK_MESSAGE(o.e.ok, o.e.error.message);
    CHECK(o.e.response.status == 201);
  }
  CHECK(s.service.threads().size() == 3);  // the stalled request was never processed
}

TEST_CASE("exchange loop: connection refused, with nothing written") {
  auto loop = make_loop();
  Outcome o;
  loop->start(create_request(gt::test::closed_port()), loop->now() + 30s, record_into(o));
  loop->run();
  REQUIRE(o.calls == 1);
  CHECK(o.e.error.failure == TransportFailure::kConnectRefused);
  CHECK_FALSE(o.e.error.request_bytes_written);
  CHECK(o.e.error.message.find("connection refused") == 0);
  CHECK(o.e.started == o.e.finished);
}

TEST_CASE("exchange loop: server faults, what was written, and the next exchange recovers") {
  struct Case {
    const char* name;
    Fault fault;
    TransportFailure failure;
    bool written;
    std::size_t created;
    std::chrono::milliseconds budget;  // short only where the deadline is meant to expire
  };
  const Case cases[] = {
      {"drop on accept",
       {.kind = FaultKind::kDropOnAccept},
       TransportFailure::kConnectionLost,
       false,
       0,
       30s},
      {"drop after read",
       {.kind = FaultKind::kDropAfterRead},
       TransportFailure::kConnectionLost,
       true,
       1,
       30s},
      {"truncated body",
       {.kind = FaultKind::kTruncateBody},
       TransportFailure::kConnectionLost,
       true,
       1,
       30s},
      {"stall in handshake",
       {.kind = FaultKind::kStallHandshake},
       TransportFailure::kTimeout,
       false,
       0,
       1500ms},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LiveServer s;
    s.faults.push(c.fault);
    auto loop = make_loop();
    const Outcome failed = run_exchange(*loop, create_request(s), c.budget);
    check_failed(failed, c.failure, c.written);
    CHECK(s.service.threads().size() == c.created);
    CHECK(loop->idle_connections() == 0);  // a failed connection is never pooled
    check_recovers(*loop, s);
  }
}

TEST_CASE("exchange loop: certificate failures say which check failed, and nothing is sent") {
  const auto& pki = TestPki::get();
  struct Case {
    const char* name;
    gt::emulator::CertificatePem cert;
    TransportFailure failure;
    const char* fragment;
  };
  const Case cases[] = {
      {"untrusted issuer", pki.untrusted, TransportFailure::kTlsUntrusted, "not trusted"},
      {"expired", pki.expired, TransportFailure::kTlsExpired, "expired on"},
      {"wrong host", pki.wrong_host, TransportFailure::kTlsHostMismatch, "not valid for 127.0.0.1"},
      {"self-signed", pki.self_signed, TransportFailure::kTlsSelfSigned, "self-signed"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LiveServer s({.cert = c.cert});
    auto loop = make_loop();
    Outcome o;
    loop->start(create_request(s), loop->now() + 30s, record_into(o));
    loop->run();
    REQUIRE(o.calls == 1);
    CHECK(o.e.error.failure == c.failure);
    CHECK_FALSE(o.e.error.request_bytes_written);
    CHECK(o.e.error.message.find(c.fragment) != std::string::npos);
    CHECK(o.e.error.message.find("subject ") != std::string::npos);
    CHECK(o.e.error.message.find("issuer ") != std::string::npos);
    CHECK_FALSE(o.e.error.hint.empty());
    CHECK(s.server.received().empty());
  }
}

TEST_CASE("exchange loop: an unusable --cacert is a usage error") {
  auto missing = gt::BeastExchangeLoop::create({.cacert_file = "/nonexistent/ca.pem"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == gt::ErrorKind::kUsage);
  auto junk = gt::BeastExchangeLoop::create({.cacert_file = TestPki::get().empty_file->path()});
  REQUIRE_FALSE(junk);
  CHECK(junk.error().message.find("no PEM certificate") != std::string::npos);
}

TEST_CASE("exchange loop: timers fire in deadline order, and cancel() works") {
  auto loop = make_loop();
  std::vector<int> fired;
  const auto t0 = loop->now();
  loop->at(t0 + 30ms, [&] { fired.push_back(3); });
  loop->at(t0 + 10ms, [&] {
    fired.push_back(1);
    // A timer set from a callback runs in the same run().
    loop->at(loop->now() + 5ms, [&] { fired.push_back(2); });
  });
  const auto dropped = loop->at(t0 + 20ms, [&] { fired.push_back(-1); });
  loop->cancel(dropped);
  // Both are due when run() starts; the earlier one runs first and cancels the later one, whose
  // expiry has already been noticed: cancel() must still win.
  gt::ExchangeLoop::TimerId later = 0;
  loop->at(t0 - 2s, [&] {
    fired.push_back(0);
    loop->cancel(later);
  });
  later = loop->at(t0 - 1s, [&] { fired.push_back(-2); });
  loop->cancel(12345);   // unknown: no effect
  CHECK(fired.empty());  // nothing runs inside at()
  loop->run();
  CHECK(fired == std::vector<int>{0, 1, 2, 3});
  CHECK(loop->now() >= t0 + 30ms);
}

TEST_CASE("exchange loop: callbacks run only from run(), exactly once") {
  LiveServer s;
  auto loop = make_loop();
  Outcome refused, past_deadline;
  gt::HttpRequest remote = create_request(s.server.port(), "http");
  remote.host = "192.0.2.1";  // plain http off loopback: refused before any I/O
  loop->start(remote, loop->now() + 30s, record_into(refused));
  loop->start(create_request(s), loop->now() - 1s, record_into(past_deadline));
  CHECK(refused.calls == 0);
  CHECK(past_deadline.calls == 0);
  loop->run();
  REQUIRE(refused.calls == 1);
  CHECK(refused.e.error.failure == TransportFailure::kLocal);
  CHECK_FALSE(refused.e.error.request_bytes_written);
  REQUIRE(past_deadline.calls == 1);
  CHECK(past_deadline.e.error.failure == TransportFailure::kTimeout);
  CHECK_FALSE(past_deadline.e.error.request_bytes_written);
  // A callback may start the next exchange.
  Outcome first, second;
  loop->start(create_request(s), loop->now() + 30s, [&](gt::Exchange e) {
    record_into(first)(std::move(e));
    loop->start(create_request(s), loop->now() + 30s, record_into(second));
    CHECK(second.calls == 0);
  });
  loop->run();
  CHECK(first.calls == 1);
  REQUIRE(second.calls == 1);
  CHECK(second.e.ok);
}

TEST_CASE(
    "exchange loop: run() returns with idle connections pooled, and the next run reuses them") {
  LiveServer s;
  auto loop = make_loop();
  Outcome a, b;
  loop->start(create_request(s), loop->now() + 30s, record_into(a));
  loop->start(create_request(s), loop->now() + 30s, record_into(b));
  loop->run();  // returns although both connections stay open
  REQUIRE(a.calls == 1);
  REQUIRE(b.calls == 1);
  CHECK(a.e.ok);
  CHECK(b.e.ok);
  const std::size_t opened = loop->connections_opened();
  CHECK(opened == 2);  // two exchanges at once, no idle connection yet: two connections
  CHECK(loop->idle_connections() == opened);
  for (int i = 0; i < 3; ++i) {
    Outcome next;
    loop->start(create_request(s), loop->now() + 30s, record_into(next));
    loop->run();
    REQUIRE(next.calls == 1);
    CHECK(next.e.ok);
  }
  CHECK(loop->connections_opened() == opened);
  CHECK(s.server.connections_accepted() == opened);
}

TEST_CASE("exchange loop: an idle connection the server closed is not reused") {
  auto first = std::make_unique<LiveServer>();
  const std::uint16_t port = first->server.port();
  auto loop = make_loop();
  Outcome a;
  loop->start(create_request(port), loop->now() + 30s, record_into(a));
  loop->run();
  REQUIRE(a.e.ok);
  REQUIRE(loop->idle_connections() == 1);
  first.reset();  // stop() closes every connection, the pooled one included
  LiveServer second({.port = port});
  Outcome b;
  loop->start(create_request(port), loop->now() + 30s, record_into(b));
  loop->run();
  REQUIRE(b.calls == 1);
  CHECK_MESSAGE(b.e.ok, b.e.error.message);
  CHECK(b.e.response.status == 201);
  CHECK(loop->connections_opened() == 2);
  CHECK(second.server.connections_accepted() == 1);
}

TEST_CASE("exchange loop: fresh_connection and Connection: close bypass the pool") {
  LiveServer s;
  auto loop = make_loop();
  auto run_one = [&](const gt::HttpRequest& r) {
    Outcome o;
    loop->start(r, loop->now() + 30s, record_into(o));
    loop->run();
    REQUIRE(o.calls == 1);
    CHECK_MESSAGE(o.e.ok, o.e.error.message);
  };
  run_one(create_request(s));
  CHECK(loop->connections_opened() == 1);
  auto fresh = create_request(s);
  fresh.fresh_connection = true;
  run_one(fresh);
  CHECK(loop->connections_opened() == 2);
  CHECK(loop->idle_connections() == 2);
  auto close = create_request(s);
  close.headers.push_back({"Connection", "close"});
  run_one(close);  // reuses an idle connection, which the answer then ends
  CHECK(loop->connections_opened() == 2);
  CHECK(loop->idle_connections() == 1);
}

TEST_CASE("exchange loop: plain HTTP to loopback") {
  LiveServer s({.cert = std::nullopt});
  auto loop = make_loop();
  Outcome o;
  loop->start(create_request(s.server.port(), "http"), loop->now() + 30s, record_into(o));
  loop->run();
  REQUIRE(o.calls == 1);
  CHECK_MESSAGE(o.e.ok, o.e.error.message);
  CHECK(o.e.response.status == 201);
  CHECK(loop->idle_connections() == 1);
}

TEST_CASE("exchange loop: destroying the loop with work pending calls nothing back") {
  LiveServer s;
  Outcome o;
  bool timer_ran = false;
  {
    auto loop = make_loop();
    Outcome pooled;
    loop->start(create_request(s), loop->now() + 30s, record_into(pooled));
    loop->run();
    REQUIRE(loop->idle_connections() == 1);
    loop->start(create_request(s), loop->now() + 30s, record_into(o));
    loop->at(loop->now(), [&] { timer_ran = true; });
  }
  CHECK(o.calls == 0);
  CHECK_FALSE(timer_ran);
}

TEST_CASE(
    "exchange loop: the idle hook runs after the callbacks of a turn and before run() returns") {
  LiveServer s;
  auto loop = make_loop();
  std::vector<std::string> events;
  loop->set_idle_hook([&] { events.push_back("idle"); });
  for (int i = 0; i < 3; ++i) {
    loop->start(create_request(s), loop->now() + 30s, [&](gt::Exchange e) {
      events.push_back(e.ok ? "done" : "failed: " + e.error.message);
    });
  }
  loop->run();
  REQUIRE(std::count(events.begin(), events.end(), "done") == 3);
  // Nothing a callback leaves for the hook is still waiting when run() returns.
  CHECK(events.back() == "idle");
  // Each callback is followed by an idle call before the loop waits again: with the server
  // answering one request at a time here or all at once, "done" is never the last of a turn.
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    if (events[i] == "done") {
      const auto next_idle =
          std::find(events.begin() + static_cast<std::ptrdiff_t>(i) + 1, events.end(), "idle");
      CHECK(next_idle != events.end());
    }
  }

  // An empty hook removes it.
  loop->set_idle_hook({});
  const std::size_t before = events.size();
  Outcome o;
  loop->start(create_request(s), loop->now() + 30s, record_into(o));
  loop->run();
  CHECK(o.e.ok);
  CHECK(events.size() == before);
}

// A pooled TLS connection carries its next exchange without a coroutine (start_fast and
// bc::start_direct_exchange): the same faults must end it the same way as on a new one.
TEST_CASE("exchange loop: faults on a reused connection, what was written, and recovery") {
  struct Case {
    const char* name;
    Fault fault;
    TransportFailure failure;
    int status;  // status line seen before the failure
    std::chrono::milliseconds budget;
  };
  const Case cases[] = {
      {"drop after read",
       {.kind = FaultKind::kDropAfterRead},
       TransportFailure::kConnectionLost,
       0,
       30s},
      {"truncated body",
       {.kind = FaultKind::kTruncateBody},
       TransportFailure::kConnectionLost,
       201,
       30s},
      {"stall after read", {.kind = FaultKind::kStall}, TransportFailure::kTimeout, 0, 1500ms},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LiveServer s;
    auto loop = make_loop();
    REQUIRE(run_exchange(*loop, create_request(s), 30s).e.ok);
    REQUIRE(loop->idle_connections() == 1);
    s.faults.push(c.fault);
    const Outcome failed = run_exchange(*loop, create_request(s), c.budget);
    check_failed(failed, c.failure, true);  // the request had gone: outcome unknown
    CHECK(failed.e.error.status == c.status);
    CHECK(failed.e.started < failed.e.finished);
    CHECK(loop->connections_opened() == 1);  // it was the pooled connection
    CHECK(loop->idle_connections() == 0);    // and it is not pooled again
    check_recovers(*loop, s);
  }
}

TEST_CASE("exchange loop: abort_all ends an exchange on a reused connection as interrupted") {
  LiveServer s;
  auto loop = make_loop();
  REQUIRE(run_exchange(*loop, create_request(s), 30s).e.ok);
  s.faults.push({.kind = FaultKind::kStall});
  Outcome aborted;
  loop->start(create_request(s), loop->now() + 60s, record_into(aborted));
  when(
      *loop, [&] { return s.server.received().size() >= 2; }, [&] { loop->abort_all(); });
  loop->run();
  REQUIRE(aborted.calls == 1);
  CHECK(aborted.e.error.failure == TransportFailure::kInterrupted);
  CHECK(aborted.e.error.request_bytes_written);
  CHECK(loop->connections_opened() == 1);
  CHECK(loop->idle_connections() == 0);
}
