// SimLoop: an ExchangeLoop with virtual time and a scripted server, for unit tests of schedules
// (concurrency, shared backoff, pacing, reconcile) that are exact and never wait.
//
// Each started exchange is answered by `server` at the moment it starts (so the server can count
// what it has "received"), and completes `latency` of virtual time later. run() jumps the clock
// from event to event.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include "gt/exchange_loop.hpp"

namespace gt::test {

struct SimReply {
  std::chrono::milliseconds latency{10};
  bool ok = true;
  HttpResponse response;  // when ok
  TransportError error;   // when !ok
  bool stall = false;     // never completes on its own (until abort_all or the deadline)
};

class SimLoop final : public ExchangeLoop {
 public:
  // `n` counts requests from 0 in the order they were started.
  using Server = std::function<SimReply(const HttpRequest& request, std::size_t n)>;

  struct Record {
    HttpRequest request;
    Clock::time_point started;
    Clock::time_point finished{};
    bool ok = false;
  };

  explicit SimLoop(Server server);

  Clock::time_point now() const override { return now_; }
  void start(HttpRequest request, Clock::time_point deadline, Done done) override;
  TimerId at(Clock::time_point when, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void abort_all() override;
  void run() override;
  // Called when the events of one virtual instant have all run (and when run() ends).
  void set_idle_hook(std::function<void()> fn) override { idle_hook_ = std::move(fn); }
  std::size_t idle_calls() const { return idle_calls_; }
  std::size_t connections_opened() const override { return connections_; }

  // Runs `fn` when the virtual clock reaches `when` (for tests that interrupt mid-run).
  void schedule(Clock::time_point when, std::function<void()> fn) { at(when, std::move(fn)); }

  Clock::time_point epoch() const { return epoch_; }
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - epoch_);
  }
  const std::vector<Record>& records() const { return records_; }
  std::size_t peak_in_flight() const { return peak_; }
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  struct Pending {
    std::size_t record = 0;
    Done done;
    Exchange result;
    TimerId event = 0;
  };
  void complete(TimerId exchange_id);

  Server server_;
  Clock::time_point epoch_;
  Clock::time_point now_;
  TimerId next_id_ = 1;
  std::multimap<std::pair<Clock::time_point, TimerId>, std::function<void()>> events_;
  void idle();
  std::function<void()> idle_hook_;
  std::size_t idle_calls_ = 0;
  std::map<TimerId, decltype(events_)::iterator> by_id_;
  std::map<TimerId, Pending> in_flight_;
  std::vector<Record> records_;
  std::size_t peak_ = 0;
  std::size_t connections_ = 0;
};

}  // namespace gt::test
