// gt/beast_common: what the two Beast HTTPS clients share — gt/beast_transport (one blocking
// exchange at a time) and gt/beast_exchange_loop (many at once on one io_context). Everything
// here is independent of how exchanges are scheduled: the shared TLS client context, one
// connection, and the two coroutines that open a connection and carry one exchange over it.
//
// INTERNAL: included only by beast_transport.cpp and beast_exchange_loop.cpp. The Beast, SSL and
// HTTP template instantiations live in beast_common.cpp and are compiled once; this header keeps
// TlsContext and Connection opaque so that its includers need no Beast or OpenSSL headers.
//
// Stopping an exchange from outside (deadline, SIGINT, ExchangeLoop::abort_all): the scheduler
// calls ExchangeState::stop(), which cancels the connection's resolver and closes its socket. The
// pending operation then completes with operation_aborted, the coroutine returns false, and
// finish_error() turns the state into the TransportError to report. The coroutines also check
// stopped() after every step, so a stop that lands between two operations is not missed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/proxy.hpp"

namespace gt::beast_client {

// The one TLS client context a client shares among its connections: TLS 1.2 minimum (tls_client
// negotiates 1.3 when both sides can), the system trust store (OpenSSL honours SSL_CERT_FILE and
// SSL_CERT_DIR there) plus `cacert_file` when not empty, and peer verification.
class TlsContext;
// Fails (kUsage) when cacert_file cannot be read or holds no certificate.
Result<std::shared_ptr<TlsContext>> make_tls_context(const std::string& cacert_file);

// One connection to one origin: a TCP socket (to the origin, or to the HTTP proxy that tunnels to
// it), TLS on top for https, and the read buffer that carries bytes read past one response over
// to the next (keep-alive). Asio's TLS stream performs the handshake; after it, OpenSSL reads and
// writes the socket directly (no memory BIOs in between). Opaque; see below.
class Connection;
struct ConnectionDeleter {
  void operator()(Connection* c) const noexcept;  // closes the socket
};
using ConnectionPtr = std::unique_ptr<Connection, ConnectionDeleter>;

// A connection for `request`'s origin, not yet opened (see open_connection), through the proxy
// choose_proxy() picks for it from `proxies` (if any). `tls` is used when the scheme is https and
// must outlive the connection.
ConnectionPtr make_connection(const boost::asio::any_io_executor& executor, TlsContext& tls,
                              const HttpRequest& request, const ProxySettings& proxies);
// Whether the connection may carry another request: its socket is open, the last response allowed
// keep-alive (exchange_over closes the socket otherwise), and the peer has neither closed it nor
// sent anything unsolicited since (checked with a non-blocking poll).
// Checked when a pooled connection is taken for a request: the peer may have closed it while
// it sat idle.
bool reusable(Connection& c);
// Whether a connection that just finished an exchange may be pooled: its socket is still open
// (exchange_over closes it when the response did not allow keep-alive). No system call; the
// peer-close check is reusable()'s, made when the connection is taken.
bool poolable(Connection& c);

// The key connections are pooled by: "https://host:port", plus " via http://user:***@proxy:port"
// when `proxies` sends the request through a proxy (a connection is only reused for the same
// origin over the same route).
std::string origin_of(const HttpRequest& request, const ProxySettings& proxies);
// "host:port", "[::1]:port" for IPv6 literals; for messages.
std::string host_port(const HttpRequest& request);

// Checks a request before anything touches the network: the scheme must be https or http, and
// plain http goes only to loopback ("localhost" or a loopback IP literal) unless
// `allow_plain_http_to_any_host`, and through a proxy only when that proxy is loopback too (the
// bytes cross the proxy's network in clear text). The proxy configuration for the scheme must be
// usable (check_proxy). Returns the kLocal error to report, or nullopt.
std::optional<TransportError> refuse(const HttpRequest& request, bool allow_plain_http_to_any_host,
                                     const ProxySettings& proxies);

enum class Phase { kResolve, kConnect, kTunnel, kHandshake, kWrite, kReadHeader, kReadBody, kDone };

// What open_connection saw on the way, for `graph-threads doctor` (gt::BeastTransport::probe):
// filled only when ExchangeState::trace points at one. Times are taken when each step ends.
struct OpenTrace {
  std::vector<std::string> addresses;  // every address the name (the proxy's, through one)
                                       // resolved to, in resolver order
  std::string endpoint;                // "address:port" the socket connected to
  // `tunneled`: when a proxy's CONNECT tunnel was opened (unset when direct or when it failed).
  std::chrono::steady_clock::time_point started, resolved, connected, tunneled, handshaken;
};

// The TLS session of a connection after open_connection (or its failed handshake), as text.
struct TlsFacts {
  std::string version;        // "TLSv1.3"; "" when no session was established
  std::string cipher;         // "TLS_AES_256_GCM_SHA384"; "" likewise
  std::string subject;        // the server's leaf certificate, RFC 2253; "" when none was seen
  std::string issuer;         // its issuer
  std::string not_after;      // "Nov 27 12:00:00 2027 GMT"
  std::string verify_result;  // "ok", or what the certificate verification reported
};
TlsFacts tls_facts(Connection& c);

// The progress of one exchange, shared by its coroutine and its scheduler.
struct ExchangeState {
  Phase phase = Phase::kResolve;
  // Whether any byte of the request was handed to the connection (see exchange_over).
  bool bytes_written = false;
  // When the request write began (meaningful once bytes_written).
  std::chrono::steady_clock::time_point write_started{};
  int status = 0;  // the status line's code, once read
  // Filled by the coroutines when a step fails on its own; left empty when stop() caused it.
  TransportError error;
  bool timed_out = false;
  bool interrupted = false;
  // The connection whose pending operation stop() must end; set while one is in use (Attach).
  Connection* connection = nullptr;
  // When set, open_connection records its steps here.
  OpenTrace* trace = nullptr;

