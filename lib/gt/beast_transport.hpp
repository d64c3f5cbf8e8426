// gt/beast_transport: the real Transport — HTTP/1.1 over TLS (or plain HTTP to loopback) with
// Boost.Beast, Asio and OpenSSL. Only the gt_beast .cpp files include them (this one's,
// gt/beast_common's, which it shares with gt/beast_exchange_loop, and that one's); this header
// does not.
//
// TLS: TLS 1.2 minimum (1.3 preferred), the system trust store (honouring SSL_CERT_FILE and
// SSL_CERT_DIR as OpenSSL defines them) plus an optional extra CA file, peer verification, SNI for
// host names (not IP literals) and host-name verification against the URL's host. A verification
// failure says which check failed and names the certificate's subject and issuer.
//
// Proxies: each request goes through the HTTP proxy options.proxy picks for its scheme and host
// (gt/proxy), tunnelled with CONNECT; TLS and its checks are with the origin, never the proxy.
//
// Connections: one keep-alive connection per origin (and proxy) is kept and reused while the
// server allows it; a pooled connection the peer has closed is discarded before use. One deadline
// bounds the whole exchange (resolve, connect, handshake, write, read).
#pragma once

#include <memory>
#include <string>

#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/probe.hpp"
#include "gt/proxy.hpp"

namespace gt {

struct BeastTransportOptions {
  std::string cacert_file;  // extra trusted CA(s), PEM; "" for none
  ResponseLimits limits;
  bool allow_plain_http_to_any_host = false;  // never set by the CLI; loopback only otherwise
  ProxySettings proxy;  // which requests go through an HTTP proxy (gt/proxy); none by default
};

class BeastTransport final : public Transport {
 public:
  // Fails (kUsage) when cacert_file cannot be read or holds no certificate.
  static Result<std::unique_ptr<BeastTransport>> create(BeastTransportOptions options);
  ~BeastTransport() override;

  bool send(const HttpRequest& request, Clock::time_point deadline, HttpResponse& response,
            TransportError& error) override;

  // Resolves, connects (through the proxy the options choose for request.host, opening its
  // CONNECT tunnel) and, when request.tls, performs the TLS handshake with request.host, with
  // this transport's TLS context, then closes the connection; reports each step (gt/probe). Never
  // sends an HTTP request. Bounded by request.timeout; SIGINT stops it (error kInterrupted).
  ConnectionProbe probe(const ProbeRequest& request);

  // Connections opened so far (for tests of keep-alive reuse).
  std::size_t connections_opened() const;

 private:
  struct Impl;
  explicit BeastTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gt
