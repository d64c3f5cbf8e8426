// The real ExchangeLoop: one io_context, one coroutine per exchange, a keep-alive pool per origin.
// The connection-level work (TLS, connect, write, read, error classification) is gt/beast_common,
// shared with gt/beast_transport; this file schedules exchanges, deadlines and timers.
//
// Why run() returns with idle connections open: an idle pooled connection has no operation
// pending (it is checked for a peer close with poll() when taken, not by a pending read), so the
// io_context runs out of work exactly when no exchange is in flight and no timer is pending.
#include "gt/beast_exchange_loop.hpp"

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
  explicit Pending(net::io_context& ioc) : deadline(ioc) {}
  std::uint64_t id = 0;
  HttpRequest request;
  ExchangeLoop::Done done;
  bc::ExchangeState x;
  HttpResponse response;
  bool ok = false;        // the coroutine read a complete response
  bool finished = false;  // the coroutine has ended (the deadline no longer applies)
  net::steady_timer deadline;
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
  std::map<std::string, std::vector<bc::ConnectionPtr>> idle;  // by origin; most recent last
  std::map<std::uint64_t, std::shared_ptr<Pending>> in_flight;
  std::map<TimerId, Timer> timers;  // pending at() timers; cancel() erases
  std::uint64_t next_exchange = 0;
  TimerId next_timer = 0;
  std::size_t opened = 0;

  bc::ConnectionPtr take_idle(const std::string& origin);
  net::awaitable<void> drive(std::shared_ptr<Pending> p);
  void finish(Pending& p, std::exception_ptr e);
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
  auto p = std::make_shared<Pending>(im.ioc);
  p->id = ++im.next_exchange;
  p->request = std::move(request);
  p->done = std::move(done);
  im.in_flight.emplace(p->id, p);
  p->deadline.expires_at(deadline);
  p->deadline.async_wait([p](const boost::system::error_code& ec) {
    if (!ec && !p->finished) p->x.stop(TransportFailure::kTimeout);
  });
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
  for (auto& [id, p] : impl_->in_flight) p->x.stop(TransportFailure::kInterrupted);
}

void BeastExchangeLoop::run() {
  impl_->ioc.restart();
  impl_->ioc.run();
}

std::size_t BeastExchangeLoop::connections_opened() const {
  return impl_->opened;
}

std::size_t BeastExchangeLoop::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [origin, connections] : impl_->idle) n += connections.size();
  return n;
}

// The most recently used idle connection to `origin` that is still usable; closes the dead ones
// met on the way. Null when there is none.
bc::ConnectionPtr BeastExchangeLoop::Impl::take_idle(const std::string& origin) {
  auto it = idle.find(origin);
  if (it == idle.end()) return nullptr;
  bc::ConnectionPtr found;
  auto& connections = it->second;
  while (!found && !connections.empty()) {
    bc::ConnectionPtr c = std::move(connections.back());
    connections.pop_back();
    // The peer may have closed it while it sat idle (its idle timeout, a restart): a request
    // written to it would be lost, so it is closed here instead.
    if (bc::reusable(*c)) found = std::move(c);
  }
  if (connections.empty()) idle.erase(it);
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
  const std::string origin = bc::origin_of(request, options.proxy);
  bc::ConnectionPtr conn;
  if (!request.fresh_connection) conn = take_idle(origin);
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
  if (bc::poolable(*conn)) idle[origin].push_back(std::move(conn));
}

void BeastExchangeLoop::Impl::finish(Pending& p, std::exception_ptr e) {
  bc::note_exception(p.x, e);
  p.finished = true;
  p.deadline.cancel();
  in_flight.erase(p.id);  // the completion handler still holds `p`
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
}

}  // namespace gt
