// gt/exchange_loop: many HTTP exchanges at once on one thread — the seam bulk creation runs on.
//
// Where gt/http's Transport performs one blocking exchange, an ExchangeLoop starts exchanges and
// timers and calls back when they finish, all on the thread that calls run(). The real one
// (gt/beast_exchange_loop) is one Asio io_context with a keep-alive connection pool; tests use a
// simulated loop with virtual time (tests/support/sim_loop), so schedules are exact and nobody
// waits.
//
// Contract for implementations:
//  - start() and at() never call back from inside themselves; callbacks run from run().
//  - Every started exchange calls `done` exactly once: with a response, or with a TransportError
//    whose request_bytes_written is truthful (false only when no byte of this request reached
//    the connection, so even a POST may be sent again).
//  - One deadline bounds an exchange (connect, handshake, write and read together).
//  - The number of connections open to an origin never exceeds the number of exchanges to it
//    in flight at once, plus the idle ones kept for reuse; a connection is reused only when the
//    last answer allowed keep-alive.
//  - run() returns when nothing is in flight and no timer is pending. Callbacks may start new
//    exchanges and timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "gt/http.hpp"

namespace gt {

struct Exchange {
  bool ok = false;        // `response` holds a complete answer
  HttpResponse response;  // when ok
  TransportError error;   // when !ok
  // Write and completion times, for logs and for --reconcile ("delivered after the attempt
  // started"): when the first byte was handed to the connection (or when the exchange ended if
  // none was), and when the exchange ended.
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point finished;
};

class ExchangeLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Exchange)>;
  using TimerId = std::uint64_t;

  virtual ~ExchangeLoop() = default;

  // The loop's clock (virtual in tests).
  virtual Clock::time_point now() const = 0;

  // Starts one exchange; `done` runs later on the loop thread.
  virtual void start(HttpRequest request, Clock::time_point deadline, Done done) = 0;

  // Runs `fn` on the loop thread at or after `when`. Returns an id for cancel().
  virtual TimerId at(Clock::time_point when, std::function<void()> fn) = 0;
  // Forgets a pending timer; no effect if it already ran.
  virtual void cancel(TimerId id) = 0;

  // Ends every exchange in flight now: each `done` gets kInterrupted (request_bytes_written as
  // it stood). Pending timers are kept. For the second Ctrl-C.
  virtual void abort_all() = 0;

  // Runs callbacks until nothing is in flight and no timer is pending.
  virtual void run() = 0;

  // Calls `fn` from run() each time every callback that was ready has run and the loop is about
  // to wait for more (after a turn of the loop), and once before run() returns. For work that is
  // cheaper done once per turn than once per callback, such as flushing output that callbacks
  // buffered: it is never left waiting while the loop blocks. Replaces any earlier hook; an
  // empty `fn` removes it.
  virtual void set_idle_hook(std::function<void()> fn) = 0;

  // Connections opened so far (for tests of the pool and for the summary).
  virtual std::size_t connections_opened() const = 0;
};

}  // namespace gt
