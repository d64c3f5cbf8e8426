// The real ExchangeLoop: one io_context, a keep-alive pool per origin, and per exchange either a
// coroutine (drive: it may resolve, connect, tunnel and shake hands first) or, on a pooled TLS
// connection, completion handlers (start_fast), which cost less on the bulk path.
// The connection-level work (TLS, connect, write, read, error classification) is gt/beast_common,
// shared with gt/beast_transport; this file schedules exchanges, deadlines and timers.
//
// Why run() returns with idle connections open: an idle pooled connection has no operation
// pending (it is checked for a peer close with poll() when taken, not by a pending read), so the
// io_context runs out of work exactly when no exchange is in flight and no timer is pending.
#include "gt/beast_exchange_loop.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <vector>

#include "gt/beast_common.hpp"

namespace gt {

namespace net = boost::asio;
namespace bc = beast_client;

namespace {

// One exchange from start() until its `done` is called.
struct Pending {
  HttpRequest request;
  ExchangeLoop::Clock::time_point deadline;
  ExchangeLoop::Done done;
  bc::ExchangeState x;
  HttpResponse response;
  bool ok = false;         // the exchange read a complete response
  bool finished = false;   // the exchange has ended (the deadline no longer applies)
  std::size_t slot = 0;    // its index in Impl::in_flight
  bc::ConnectionPtr conn;  // the pooled connection a direct exchange (start_fast) runs on
};

// The keep-alive connections to one origin, most recently used last.
struct Pool {
  std::string scheme;
  std::string host;
  std::uint16_t port = 0;
  std::vector<bc::ConnectionPtr> connections;
};

struct Timer {
  std::unique_ptr<net::steady_timer> timer;
  std::function<void()> fn;
};

}  // namespace

struct BeastExchangeLoop::Impl {
  // Declaration order matters for destruction: the pool, the timers and the exchanges hold I/O
  // objects of the io_context, so they go first; the io_context then destroys the coroutine
  // frames still suspended in it (whose TLS streams refer to the TLS context, which goes last).
  BeastExchangeLoopOptions options;
  std::shared_ptr<bc::TlsContext> tls;
  net::io_context ioc{1};
  std::vector<Pool> idle;           // one per origin met, in the order met
  std::vector<Pending*> in_flight;  // owned by their coroutines' completion handlers
  std::map<TimerId, Timer> timers;  // pending at() timers; cancel() erases
  TimerId next_timer = 0;
  std::size_t opened = 0;
  // One timer for every exchange's deadline, armed for the earliest (not one timer per
  // exchange): a sweep stops the exchanges past theirs and re-arms for the next. It is cancelled
  // when nothing is in flight, so that run() can return.
  net::steady_timer sweep{ioc};
  bool sweep_armed = false;
  Clock::time_point sweep_at{};
  std::uint64_t sweep_generation = 0;  // a wait whose generation is not this one is stale
  std::function<void()> idle_hook;     // set_idle_hook's

