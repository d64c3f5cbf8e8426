// The emulator's network side: Boost.Beast over Asio C++20 coroutines, one io_context run by one
// background thread. Every connection is a coroutine; everything it touches (the connection
// registry, the stopping flag) lives on that thread, so only `received` needs a lock (the
// FaultPlan and Limits lock themselves).
//
// Throughput notes (bench/emulator_throughput): an answer is written as one buffer built straight
// from the HttpResponse (one TLS record and one send() per answer, no Beast message in between);
// request bodies are moved, not copied, into the std types; nothing is recorded unless asked for.
#include "emulator/server.hpp"

#include <openssl/ssl.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace gt::emulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Completion token: errors come back as the first tuple element instead of exceptions.
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

constexpr std::chrono::seconds kIdleTimeout{120};    // waiting for a keep-alive request
constexpr std::chrono::seconds kIoTimeout{30};       // handshake, body, writes
constexpr std::chrono::seconds kShutdownTimeout{5};  // lingering close / TLS close_notify
constexpr std::chrono::seconds kStopGracePeriod{2};  // stop(): then the io_context is stopped

using TlsStream = ssl::stream<beast::tcp_stream>;

// The first non-empty buffer of a sequence (an empty one if there is none).
template <class Buffer, class Sequence>
Buffer first_buffer(const Sequence& buffers) {
  for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
       ++it) {
    Buffer b(*it);
    if (b.size() > 0) return b;
  }
  return Buffer();
}

// A move-only completion handler for void(error_code, size_t) whose type does not depend on the
// handler it wraps. It keeps the wrapped handler's associated executor and drops its allocator
// and cancellation slot, which nothing here uses (connections are cancelled by closing them).
// (asio::any_completion_handler would do, but Boost 1.81's does not work with Beast's
// tcp_stream: its executor type lacks blocking.never.)
class ErasedHandler {
 public:
  using executor_type = net::any_io_executor;

  template <class Handler>
  ErasedHandler(Handler handler, const executor_type& fallback)
      : executor_(net::get_associated_executor(handler, fallback)),
        impl_(std::make_unique<Impl<Handler>>(std::move(handler))) {}

  executor_type get_executor() const noexcept { return executor_; }

  void operator()(beast::error_code ec, std::size_t bytes) {
    std::unique_ptr<Base> impl = std::move(impl_);  // invoked once
    impl->call(ec, bytes);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call(beast::error_code ec, std::size_t bytes) = 0;
  };
  template <class Handler>
  struct Impl final : Base {
    explicit Impl(Handler h) : handler(std::move(h)) {}
    void call(beast::error_code ec, std::size_t bytes) override { std::move(handler)(ec, bytes); }
    Handler handler;
  };

  executor_type executor_;
  std::unique_ptr<Base> impl_;
};

// One stream type for TLS and plain connections, whose async_read_some/async_write_some erase
// the completion handler's type and pass one buffer down.
//
// Why: Asio's SSL stream instantiates its state machine anew for every (handler, buffers) type
// pair it is called with, and each Beast operation used here (read header, read body, write,
// write header, 100 Continue) brings its own pair, twice over when TLS and plain streams are
// separate types. Funnelling every call through one non-template function per direction cuts this
// file's compile time by about half. Passing only the first non-empty buffer is allowed: a
// *_some operation may transfer less than it was offered, and Beast's operations loop until done.
// It makes every buffer its own write (and TLS record), though, so answers are written as one
// buffer (see to_wire).
class ServerStream {
 public:
  using executor_type = net::any_io_executor;

  ServerStream(tcp::socket socket, ssl::context* tls) {
    if (tls) {
      tls_.emplace(std::move(socket), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  executor_type get_executor() { return lowest().get_executor(); }
  beast::tcp_stream& lowest() { return tls_ ? tls_->next_layer() : *plain_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, net::mutable_buffer b) {
          read_some(b, ErasedHandler(std::move(handler), get_executor()));
        },
        token, first_buffer<net::mutable_buffer>(buffers));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, net::const_buffer b) {
          write_some(b, ErasedHandler(std::move(handler), get_executor()));
        },
        token, first_buffer<net::const_buffer>(buffers));
  }

 private:
  void read_some(net::mutable_buffer b, ErasedHandler handler) {
    if (tls_) {
      tls_->async_read_some(b, std::move(handler));
    } else {
      plain_->async_read_some(b, std::move(handler));
    }
  }
  void write_some(net::const_buffer b, ErasedHandler handler) {
    if (tls_) {
      tls_->async_write_some(b, std::move(handler));
    } else {
      plain_->async_write_some(b, std::move(handler));
    }
  }

  std::optional<TlsStream> tls_;
  std::optional<beast::tcp_stream> plain_;
};

