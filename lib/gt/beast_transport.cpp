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
  // Runs `work` on the io_context until it finishes; the calling thread is the watchdog that stops
  // x when the deadline passes or SIGINT arrives.
  void drive(net::awaitable<void> work, ExchangeState& x, Clock::time_point deadline);
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
  im.drive(im.run(request, response, x, ok), x, deadline);
  if (ok) return true;
  error = finish_error(request, x);
  return false;
}

void BeastTransport::Impl::drive(net::awaitable<void> work, ExchangeState& x,
                                 Clock::time_point deadline) {
  bool finished = false;
  ioc.restart();
  net::co_spawn(ioc, std::move(work), [&](std::exception_ptr e) {
    finished = true;
    note_exception(x, e);
  });
  // Watchdog: run handlers until the work ends; enforce the deadline and SIGINT by stopping the
  // pending operation, which then completes with operation_aborted.
  bool aborted = false;
  while (!finished) {
    const auto now = Clock::now();
    if (!aborted && (now >= deadline || interrupted())) {
      x.stop(now >= deadline ? TransportFailure::kTimeout : TransportFailure::kInterrupted);
      aborted = true;
    }
    const auto slice = std::min(deadline, now + std::chrono::milliseconds(50));
    ioc.run_one_until(aborted ? now + std::chrono::milliseconds(50) : slice);
    if (ioc.stopped() && !finished) ioc.restart();
  }
}

ConnectionProbe BeastTransport::probe(const ProbeRequest& request) {
  Impl& im = *impl_;
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  HttpRequest target;
  target.scheme = request.tls ? "https" : "http";
  target.host = request.host;
  target.port = request.port;
  ConnectionProbe out;
  out.tls_attempted = request.tls;
  ExchangeState x;
  OpenTrace trace;
  x.trace = &trace;
  bool opened_ok = false;
  if (auto refused = refuse(target, im.options.allow_plain_http_to_any_host, im.options.proxy)) {
    out.error = std::move(*refused);
    return out;
  }
  if (const auto via = choose_proxy(target.scheme, target.host, target.port, im.options.proxy)) {
    out.proxy = via->display();
    out.proxy_source = via->source;
  }
  ConnectionPtr conn = make_connection(im.ioc.get_executor(), *im.tls, target, im.options.proxy);
  auto work = [&]() -> net::awaitable<void> {
    const Attach attach(x, *conn);
    std::size_t opened = 0;
    opened_ok = co_await open_connection(target, *conn, x, opened);
  };
  im.drive(work(), x, Clock::now() + request.timeout);

  const auto since = [](auto from, auto to) {
    return to > from ? duration_cast<milliseconds>(to - from) : milliseconds(0);
  };
  const auto zero = std::chrono::steady_clock::time_point{};
  out.addresses = trace.addresses;
  if (trace.resolved != zero) out.resolve_time = since(trace.started, trace.resolved);
  if (trace.connected != zero) out.connect_time = since(trace.resolved, trace.connected);
  out.endpoint = trace.endpoint;
  out.connected = !trace.endpoint.empty();
  out.tunneled = trace.tunneled != zero;
  if (out.tunneled) out.tunnel_time = since(trace.connected, trace.tunneled);
  if (request.tls && trace.handshaken != zero) {
    out.tls_time = since(out.tunneled ? trace.tunneled : trace.connected, trace.handshaken);
    const TlsFacts f = tls_facts(*conn);
    out.tls_version = f.version;
    out.cipher = f.cipher;
    out.subject = f.subject;
    out.issuer = f.issuer;
    out.not_after = f.not_after;
    out.verify_result = f.verify_result;
  }
  out.tls_ok = request.tls && opened_ok;
  if (!opened_ok) out.error = finish_error(target, x);
  return out;
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
