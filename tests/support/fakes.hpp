// Test doubles at the seams: a Transport that replays scripted outcomes and records every request,
// and a Clock that records waits instead of sleeping.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "gt/clock.hpp"
#include "gt/http.hpp"

namespace gt::test {

class FakeTransport final : public Transport {
 public:
  // Queue outcomes, consumed in order by send().
  FakeTransport& respond(int status, std::string body = {}, std::vector<Header> headers = {});
  FakeTransport& fail(TransportFailure failure, bool bytes_written, std::string message = {});

  bool send(const HttpRequest& request, Clock::time_point deadline, HttpResponse& response,
            TransportError& error) override;

  std::vector<HttpRequest> requests;         // every request, in order
  std::vector<Clock::time_point> deadlines;  // the deadline passed with each

 private:
  struct Outcome {
    std::optional<HttpResponse> response;
    TransportError error;
  };
  std::deque<Outcome> outcomes_;
};

// Time stands still except when someone sleeps; every sleep is recorded.
class FakeClock final : public Clock {
 public:
  time_point now() override { return now_; }
  std::chrono::system_clock::time_point wall_now() override { return wall_; }
  bool sleep_for(duration d) override;

  void advance(duration d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  std::vector<std::chrono::milliseconds> sleeps;
  bool interrupt_sleeps = false;  // sleep_for returns false (as if Ctrl-C arrived)

 private:
  time_point now_ = time_point(std::chrono::hours(1000));
  // 2026-11-27T15:00:00Z
  std::chrono::system_clock::time_point wall_ =
      std::chrono::system_clock::time_point(std::chrono::seconds(1795791600));
};

}  // namespace gt::test