std::string host_for_url(const net::ip::address& address) {
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

// The request in std types; the body is moved out of `req`.
HttpRequest to_http_request(http::request<http::string_body>& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.headers.reserve(8);
  for (const auto& field : req) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  out.body = std::move(req.body());
  return out;
}

// No CR or LF, which would end the header line early. (One memchr each: find_first_of with a set
// calls memchr per character, which profiling showed costs more than the rest of to_wire.)
bool is_field_text(std::string_view s) {
  return s.find('\r') == std::string_view::npos && s.find('\n') == std::string_view::npos;
}

bool is_framing_header(std::string_view name) {
  return beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
         beast::iequals(name, "Connection");
}

// The answer as the bytes that go on the wire, status line to body, in one string, so that it is
// written with one send() and, over TLS, one record. Beast's serializer hands out the status line,
// every header field and the body as separate buffers, and a write_some on ServerStream (and on
// Asio's SSL stream) takes one buffer at a time: callgrind counted 12 SSL_write calls, so 12 TLS
// records and 12 sendmsg(), per answer, a third of the server's instructions per create. Built by
// hand rather than through a Beast message, which would cost a field table, a copy and a
// serializer per answer for the same bytes.
//
// Framing is the server's business: the handler's Content-Length, Transfer-Encoding and Connection
// headers are dropped, Content-Length is always sent except where HTTP forbids a body (1xx, 204,
// 304), and Connection says what `keep_alive` decided. Headers with CR or LF are dropped too.
std::string to_wire(const HttpResponse& response, unsigned http_version, bool keep_alive) {
  const int status = response.status;
  const bool bodiless = (status >= 100 && status < 200) || status == 204 || status == 304;
  std::string_view reason = response.reason;
  if (reason.empty()) reason = reason_phrase(status);
  if (reason.empty()) reason = "Unknown";

  std::string wire;
  wire.reserve(512 + response.body.size());
  wire += "HTTP/";
  wire += static_cast<char>('0' + http_version / 10);
  wire += '.';
  wire += static_cast<char>('0' + http_version % 10);
  wire += ' ';
  wire += std::to_string(status);
  wire += ' ';
  wire += reason;
  wire += "\r\n";
  for (const auto& h : response.headers) {
    if (is_framing_header(h.name) || !is_field_text(h.name) || !is_field_text(h.value) ||
        h.name.find(':') != std::string::npos) {
      continue;
    }
    wire += h.name;
    wire += ": ";
    wire += h.value;
    wire += "\r\n";
  }
  if (!bodiless) {
    wire += "Content-Length: ";
    wire += std::to_string(response.body.size());
    wire += "\r\n";
  }
  if (http_version >= 11 && !keep_alive) wire += "Connection: close\r\n";
  if (http_version < 11 && keep_alive) wire += "Connection: keep-alive\r\n";
  wire += "\r\n";
  if (!bodiless) wire += response.body;
  return wire;
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "graph-threads-emulator: connection failed: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "graph-threads-emulator: connection failed: unknown exception\n");
  }
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Handler& s, FaultPlan& f) : options(std::move(o)), service(s), faults(f) {}

  // Declaration order matters for destruction: the io_context (and with it any coroutine frame
  // still suspended) must go before the registry and the TLS context those frames refer to.
  ServerOptions options;
  Handler& service;
  FaultPlan& faults;
  std::optional<ssl::context> tls_context;
  std::map<std::uint64_t, std::function<void()>> open_connections;  // server thread only
  std::uint64_t next_connection_id = 0;                             // server thread only
  bool stopping = false;                                            // server thread only
  mutable std::mutex received_mu;
  std::deque<HttpRequest> received;  // the last options.keep_received requests
  std::atomic<std::size_t> accepted{0};
  std::size_t in_flight = 0;                   // server thread only
  std::atomic<std::size_t> peak_in_flight{0};  // written by the server thread only
  tcp::endpoint local;
  std::string local_host;  // local.address() as text, for HttpRequest::host
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::promise<void> run_done;
  std::thread thread;
  bool started = false;
  bool stopped = false;

  // Registers a connection's "close everything" action until the guard goes out of scope, so
  // that stop() can close stalled connections. A connection that starts after stop() began is
  // closed at once.
  class Registration {
   public:
    Registration(Impl& impl, std::function<void()> close) : impl_(impl) {
      if (impl_.stopping) {
        close();
        return;
      }
      id_ = ++impl_.next_connection_id;
      impl_.open_connections.emplace(id_, std::move(close));
    }
    ~Registration() {
      if (id_ != 0) impl_.open_connections.erase(id_);
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    Impl& impl_;
    std::uint64_t id_ = 0;
  };

  // Counts one metered request as in flight (see Server::peak_in_flight) while it lives.
  class InFlight {
   public:
    explicit InFlight(Impl& impl) : impl_(impl) {
      const std::size_t now = ++impl_.in_flight;
      if (now > impl_.peak_in_flight.load(std::memory_order_relaxed)) {
        impl_.peak_in_flight.store(now, std::memory_order_relaxed);
      }
    }
    ~InFlight() { --impl_.in_flight; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Impl& impl_;
  };

  Status bind();
  Status make_tls_context();
  void close_all();

  net::awaitable<void> accept_loop();
  net::awaitable<void> connection(tcp::socket socket);
  net::awaitable<void> serve(ServerStream& stream, const Fault& connection_fault);
  net::awaitable<bool> serve_one(ServerStream& stream, beast::flat_buffer& buffer,
                                 net::steady_timer& timer);
  net::awaitable<std::optional<HttpResponse>> answer(const HttpRequest& request, const Fault& fault,
                                                     net::steady_timer& timer, Verdict& limit);
  net::awaitable<bool> wait(net::steady_timer& timer, std::chrono::milliseconds duration);
  net::awaitable<void> reject(ServerStream& stream, const http::request_header<>& header,
                              int status, std::string_view code, std::string message);
  net::awaitable<void> graceful_close(ServerStream& stream);
  net::awaitable<void> wait_for_peer_close(beast::tcp_stream& lowest);

  void record(const HttpRequest& request) {
    if (options.keep_received == 0) return;
    std::lock_guard lock(received_mu);
    if (received.size() >= options.keep_received) received.pop_front();
    received.push_back(request);
  }

  bool is_unmetered(const HttpRequest& request) const {
    return !options.unmetered_prefix.empty() &&
           request.target.starts_with(options.unmetered_prefix);
  }

  void log(const HttpRequest& request, int status, SteadyClock::time_point started_at,
           const Fault& fault = {}, Verdict limit = Verdict::kAdmitted) const {
    if (!options.on_request) return;
    options.on_request(RequestLog{
        .method = request.method,
        .target = request.target,
        .status = status,
        .elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started_at),
        .fault = fault.kind,
        .fault_status = fault.kind == FaultKind::kStatus ? fault.status : 0,
        .limit = limit,
    });
  }
};

