#include "gt/http.hpp"

#include <algorithm>
#include <cctype>

#include "gt/ascii.hpp"

namespace gt {

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (ascii_iequals(h.name, name)) return h.value;
  }
  return {};
}

std::string HttpRequest::url() const {
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://" + (ipv6 ? "[" + host + "]" : host);
  if (!default_port) out += ":" + std::to_string(port);
  return out + target;
}

const char* failure_name(TransportFailure f) {
  switch (f) {
    case TransportFailure::kDns:
      return "dns";
    case TransportFailure::kConnectRefused:
      return "connection-refused";
    case TransportFailure::kConnectFailed:
      return "connect-failed";
    case TransportFailure::kTlsUntrusted:
      return "tls-untrusted";
    case TransportFailure::kTlsExpired:
      return "tls-expired";
    case TransportFailure::kTlsHostMismatch:
      return "tls-host-mismatch";
    case TransportFailure::kTlsSelfSigned:
      return "tls-self-signed";
    case TransportFailure::kTlsHandshake:
      return "tls-handshake";
    case TransportFailure::kProxyAuth:
      return "proxy-auth";
    case TransportFailure::kProxy:
      return "proxy";
    case TransportFailure::kTimeout:
      return "timeout";
    case TransportFailure::kConnectionLost:
      return "connection-lost";
    case TransportFailure::kProtocol:
      return "protocol";
    case TransportFailure::kTooLarge:
      return "too-large";
    case TransportFailure::kInterrupted:
      return "interrupted";
    case TransportFailure::kLocal:
      return "local";
  }
  return "unknown";
}

}  // namespace gt
