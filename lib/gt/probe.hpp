// gt/probe: what `graph-threads doctor` learns about the way to a host, step by step — name
// resolution, the TCP connection, a proxy's CONNECT tunnel and the TLS handshake — in std types.
// The real probe is gt::BeastTransport::probe (it opens the connection exactly as a request would,
// with the same TLS context and proxy rules); app tests use a recording fake behind
// app::Deps::probe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gt/http.hpp"

namespace gt {

struct ProbeRequest {
  std::string host;  // the origin: name or IP literal
  std::uint16_t port = 443;
  // Whether to perform the TLS handshake (SNI and host-name verification against `host`) after
  // connecting; false for a plain http:// (loopback) origin. When the transport's proxy settings
  // send `host` through a proxy, the name resolved and connected to is the proxy's, a CONNECT
  // tunnel to host:port is opened, and TLS runs inside it, with `host`.
  bool tls = true;
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);  // all steps together
};

// How far the probe got. Each step's fields are meaningful once the step was reached; `error`
// says which step failed (kDns, kConnect*, kProxy*, kTls*, kTimeout, ...) and is empty when all
// succeeded.
struct ConnectionProbe {
  // The proxy the connection went through ("http://user:***@proxy:3128", from display()), or ""
  // for a direct one. DNS and TCP below are then the proxy's.
  std::string proxy;
  std::string proxy_source;  // "HTTPS_PROXY", "--proxy", ...
  // Name resolution.
  std::vector<std::string> addresses;  // every address the name resolved to
  std::chrono::milliseconds resolve_time{0};
  // TCP.
  bool connected = false;
  std::string endpoint;  // "address:port" the socket connected to
  std::chrono::milliseconds connect_time{0};
  // The CONNECT tunnel, through a proxy.
  bool tunneled = false;
  std::chrono::milliseconds tunnel_time{0};
  // TLS (only when ProbeRequest::tls).
  bool tls_attempted = false;
  bool tls_ok = false;
  std::string tls_version;    // "TLSv1.3"
  std::string cipher;         // "TLS_AES_256_GCM_SHA384"
  std::string subject;        // the server's certificate (RFC 2253), also when it was refused
  std::string issuer;         // its issuer
  std::string not_after;      // "Nov 27 12:00:00 2027 GMT"
  std::string verify_result;  // "ok", or what the certificate verification reported
  std::chrono::milliseconds tls_time{0};

  std::optional<TransportError> error;
};

}  // namespace gt