Status Server::Impl::make_tls_context() {
  try {
    tls_context.emplace(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Error::usage(std::string("cannot create a TLS context: ") + e.what());
  }
  // tls_server allows every version OpenSSL does; TLS 1.2 is the floor Graph itself enforces.
  SSL_CTX_set_min_proto_version(tls_context->native_handle(), TLS1_2_VERSION);
  tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3);
  beast::error_code ec;
  tls_context->use_certificate_chain(net::buffer(options.tls->cert), ec);
  if (ec) {
    return Error::usage("the TLS certificate is unusable (expected a PEM chain): " + ec.message());
  }
  tls_context->use_private_key(net::buffer(options.tls->key), ssl::context::pem, ec);
  if (ec) {
    return Error::usage("the TLS private key is unusable (expected a PEM key): " + ec.message());
  }
  if (SSL_CTX_check_private_key(tls_context->native_handle()) != 1) {
    return Error::usage("the TLS private key does not match the certificate");
  }
  return ok_status();
}

Status Server::Impl::bind() {
  beast::error_code ec;
  const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return Error::usage("cannot listen on \"" + options.host +
                        "\": not an IP address or \"localhost\"");
  }
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = host_for_url(address) + ":" + std::to_string(options.port);
  auto failed = [&](const char* step) {
    return Error::network("cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec)) return failed("open");
  // Lets a restarted emulator reuse its port while old connections sit in TIME_WAIT. (On Linux
  // this does not let two listeners share a port.)
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return failed("setsockopt");
  if (acceptor.bind(endpoint, ec)) return failed("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return failed("listen");
  local = acceptor.local_endpoint(ec);
  if (ec) return failed("getsockname");
  local_host = local.address().to_string();
  return ok_status();
}

// Runs on the server thread.
void Server::Impl::close_all() {
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  // Closing may complete handlers that erase themselves from the map: iterate over a copy.
  auto connections = open_connections;
  for (auto& [id, close] : connections) close();
}

net::awaitable<void> Server::Impl::accept_loop() {
  net::steady_timer backoff(ioc);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (stopping || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // E.g. EMFILE: wait a little instead of spinning on the same error.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    ++accepted;
    // Responses go out as several writes (TLS records for header and body); with Nagle on, the
    // second waits for the client's delayed ACK and every answer costs ~40 ms.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(ioc, connection(std::move(socket)), log_exception);
  }
}

net::awaitable<void> Server::Impl::connection(tcp::socket socket) {
  const Fault fault = faults.next_for_connection();
  if (fault.kind == FaultKind::kDropOnAccept) {
    beast::error_code ignored;
    socket.close(ignored);
    co_return;
  }
  ServerStream stream(std::move(socket), tls_context ? &*tls_context : nullptr);
  co_await serve(stream, fault);
}

net::awaitable<void> Server::Impl::serve(ServerStream& stream, const Fault& connection_fault) {
  beast::tcp_stream& lowest = stream.lowest();
  net::steady_timer timer(ioc);  // kDelay and latency
  const Registration registration(*this, [&lowest, &timer] {
    beast::error_code ignored;
    lowest.socket().close(ignored);
    timer.cancel();
  });
  if (connection_fault.kind == FaultKind::kStallHandshake) {
    co_await wait_for_peer_close(lowest);
    co_return;
  }
  if (TlsStream* tls = stream.tls()) {
    lowest.expires_after(kIoTimeout);
    auto [ec] = co_await tls->async_handshake(ssl::stream_base::server, kNoThrow);
    if (ec) co_return;  // the client gave up, did not trust us, or did not speak TLS
  }
  beast::flat_buffer buffer;  // one per connection: it may hold the start of the next request
  while (co_await serve_one(stream, buffer, timer)) {
  }
}

// Reads, handles and answers one request. Returns whether the connection stays open for another.
net::awaitable<bool> Server::Impl::serve_one(ServerStream& stream, beast::flat_buffer& buffer,
                                             net::steady_timer& timer) {
  beast::tcp_stream& lowest = stream.lowest();
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));

  lowest.expires_after(kIdleTimeout);
  auto [header_ec, header_bytes] =
      co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  (void)header_bytes;
  beast::error_code ec = header_ec;
  if (!ec && !parser.is_done()) {
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      lowest.expires_after(kIoTimeout);
      auto [continue_ec, continue_bytes] = co_await http::async_write(stream, go_on, kNoThrow);
      (void)continue_bytes;
      if (continue_ec) co_return false;
    }
    lowest.expires_after(kIoTimeout);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    (void)body_bytes;
    ec = body_ec;
  }
  if (ec == http::error::header_limit) {
    co_await reject(stream, parser.get().base(), 431, "RequestHeaderFieldsTooLarge",
                    "The request header is larger than " +
                        std::to_string(options.max_header_bytes) + " bytes.");
    co_return false;
  }
  if (ec == http::error::body_limit) {
    co_await reject(
        stream, parser.get().base(), 413, "RequestEntityTooLarge",
        "The request body is larger than " + std::to_string(options.max_body_bytes) + " bytes.");
    co_return false;
  }
  if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    co_await reject(stream, parser.get().base(), 400, "BadRequest",
                    "The request is not valid HTTP/1.1: " + ec.message());
    co_return false;
  }
  if (ec) co_return false;  // the peer closed, reset, or idled out

  const auto started_at = SteadyClock::now();
  http::request<http::string_body>& req = parser.get();
  const unsigned version = req.version();
  HttpRequest request = to_http_request(req);
  request.scheme = tls_context ? "https" : "http";
  request.host = local_host;
  request.port = local.port();
  const bool unmetered = is_unmetered(request);
  if (!unmetered) record(request);
  const Fault fault = unmetered ? Fault{} : faults.next_for_request();
  // In flight from here until the answer is handed to the connection, or the connection ends
  // without one.
  std::optional<InFlight> in_flight_guard;
  if (!unmetered) in_flight_guard.emplace(*this);

  if (fault.kind == FaultKind::kStall) {
    log(request, 0, started_at, fault);
    co_await wait_for_peer_close(lowest);
    co_return false;
  }
  Verdict limit = Verdict::kAdmitted;
  // (Not a conditional expression: g++ 12 miscompiles co_await inside ?:.)
  std::optional<HttpResponse> answered;
  if (unmetered) {
    answered = service.handle(request);
  } else {
    answered = co_await answer(request, fault, timer, limit);
  }
  if (!answered) co_return false;  // stop() interrupted a wait
  HttpResponse& response = *answered;

  if (fault.kind == FaultKind::kDropAfterRead) {
    // The service has acted (a create created); the client never learns of it.
    log(request, 0, started_at, fault, limit);
    beast::error_code ignored;
    lowest.socket().close(ignored);
    co_return false;
  }
  if (fault.kind == FaultKind::kOversizedBody && response.body.size() < fault.size) {
    response.body.append(fault.size - response.body.size(), ' ');  // still valid JSON
  }
  if (fault.kind == FaultKind::kOversizedHeader) {
    // Beast caps one field value at 64 KiB, so larger paddings are spread over repeated fields.
    constexpr std::size_t kMaxFieldValue = 60000;
    for (std::size_t left = fault.size; left > 0;) {
      const std::size_t n = std::min(left, kMaxFieldValue);
      response.headers.push_back({"X-Emulator-Padding", std::string(n, 'a')});
      left -= n;
    }
  }

  const int status = response.status;
  const bool keep_alive = parser.keep_alive() && fault.kind != FaultKind::kTruncateBody;
  std::string wire = to_wire(response, version, keep_alive);
  lowest.expires_after(kIoTimeout);

  if (fault.kind == FaultKind::kTruncateBody) {
    // Content-Length announces the whole body; half of it is sent, then the connection closes
    // without a TLS close_notify, as a crashed or cut-off server would.
    const std::size_t body = response.body.size();
    wire.resize(wire.size() - (body - body / 2));
    // No longer in flight once the answer is handed to the connection, in this handler: the
    // client cannot see a byte of it, finish and send its next request before the count drops,
    // so a client that keeps N requests in flight never shows more than N here.
    in_flight_guard.reset();
    auto [cut_ec, cut_bytes] = co_await net::async_write(stream, net::buffer(wire), kNoThrow);
    (void)cut_ec;
    (void)cut_bytes;
    log(request, 0, started_at, fault, limit);
    beast::error_code ignored;
    lowest.socket().close(ignored);
    co_return false;
  }

  in_flight_guard.reset();  // answered: see the kTruncateBody case above
  auto [write_ec, write_bytes] = co_await net::async_write(stream, net::buffer(wire), kNoThrow);
  (void)write_bytes;
  log(request, write_ec ? 0 : status, started_at, fault, limit);
  if (write_ec) co_return false;
  if (!keep_alive) {
    co_await graceful_close(stream);
    co_return false;
  }
  co_return true;
}

