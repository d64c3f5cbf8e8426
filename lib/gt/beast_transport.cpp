// The blocking HTTPS client. The connection-level work (TLS, connect, write, read, error
// classification) is gt/beast_common, shared with gt/beast_exchange_loop; this file schedules one
// exchange at a time and keeps one pooled connection.
//
// Shape of one send(): a coroutine on a private io_context opens (or reuses) a connection and
// carries the exchange over it, recording which phase it is in and whether any request byte was
// written. The calling thread runs the io_context as a watchdog: when the deadline passes or
// SIGINT arrives it stops the exchange (cancels the resolver and closes the socket), so every
// phase is bounded by the one deadline without a timer per step.
#include "gt/beast_transport.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "gt/beast_common.hpp"
#include "gt/interrupt.hpp"

namespace gt {

namespace net = boost::asio;
using namespace beast_client;

struct BeastTransport::Impl {
  BeastTransportOptions options;
  std::shared_ptr<TlsContext> tls;  // declared before the io_context: streams refer to it
  net::io_context ioc{1};
  ConnectionPtr pooled;
  std::string pooled_origin;
  std::size_t opened = 0;

  net::awaitable<void> run(const HttpRequest& request, HttpResponse& response, ExchangeState& x,
                           bool& ok);
};

BeastTransport::BeastTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BeastTransport::~BeastTransport() = default;

std::size_t BeastTransport::connections_opened() const {
  return impl_->opened;
}

Result<std::unique_ptr<BeastTransport>> BeastTransport::create(BeastTransportOptions options) {
  auto tls = make_tls_context(options.cacert_file);
  if (!tls) return std::move(tls).error();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->tls = std::move(tls).value();
  return std::unique_ptr<BeastTransport>(new BeastTransport(std::move(impl)));
}

bool BeastTransport::send(const HttpRequest& request, Clock::time_point deadline,
                          HttpResponse& response, TransportError& error) {
  Impl& im = *impl_;
  if (auto refused = refuse(request, im.options.allow_plain_http_to_any_host, im.options.proxy)) {
    error = std::move(*refused);
    return false;
  }
  ExchangeState x;
  bool ok = false;
  bool finished = false;
  im.ioc.restart();
  net::co_spawn(im.ioc, im.run(request, response, x, ok), [&](std::exception_ptr e) {
    finished = true;
    note_exception(x, e);
  });
  // Watchdog: run handlers until the exchange ends; enforce the deadline and SIGINT by stopping
  // the pending operation, which then completes with operation_aborted.
  bool aborted = false;
  while (!finished) {
    const auto now = Clock::now();
    if (!aborted && (now >= deadline || interrupted())) {
      x.stop(now >= deadline ? TransportFailure::kTimeout : TransportFailure::kInterrupted);
      aborted = true;
    }
    const auto slice = std::min(deadline, now + std::chrono::milliseconds(50));
    im.ioc.run_one_until(aborted ? now + std::chrono::milliseconds(50) : slice);
    if (im.ioc.stopped() && !finished) im.ioc.restart();
  }
  if (ok) return true;
  error = finish_error(request, x);
  return false;
}

net::awaitable<void> BeastTransport::Impl::run(const HttpRequest& request, HttpResponse& response,
                                               ExchangeState& x, bool& ok) {
  const std::string origin = origin_of(request, options.proxy);
  ConnectionPtr conn;
  if (pooled && pooled_origin == origin && !request.fresh_connection && reusable(*pooled)) {
    conn = std::move(pooled);
  }
  pooled.reset();  // a pooled connection that was not taken is dead or for another origin
  if (!conn) {
    conn = make_connection(ioc.get_executor(), *tls, request, options.proxy);
    const Attach attach(x, *conn);
    if (!co_await open_connection(request, *conn, x, opened)) co_return;
  }
  {
    const Attach attach(x, *conn);
    if (!co_await exchange_over(request, *conn, options.limits, response, x)) co_return;
  }
  ok = true;
  // exchange_over closed the socket if the server will not take another request; whatever
  // failed above, the connection was in an unknown state and went with `conn`.
  if (poolable(*conn)) {
    pooled = std::move(conn);
    pooled_origin = origin;
  }
}

}  // namespace gt
