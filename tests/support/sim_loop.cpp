#include "support/sim_loop.hpp"

#include <algorithm>

namespace gt::test {

SimLoop::SimLoop(Server server)
    : server_(std::move(server)),
      // A fixed, arbitrary origin: virtual time has nothing to do with the machine's clock.
      epoch_(Clock::time_point(std::chrono::hours(1000))),
      now_(epoch_) {}

ExchangeLoop::TimerId SimLoop::at(Clock::time_point when, std::function<void()> fn) {
  const TimerId id = next_id_++;
  auto it = events_.emplace(std::make_pair(std::max(when, now_), id), std::move(fn));
  by_id_[id] = it;
  return id;
}

void SimLoop::cancel(TimerId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  events_.erase(it->second);
  by_id_.erase(it);
}

void SimLoop::start(HttpRequest request, Clock::time_point deadline, Done done) {
  const std::size_t n = records_.size();
  SimReply reply = server_(request, n);
  records_.push_back({std::move(request), now_});
  ++connections_;  // every exchange counts as a connection: the pool is the real loop's business

  Pending p;
  p.record = n;
  p.done = std::move(done);
  p.result.started = now_;
  p.result.ok = reply.ok && !reply.stall;
  if (reply.ok) p.result.response = std::move(reply.response);
  if (!reply.ok) p.result.error = std::move(reply.error);
  Clock::time_point when = now_ + reply.latency;
  if (reply.stall || when > deadline) {
    when = deadline;
    p.result.ok = false;
    p.result.error = TransportError{TransportFailure::kTimeout, true, 0, "timed out", ""};
  }
  const TimerId exchange_id = next_id_++;
  p.event = at(when, [this, exchange_id] { complete(exchange_id); });
  in_flight_.emplace(exchange_id, std::move(p));
  peak_ = std::max(peak_, in_flight_.size());
}

void SimLoop::complete(TimerId exchange_id) {
  auto it = in_flight_.find(exchange_id);
  if (it == in_flight_.end()) return;
  Pending p = std::move(it->second);
  in_flight_.erase(it);
  p.result.finished = now_;
  records_[p.record].finished = now_;
  records_[p.record].ok = p.result.ok;
  p.done(std::move(p.result));
}

void SimLoop::abort_all() {
  for (auto& [id, p] : in_flight_) {
    cancel(p.event);
    p.result.ok = false;
    p.result.error = TransportError{TransportFailure::kInterrupted, true, 0, "interrupted", ""};
    const TimerId exchange_id = id;
    p.event = at(now_, [this, exchange_id] { complete(exchange_id); });
  }
}

void SimLoop::run() {
  while (!events_.empty()) {
    auto it = events_.begin();
    now_ = std::max(now_, it->first.first);
    by_id_.erase(it->first.second);
    std::function<void()> fn = std::move(it->second);
    events_.erase(it);
    fn();
    if (events_.empty() || events_.begin()->first.first > now_) idle();
  }
  if (events_.empty()) idle();
}

void SimLoop::idle() {
  ++idle_calls_;
  if (idle_hook_) idle_hook_();
}

}  // namespace gt::test