// The answer to a metered request, after the fault's delay and the limits' verdict and latency;
// nullopt when stop() interrupted a wait. Sets `limit` when the Limits refused the request.
net::awaitable<std::optional<HttpResponse>> Server::Impl::answer(const HttpRequest& request,
                                                                 const Fault& fault,
                                                                 net::steady_timer& timer,
                                                                 Verdict& limit) {
  if (fault.kind == FaultKind::kDelay && !co_await wait(timer, fault.delay)) co_return std::nullopt;
  if (fault.kind == FaultKind::kStatus) co_return status_fault_response(fault, request);
  if (!options.limits) co_return service.handle(request);

  Limits::Admission admission = options.limits->admit(request.header("authorization"));
  if (admission.verdict != Verdict::kAdmitted) {
    limit = admission.verdict;
    co_return throttled_response(admission, request);
  }
  // The request holds its concurrency slot (admission.lease) through the latency and the handler.
  const auto latency = options.limits->latency();
  if (latency.count() > 0 && !co_await wait(timer, latency)) co_return std::nullopt;
  co_return service.handle(request);
}

// Waits `duration` on the connection's timer. A timer, not a sleep: the one server thread keeps
// serving other connections meanwhile. False when stop() cancelled the wait.
net::awaitable<bool> Server::Impl::wait(net::steady_timer& timer,
                                        std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  auto [ec] = co_await timer.async_wait(kNoThrow);
  co_return !ec && !stopping;
}

