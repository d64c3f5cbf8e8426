// emulator/server: a Boost.Beast HTTP/1.1 server (TLS or plain) on one io_context, keep-alive,
// many concurrent connections, in front of any Handler (usually an emulator::Router), a FaultPlan
// and optional Limits.
//
// Per accepted connection the server asks the FaultPlan for a connection fault (kDropOnAccept,
// kStallHandshake). Per request read it records the request (see received()), asks for a request
// fault, and then:
//   1. kStall holds the connection; kDelay waits (asynchronously) before going on;
//   2. a kStatus fault is answered at once, without limits or the handler;
//   3. otherwise Limits::admit() decides: a rejection is answered 429 at once; an admitted request
//      holds its slot while the server waits the configured latency (asynchronously: the io
//      thread keeps serving every other connection) and while the handler runs;
//   4. the answer is written, or mangled as the fault says (see emulator/faults.hpp).
// Requests whose path starts with `unmetered_prefix` (the control API) skip all of that: no
// fault, no limit, no latency, not recorded, not counted in the fault plan's request numbers.
//
// Requests whose header exceeds max_header_bytes get 431, bodies over max_body_bytes 413, and
// unparseable requests 400; each closes the connection. Keep-alive follows the request
// (HTTP/1.1 default on, "Connection: close" off). "Expect: 100-continue" is honoured. Idle
// keep-alive connections are closed after two minutes.
//
// The only emulator file that includes Beast/Asio/OpenSSL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/certs.hpp"
#include "emulator/faults.hpp"
#include "emulator/graph_service.hpp"
#include "emulator/handler.hpp"
#include "emulator/limits.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"

namespace gt::emulator {

// One request as the server handled it, for logs.
struct RequestLog {
  std::string method;
  std::string target;
  int status = 0;  // 0: no (complete) answer was sent (kStall, kDropAfterRead, kTruncateBody)
  std::chrono::milliseconds elapsed{0};  // from the request read to the answer written
  FaultKind fault = FaultKind::kNone;
  int fault_status = 0;                // kStatus: its status
  Verdict limit = Verdict::kAdmitted;  // a 429 from the Limits says which one
};

struct ServerOptions {
  std::string host = "127.0.0.1";     // an IP literal, or "localhost" (binds 127.0.0.1)
  std::uint16_t port = 0;             // 0: the OS picks one; see Server::port()
  std::optional<CertificatePem> tls;  // nullopt: plain HTTP; TLS 1.2 minimum otherwise
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // Called on the server thread once each request read has been handled (answered, dropped or
  // stalled); must not block (it delays every connection); may be empty.
  std::function<void(const RequestLog&)> on_request;
  // Latency, concurrency and rate limits; nullptr: none. Not owned; must outlive the server.
  Limits* limits = nullptr;
  // How many of the most recent requests received() keeps (each a full copy). 0 records nothing,
  // which is what a long-running emulator wants.
  std::size_t keep_received = 1000;
  // Requests under this path prefix bypass faults, limits and recording (see above); "" for none.
  std::string unmetered_prefix = "/_emulator/";
};

// The name of the server's io thread (as top -H and /proc/PID/task/TID/comm show it).
inline constexpr const char* kIoThreadName = "gt-emulator-io";

class Server {
 public:
  Server(ServerOptions options, Handler& service, FaultPlan& faults);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a background thread. Fails (kNetwork) when the address cannot be
  // bound, (kUsage) when the host is not an IP literal or "localhost", when the certificate or key
  // is unusable, or when called twice.
  Status start();
  // Stops accepting, closes every connection (stalled ones included), joins the thread.
  // Idempotent; the server cannot be started again.
  // REQUIRES: not called on the server thread (e.g. from on_request).
  void stop();

  // REQUIRES: start() succeeded.
  std::uint16_t port() const;
  // "https://127.0.0.1:PORT" (or http://; IPv6 as "https://[::1]:PORT").
  // REQUIRES: start() succeeded.
  std::string url() const;

  // The last `keep_received` requests read, in arrival order (for tests that assert on what the
  // client sent); scheme, host and port are the listener's, headers are as received. Requests
  // rejected with 400/413/431 and unmetered ones are not recorded. Thread-safe.
  std::vector<HttpRequest> received() const;
  std::size_t connections_accepted() const;
  // The most metered requests that were in flight at once so far (0 before the first). A request
  // is in flight from when it has been read until its answer starts to be written (before the
  // client can see any of it), or until the connection ends without one (kDropAfterRead; a kStall
  // request stays in flight until the client leaves). Unmetered requests and those rejected with
  // 400/413/431 never count. For tests of client concurrency: a client that keeps at most N
  // requests in flight never makes this exceed N. Thread-safe.
  std::size_t peak_in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gt::emulator
