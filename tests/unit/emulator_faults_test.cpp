// emulator/faults without sockets: the KIND parser scripts and the control API share, and the
// FaultPlan's order of precedence and random draws.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "emulator/faults.hpp"

namespace {

using namespace std::chrono_literals;
using gt::emulator::Fault;
using gt::emulator::FaultKind;
using gt::emulator::FaultPlan;
using gt::emulator::RandomFaults;

Fault kind(const char* text) {
  auto fault = gt::emulator::parse_fault_kind(text);
  REQUIRE(fault.ok());
  return *fault;
}

// The labels of the next n request faults.
std::vector<std::string> next_requests(FaultPlan& plan, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(gt::emulator::fault_label(plan.next_for_request()));
  return out;
}

}  // namespace

TEST_SUITE("emulator: faults") {
  TEST_CASE("parse_fault_kind: each KIND and what it does") {
    const Fault throttled = kind("429");
    CHECK(throttled.kind == FaultKind::kStatus);
    CHECK(throttled.status == 429);
    CHECK(throttled.retry_after == "1");
    const Fault unavailable = kind("503");
    CHECK(unavailable.kind == FaultKind::kStatus);
    CHECK(unavailable.status == 503);
    CHECK(unavailable.retry_after == "1");
    CHECK(kind("drop-before").kind == FaultKind::kDropOnAccept);
    CHECK(kind("drop-after").kind == FaultKind::kDropAfterRead);
    CHECK(kind("slow").kind == FaultKind::kDelay);
    CHECK(kind("slow").delay == 2000ms);
    CHECK(gt::emulator::parse_fault_kind("slow", 150ms)->delay == 150ms);
    for (const char* label : {"429", "503", "drop-before", "drop-after", "slow"}) {
      CHECK(gt::emulator::fault_label(kind(label)) == label);
    }
  }

  TEST_CASE("parse_fault_kind: unknown kinds name the accepted ones") {
    for (const char* bad : {"", "404", "drop", "SLOW", "429 "}) {
      INFO(bad);
      const auto fault = gt::emulator::parse_fault_kind(bad);
      REQUIRE_FALSE(fault.ok());
      CHECK(fault.error().kind == gt::ErrorKind::kUsage);
      CHECK(fault.error().message.find("429, 503, drop-before, drop-after or slow") !=
            std::string::npos);
    }
  }

  TEST_CASE("parse_scripted_fault: N:KIND") {
    const auto second = gt::emulator::parse_scripted_fault("2:429");
    REQUIRE(second.ok());
    CHECK(second->nth == 2);
    CHECK(second->fault.status == 429);
    CHECK(gt::emulator::parse_scripted_fault("10:slow", 5ms)->fault.delay == 5ms);
    for (const char* bad : {"2", ":429", "0:429", "-1:429", "x:429", "2:", "2:teapot"}) {
      INFO(bad);
      const auto fault = gt::emulator::parse_scripted_fault(bad);
      REQUIRE_FALSE(fault.ok());
      CHECK(fault.error().kind == gt::ErrorKind::kUsage);
    }
  }

  TEST_CASE("random faults: rate 1 fails every request, rate 0 none") {
    FaultPlan always;
    always.randomize({.rate = 1, .faults = {kind("503")}, .seed = 1});
    CHECK(next_requests(always, 5) == std::vector<std::string>(5, "503"));
    CHECK(always.next_for_connection().kind == FaultKind::kNone);  // 503 is not a connection kind

    FaultPlan never;
    never.randomize({.rate = 0, .faults = {kind("503")}, .seed = 1});
    CHECK(next_requests(never, 5) == std::vector<std::string>(5, "none"));
  }

  TEST_CASE("random faults: drop-before is drawn per connection, the others per request") {
    FaultPlan plan;
    plan.randomize({.rate = 1, .faults = {kind("drop-before"), kind("429")}, .seed = 3});
    CHECK(plan.next_for_connection().kind == FaultKind::kDropOnAccept);
    CHECK(plan.next_for_request().status == 429);
  }

  TEST_CASE("random faults: the same seed gives the same sequence, another seed another") {
    const RandomFaults random{.rate = 0.5, .faults = {kind("429"), kind("503")}, .seed = 42};
    FaultPlan a;
    FaultPlan b;
    a.randomize(random);
    b.randomize(random);
    const auto sequence = next_requests(a, 64);
    CHECK(next_requests(b, 64) == sequence);
    // Roughly half fail, with both kinds (a fixed seed, so this cannot flake).
    const auto failed = std::count_if(sequence.begin(), sequence.end(),
                                      [](const std::string& s) { return s != "none"; });
    CHECK(failed > 16);
    CHECK(failed < 48);
    CHECK(std::count(sequence.begin(), sequence.end(), "429") > 0);
    CHECK(std::count(sequence.begin(), sequence.end(), "503") > 0);

    FaultPlan c;
    c.randomize({.rate = 0.5, .faults = random.faults, .seed = 43});
    CHECK(next_requests(c, 64) != sequence);
  }

  TEST_CASE("scripted and pushed faults win over random ones without shifting them") {
    const RandomFaults random{.rate = 0.5, .faults = {kind("429")}, .seed = 7};
    FaultPlan reference;
    reference.randomize(random);
    const auto expected = next_requests(reference, 10);

    FaultPlan plan;
    plan.randomize(random);
    plan.script(2, kind("drop-after"));
    plan.push(kind("slow"));
    auto got = next_requests(plan, 10);
    CHECK(got[0] == "slow");        // pushed: the next request
    CHECK(got[1] == "drop-after");  // scripted: request 2
    got[0] = expected[0];
    got[1] = expected[1];
    CHECK(got == expected);  // requests 3..10 drew exactly what they would have
  }

  TEST_CASE("clear() forgets random faults too, randomize({}) turns them off") {
    FaultPlan plan;
    plan.randomize({.rate = 1, .faults = {kind("503")}, .seed = 1});
    plan.clear();
    CHECK(plan.next_for_request().kind == FaultKind::kNone);
    plan.randomize({.rate = 1, .faults = {kind("503")}, .seed = 1});
    plan.randomize({});
    CHECK(plan.next_for_request().kind == FaultKind::kNone);
  }
}
