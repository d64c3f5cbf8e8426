// gt/http: one HTTP exchange in std types, and the Transport seam that performs it.
//
// Everything above the transport (graph_client, auth, the app) sees only these types; the one
// implementation that speaks Beast/Asio/OpenSSL is gt/beast_transport. Tests use a recording fake.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gt {

struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};

// Case-insensitive header lookup; returns "" when absent.
std::string_view find_header(const std::vector<Header>& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";  // "https" or "http"
  std::string host;
  std::uint16_t port = 443;
  std::string target = "/";     // origin-form: path (already percent-encoded) and query
  std::vector<Header> headers;  // Host, Content-Length and Connection are added by the transport
  std::string body;
  // Open a new connection even if a pooled keep-alive connection to the same origin exists
  // (Graph asks for this when retrying after a 503).
  bool fresh_connection = false;

  std::string_view header(std::string_view name) const { return find_header(headers, name); }
  // "https://host[:port]/target"
  std::string url() const;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::string body;

  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

// Why an exchange failed without a complete response.
enum class TransportFailure {
  kDns,              // the host name did not resolve
  kConnectRefused,   // nothing listens on the port
  kConnectFailed,    // unreachable, reset during connect, ...
  kTlsUntrusted,     // certificate chain does not lead to a trusted root
  kTlsExpired,       // a certificate in the chain is expired or not yet valid
  kTlsHostMismatch,  // the certificate is not for the host we asked for
  kTlsSelfSigned,    // the server presented a self-signed certificate that is not trusted
  kTlsHandshake,     // any other TLS failure (protocol version, alert, ...)
  kProxyAuth,        // the HTTP proxy answered CONNECT with 407 (or 401): credentials needed
  kProxy,            // the HTTP proxy refused the tunnel otherwise (403, 502, ...)
  kTimeout,          // the deadline passed
  kConnectionLost,   // the connection closed or reset mid-exchange
  kProtocol,         // the peer did not speak valid HTTP/1.1
  kTooLarge,         // response header or body exceeded the configured limit
  kInterrupted,      // SIGINT arrived
  kLocal,            // local problem: unreadable --cacert, out of file descriptors, ...
};

const char* failure_name(TransportFailure f);  // "dns", "connect-refused", ...

struct TransportError {
  TransportFailure failure = TransportFailure::kConnectFailed;
  // How much of the request reached the connection. If nothing was written the server cannot
  // have acted on it, so even a POST may be sent again; anything else makes a POST's outcome
  // unknown.
  bool request_bytes_written = false;
  // Set when a status line had been read before the failure (e.g. body too large/truncated).
  int status = 0;
  std::string message;  // one line, says which check or step failed
  std::string hint;     // what the user can do about it; may be empty
};

// Resource limits for reading a response.
struct ResponseLimits {
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
};

// Performs one HTTP/1.1 exchange. Implementations must
//  - finish (successfully or not) before `deadline`, covering resolve, connect, handshake, write
//    and read together;
//  - report request_bytes_written truthfully: false only when no byte of this request was handed
//    to the connection;
//  - never follow redirects (a 3xx is a response like any other).
// Returns true and fills `response`, or false and fills `error`.
class Transport {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Transport() = default;
  virtual bool send(const HttpRequest& request, Clock::time_point deadline, HttpResponse& response,
                    TransportError& error) = 0;
};

}  // namespace gt