// Answers a request the server could not read (400/413/431) and closes the connection.
net::awaitable<void> Server::Impl::reject(ServerStream& stream,
                                          const http::request_header<>& header, int status,
                                          std::string_view code, std::string message) {
  HttpRequest partial;
  partial.method = std::string(header.method_string());
  partial.target = std::string(header.target());
  for (const auto& field : header) {
    partial.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  const std::string wire = to_wire(graph_error_response(partial, status, code, message), 11, false);
  stream.lowest().expires_after(kIoTimeout);
  const auto started_at = SteadyClock::now();
  auto [ec, bytes] = co_await net::async_write(stream, net::buffer(wire), kNoThrow);
  (void)bytes;
  log(partial, ec ? 0 : status, started_at);
  if (!ec) co_await graceful_close(stream);
}

// Ends a connection after a complete answer so that the answer survives: a close with unread
// request bytes pending would make the kernel send RST, which can destroy the answer before the
// client reads it. So: say we are done writing, drain what the client still sends (bounded), then
// close.
net::awaitable<void> Server::Impl::graceful_close(ServerStream& stream) {
  beast::tcp_stream& lowest = stream.lowest();
  lowest.expires_after(kShutdownTimeout);
  if (TlsStream* tls = stream.tls()) {
    // Sends our close_notify and waits for the client's. Most clients just close the socket
    // instead, which surfaces here as ssl::error::stream_truncated. That is harmless: close_notify
    // guards against truncation of data whose end is the connection's end, and every answer we
    // send carries a Content-Length. Other errors (timeout, reset) leave nothing to do either;
    // the socket is closed below whatever happened.
    auto [ec] = co_await tls->async_shutdown(kNoThrow);
    (void)ec;
  } else {
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 4096> sink{};
    for (;;) {
      auto [ec, n] = co_await lowest.async_read_some(net::buffer(sink), kNoThrow);
      (void)n;
      if (ec) break;
    }
  }
  beast::error_code ignored;
  lowest.socket().close(ignored);
}

// Holds a connection open, reading and discarding whatever arrives, until the peer closes it or
// stop() closes it. No deadline: that is the point of the stall faults.
net::awaitable<void> Server::Impl::wait_for_peer_close(beast::tcp_stream& lowest) {
  lowest.expires_never();
  std::array<char, 4096> sink{};
  for (;;) {
    auto [ec, n] = co_await lowest.socket().async_read_some(net::buffer(sink), kNoThrow);
    (void)n;
    if (ec) break;
  }
  beast::error_code ignored;
  lowest.socket().close(ignored);
}

// ---- Server ------------------------------------------------------------------------------------

Server::Server(ServerOptions options, Handler& service, FaultPlan& faults)
    : impl_(std::make_unique<Impl>(std::move(options), service, faults)) {}

Server::~Server() {
  stop();
}

Status Server::start() {
  Impl& impl = *impl_;
  if (impl.started) return Error::usage("the emulator server was already started");
  if (impl.options.tls) {
    if (auto st = impl.make_tls_context(); !st) return st;
  }
  if (auto st = impl.bind(); !st) return st;
  impl.started = true;
  net::co_spawn(impl.ioc, impl.accept_loop(), log_exception);
  impl.thread = std::thread([&impl] {
    impl.ioc.run();
    impl.run_done.set_value();
  });
  // For top -H, perf and bench/emulator_throughput, which reads this thread's CPU time.
  pthread_setname_np(impl.thread.native_handle(), kIoThreadName);
  return ok_status();
}

void Server::stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  net::post(impl.ioc, [&impl] { impl.close_all(); });
  // Closing every socket and timer makes each coroutine finish, and run() returns when none is
  // left. Should one linger anyway, stop the loop: its frame is then destroyed with the
  // io_context, which closes whatever it still holds.
  if (impl.run_done.get_future().wait_for(kStopGracePeriod) != std::future_status::ready) {
    impl.ioc.stop();
  }
  impl.thread.join();
}

std::uint16_t Server::port() const {
  return impl_->local.port();
}

std::string Server::url() const {
  return std::string(impl_->tls_context ? "https" : "http") + "://" +
         host_for_url(impl_->local.address()) + ":" + std::to_string(impl_->local.port());
}

std::vector<HttpRequest> Server::received() const {
  std::lock_guard lock(impl_->received_mu);
  return {impl_->received.begin(), impl_->received.end()};
}

std::size_t Server::connections_accepted() const {
  return impl_->accepted.load();
}

std::size_t Server::peak_in_flight() const {
  return impl_->peak_in_flight.load();
}

}  // namespace gt::emulator