  Pool& pool_for(const HttpRequest& request);
  bc::ConnectionPtr take_idle(Pool& pool);
  net::awaitable<void> drive(std::shared_ptr<Pending> p);
  bool start_fast(const std::shared_ptr<Pending>& p);
  void finish(Pending& p, std::exception_ptr e);
  void arm_sweep(Clock::time_point when);
  void on_sweep();
};

BeastExchangeLoop::BeastExchangeLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BeastExchangeLoop::~BeastExchangeLoop() = default;

Result<std::unique_ptr<BeastExchangeLoop>> BeastExchangeLoop::create(
    BeastExchangeLoopOptions options) {
  auto tls = bc::make_tls_context(options.cacert_file);
  if (!tls) return std::move(tls).error();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->tls = std::move(tls).value();
  return std::unique_ptr<BeastExchangeLoop>(new BeastExchangeLoop(std::move(impl)));
}

ExchangeLoop::Clock::time_point BeastExchangeLoop::now() const {
  return Clock::now();
}

void BeastExchangeLoop::start(HttpRequest request, Clock::time_point deadline, Done done) {
  Impl& im = *impl_;
  auto p = std::make_shared<Pending>();
  p->request = std::move(request);
  p->deadline = deadline;
  p->done = std::move(done);
  p->slot = im.in_flight.size();
  im.in_flight.push_back(p.get());
  im.arm_sweep(deadline);
  if (im.start_fast(p)) return;
  // co_spawn may start the coroutine inline when called from a callback, but it never calls the
  // completion handler (and so `done`) from inside co_spawn.
  net::co_spawn(im.ioc, im.drive(p), [&im, p](std::exception_ptr e) { im.finish(*p, e); });
}

ExchangeLoop::TimerId BeastExchangeLoop::at(Clock::time_point when, std::function<void()> fn) {
  Impl& im = *impl_;
  const TimerId id = ++im.next_timer;
  Timer& t = im.timers[id];
  t.timer = std::make_unique<net::steady_timer>(im.ioc, when);
  t.fn = std::move(fn);
  t.timer->async_wait([&im, id](const boost::system::error_code& ec) {
    // The map, not the error code, says whether the timer still counts: cancel() may come after
    // the timer expired but before this handler ran.
    auto it = im.timers.find(id);
    if (it == im.timers.end()) return;
    std::function<void()> callback = std::move(it->second.fn);
    im.timers.erase(it);
    if (!ec) callback();
  });
  return id;
}

void BeastExchangeLoop::cancel(TimerId id) {
  // Destroying the timer cancels its wait; the handler then finds no entry and does nothing.
  impl_->timers.erase(id);
}

void BeastExchangeLoop::abort_all() {
  // stop() completes nothing inline, so in_flight does not change while we iterate.
  for (Pending* p : impl_->in_flight) p->x.stop(TransportFailure::kInterrupted);
}

void BeastExchangeLoop::run() {
  net::io_context& ioc = impl_->ioc;
  ioc.restart();
  const std::function<void()>& hook = impl_->idle_hook;
  if (!hook) {
    ioc.run();
    return;
  }
  // run_one() waits for the next handler and runs it; poll() then runs every handler that is
  // ready by now (including completions the reactor has just found) without waiting: together
  // one turn of the loop. The io_context stops when it runs out of work.
  while (ioc.run_one() != 0) {
    ioc.poll();
    hook();
  }
  hook();
}

void BeastExchangeLoop::set_idle_hook(std::function<void()> fn) {
  impl_->idle_hook = std::move(fn);
}

std::size_t BeastExchangeLoop::connections_opened() const {
  return impl_->opened;
}

std::size_t BeastExchangeLoop::idle_connections() const {
  std::size_t n = 0;
  for (const Pool& pool : impl_->idle) n += pool.connections.size();
  return n;
}

// The pool of `request`'s origin (scheme, host, port), made empty the first time. The proxy is
// not part of the key: options.proxy is fixed per loop, so an origin always has the same route.
// Compared field by field: no origin string is built per exchange.
Pool& BeastExchangeLoop::Impl::pool_for(const HttpRequest& request) {
  for (Pool& pool : idle) {
    if (pool.port == request.port && pool.host == request.host && pool.scheme == request.scheme) {
      return pool;
    }
  }
  return idle.emplace_back(Pool{request.scheme, request.host, request.port, {}});
}

// The most recently used idle connection in `pool` that is still usable; closes the dead ones
// met on the way. Null when there is none.
bc::ConnectionPtr BeastExchangeLoop::Impl::take_idle(Pool& pool) {
  bc::ConnectionPtr found;
  auto& connections = pool.connections;
  while (!found && !connections.empty()) {
    bc::ConnectionPtr c = std::move(connections.back());
    connections.pop_back();
    // The peer may have closed it while it sat idle (its idle timeout, a restart): a request
    // written to it would be lost, so it is closed here instead.
    if (bc::reusable(*c)) found = std::move(c);
  }
  return found;
}

net::awaitable<void> BeastExchangeLoop::Impl::drive(std::shared_ptr<Pending> p) {
  bc::ExchangeState& x = p->x;
  const HttpRequest& request = p->request;
  if (x.stopped()) co_return;  // aborted or past its deadline before it began
  if (auto refused = bc::refuse(request, options.allow_plain_http_to_any_host, options.proxy)) {
    x.error = std::move(*refused);
    co_return;
  }
  bc::ConnectionPtr conn;
  if (!request.fresh_connection) conn = take_idle(pool_for(request));
  if (!conn) {
    conn = bc::make_connection(ioc.get_executor(), *tls, request, options.proxy);
    const bc::Attach attach(x, *conn);
    if (!co_await bc::open_connection(request, *conn, x, opened)) co_return;
  }
  {
    const bc::Attach attach(x, *conn);
    if (!co_await bc::exchange_over(request, *conn, options.limits, p->response, x)) co_return;
  }
  p->ok = true;
  // After a failure (any co_return above) the connection is closed with `conn`: its state is
  // unknown. After a response it is pooled unless the response ended it.
  // (pool_for again, not a reference kept from before: `idle` may have grown since.)
  if (bc::poolable(*conn)) pool_for(request).connections.push_back(std::move(conn));
}

// The common case of a bulk run, without a coroutine: an idle direct TLS connection to the origin
// is in the pool, so the exchange is only a write and reads (bc::start_direct_exchange). Anything
// else (a new connection, plain http, a refused request) goes through drive(). False when it did
// not start the exchange.
bool BeastExchangeLoop::Impl::start_fast(const std::shared_ptr<Pending>& p) {
  const HttpRequest& request = p->request;
  if (request.fresh_connection || p->x.stopped()) return false;
  if (bc::refuse(request, options.allow_plain_http_to_any_host, options.proxy)) return false;
  Pool& pool = pool_for(request);
  if (pool.connections.empty() || !bc::is_direct(*pool.connections.back())) return false;
  bc::ConnectionPtr conn = take_idle(pool);
  if (!conn) return false;
  if (!bc::is_direct(*conn)) {
    pool.connections.push_back(std::move(conn));
    return false;
  }
  p->x.connection = conn.get();  // what stop() closes, as bc::Attach does for drive()
  bc::Connection& c = *conn;
  p->conn = std::move(conn);
  // The exchange owns `p` until done has run; done itself captures two pointers, which
  // std::function stores without allocating.
  Pending* const raw = p.get();
  bc::start_direct_exchange(
      p->request, c, options.limits, p->response, p->x,
      [this, raw](bool ok) {
        raw->x.connection = nullptr;
        raw->ok = ok;
        // As drive(): pooled after a response that allows another.
        if (ok && bc::poolable(*raw->conn)) {
          pool_for(raw->request).connections.push_back(std::move(raw->conn));
        }
        raw->conn.reset();
        finish(*raw, nullptr);
      },
      p);
  return true;
}

void BeastExchangeLoop::Impl::finish(Pending& p, std::exception_ptr e) {
  bc::note_exception(p.x, e);
  p.finished = true;
  // Out of in_flight (the completion handler still holds `p`): the last one takes its slot.
  in_flight[p.slot] = in_flight.back();
  in_flight[p.slot]->slot = p.slot;
  in_flight.pop_back();
  Exchange out;
  out.finished = Clock::now();
  if (p.ok && !p.x.stopped()) {
    out.ok = true;
    out.response = std::move(p.response);
    out.started = p.x.write_started;
  } else {
    out.error = bc::finish_error(p.request, p.x);
    out.started = p.x.bytes_written ? p.x.write_started : out.finished;
  }
  Done done = std::move(p.done);
  done(std::move(out));
  // `done` may have started more; if it did not and nothing else is in flight, no deadline is
  // left to watch.
  if (in_flight.empty() && sweep_armed) {
    sweep_armed = false;
    ++sweep_generation;
    sweep.cancel();
  }
}

void BeastExchangeLoop::Impl::arm_sweep(Clock::time_point when) {
  if (sweep_armed && sweep_at <= when) return;  // the sweep comes first and re-arms for this one
  sweep_armed = true;
  sweep_at = when;
  const std::uint64_t generation = ++sweep_generation;
  sweep.expires_at(when);  // ends the wait for a later time, whose handler is then stale
  sweep.async_wait([this, generation](const boost::system::error_code& ec) {
    if (ec || generation != sweep_generation) return;
    sweep_armed = false;
    on_sweep();
  });
}

// Stops every exchange past its deadline and re-arms for the earliest of the others.
void BeastExchangeLoop::Impl::on_sweep() {
  const Clock::time_point now = Clock::now();
  Clock::time_point next = Clock::time_point::max();
  for (Pending* p : in_flight) {
    if (p->finished || p->x.stopped()) continue;
    if (p->deadline <= now) {
      p->x.stop(TransportFailure::kTimeout);
    } else {
      next = std::min(next, p->deadline);
    }
  }
  if (next != Clock::time_point::max()) arm_sweep(next);
}

}  // namespace gt
