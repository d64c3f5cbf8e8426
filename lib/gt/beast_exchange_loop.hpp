// gt/beast_exchange_loop: the real ExchangeLoop — many HTTP/1.1 exchanges at once over TLS (or
// plain HTTP to loopback) on one Asio io_context, run by the thread that calls run(). No thread
// per exchange. Beast, Asio and OpenSSL stay in the .cpp files; this header has std types only.
//
// TLS is exactly gt/beast_transport's (they share gt/beast_common): TLS 1.2 minimum, the system
// trust store (honouring SSL_CERT_FILE and SSL_CERT_DIR) plus an optional extra CA file, peer
// verification, SNI for host names (not IP literals), host-name verification against the URL's
// host; a verification failure says which check failed and names the certificate's subject and
// issuer. One TLS context is shared by every connection.
//
// Proxies: as gt/beast_transport's — per request, options.proxy picks the HTTP proxy (gt/proxy)
// that tunnels to the origin with CONNECT.
//
// Connections: a keep-alive pool per origin (scheme, host, port) and proxy. An exchange takes the
// most recently used idle connection to its origin, skipping (and closing) any the peer has closed
// since, or opens a new one; HttpRequest::fresh_connection always opens a new one. After a
// complete response the connection goes back to the pool if the response allowed keep-alive;
// after any failure it is closed. Idle connections have no operation pending, so they do not keep
// run() from returning; they stay open until reused, found dead, or the loop is destroyed.
//
// Each exchange has its own deadline covering resolve, connect, handshake, write and read (one
// loop timer watches the earliest); when it passes the exchange is stopped (resolver cancelled,
// socket closed) and reports kTimeout. abort_all() stops every exchange in flight the same way with
// kInterrupted. Either way `done` is called once, from run(), after the exchange's operations have
// completed, and a stop wins over a response that completed in the same instant.
//
// Thread-safety: none. Every member function, and the loop's destruction, must happen on one
// thread (callbacks run on it too). Destroying the loop with exchanges or timers pending drops
// them without calling back.
// REQUIRES: callbacks do not throw, and do not call run() or destroy the loop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "gt/error.hpp"
#include "gt/exchange_loop.hpp"
#include "gt/http.hpp"
#include "gt/proxy.hpp"

namespace gt {

struct BeastExchangeLoopOptions {
  std::string cacert_file;  // extra trusted CA(s), PEM; "" for none
  ResponseLimits limits;
  bool allow_plain_http_to_any_host = false;  // never set by the CLI; loopback only otherwise
  ProxySettings proxy;  // which requests go through an HTTP proxy (gt/proxy); none by default
};

class BeastExchangeLoop final : public ExchangeLoop {
 public:
  // Fails (kUsage) when cacert_file cannot be read or holds no certificate.
  static Result<std::unique_ptr<BeastExchangeLoop>> create(BeastExchangeLoopOptions options);
  ~BeastExchangeLoop() override;
  BeastExchangeLoop(const BeastExchangeLoop&) = delete;
  BeastExchangeLoop& operator=(const BeastExchangeLoop&) = delete;

  Clock::time_point now() const override;  // the steady clock
  void start(HttpRequest request, Clock::time_point deadline, Done done) override;
  TimerId at(Clock::time_point when, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void abort_all() override;
  void run() override;
  void set_idle_hook(std::function<void()> fn) override;
  std::size_t connections_opened() const override;

  // Idle keep-alive connections in the pool now, over all origins (for tests).
  std::size_t idle_connections() const;

 private:
  struct Impl;
  explicit BeastExchangeLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gt