  // Ends the exchange early for `why` (kTimeout or kInterrupted); the first call wins. Completes
  // nothing inline: the pending operation finishes later with operation_aborted.
  void stop(TransportFailure why);
  bool stopped() const { return timed_out || interrupted; }
};

// Makes `c` the connection ExchangeState::stop() closes, for the guard's lifetime.
class Attach {
 public:
  Attach(ExchangeState& x, Connection& c) : x_(x) { x_.connection = &c; }
  ~Attach() { x_.connection = nullptr; }
  Attach(const Attach&) = delete;
  Attach& operator=(const Attach&) = delete;

 private:
  ExchangeState& x_;
};

// Resolves the host, connects (counting the attempt in `opened`) and, for https, performs the TLS
// handshake with SNI (host names only, not IP literals) and host-name verification. Through a
// proxy: resolves and connects to the proxy, asks it for a tunnel with CONNECT host:port (with
// Proxy-Authorization: Basic when the proxy URL has credentials), and on a 2xx answer carries on
// inside the tunnel exactly as above, TLS and its checks being with the ORIGIN, never the proxy.
// Returns false on failure, with x.error saying which step or certificate check failed (empty
// when stopped); a proxy's 407 is kProxyAuth, its other refusals kProxy.
// REQUIRES: `c` is attached to `x`, new, and made for `request`.
boost::asio::awaitable<bool> open_connection(const HttpRequest& request, Connection& c,
                                             ExchangeState& x, std::size_t& opened);

// Writes `request` (adding Host, Content-Length and, unless the caller set Connection,
// keep-alive) and reads the whole response into `response`, within `limits`. Closes the socket
// when the response does not allow another request (not keep_alive() or need_eof()). Returns
// false on failure, with x.error filled (empty when stopped) and x.bytes_written truthful. On a
// direct TLS connection the work is start_direct_exchange's (below); this only awaits it.
// REQUIRES: `c` is open and attached to `x`.
boost::asio::awaitable<bool> exchange_over(const HttpRequest& request, Connection& c,
                                           const ResponseLimits& limits, HttpResponse& response,
                                           ExchangeState& x);

// Whether `c` is a TLS connection past its handshake, whose SSL object reads and writes the
// socket itself: start_direct_exchange can carry an exchange over it.
bool is_direct(Connection& c);

// exchange_over without a coroutine, for a direct connection (is_direct): the same steps,
// checks, errors and keep-alive decision, driven by completion handlers, which costs less per
// exchange than a coroutine frame and its awaitable machinery on the bulk path. Writes the
// request before it returns when the socket takes it, and calls done(ok) later from the
// io_context, never from inside this call; ok and x as exchange_over returns and leaves them.
// `owner`, when given, is kept alive until done has been called (or the exchange is destroyed
// with the io_context): the caller's state can live there, so that `done` need capture no more
// than std::function holds without allocating.
// REQUIRES: `c` is open, direct and attached to `x`; every argument outlives the call of done.
void start_direct_exchange(const HttpRequest& request, Connection& c, const ResponseLimits& limits,
                           HttpResponse& response, ExchangeState& x, std::function<void(bool)> done,
                           std::shared_ptr<void> owner = nullptr);

// Records an exception that escaped an exchange's coroutine as a kLocal failure (no-op for null).
void note_exception(ExchangeState& x, std::exception_ptr e);

// The error to report for a failed exchange: x.error, with request_bytes_written and status from
// the state, and kTimeout/kInterrupted (saying in which phase) when stop() ended it.
TransportError finish_error(const HttpRequest& request, const ExchangeState& x);

}  // namespace gt::beast_client
