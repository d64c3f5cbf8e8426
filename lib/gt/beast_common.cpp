// The Beast HTTPS client's connection-level work, shared by gt/beast_transport and
// gt/beast_exchange_loop (see beast_common.hpp). All Beast/SSL/HTTP templates of the client are
// instantiated here.
#include "gt/beast_common.hpp"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gt/byte_scan.hpp"
#include "gt/response_parser.hpp"
#include "gt/url.hpp"

namespace gt::beast_client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

class TlsContext {
 public:
  ssl::context ctx{ssl::context::tls_client};
};

namespace {

const char* phase_text(Phase p) {
  switch (p) {
    case Phase::kResolve:
      return "resolving the host name";
    case Phase::kConnect:
      return "connecting";
    case Phase::kTunnel:
      return "waiting for the proxy to open a tunnel";
    case Phase::kHandshake:
      return "during the TLS handshake";
    case Phase::kWrite:
      return "sending the request";
    case Phase::kReadHeader:
      return "waiting for the response";
    case Phase::kReadBody:
      return "reading the response body";
    case Phase::kDone:
      return "finishing";
  }
  return "";
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string x509_name(X509_NAME* name) {
  if (!name) return "?";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  return bio_text(bio);
}

std::string asn1_time(const ASN1_TIME* t) {
  if (!t) return "?";
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  return bio_text(bio);
}

// What to do about a certificate that does not verify. A TLS-inspecting proxy or security product
// re-signs every connection with a private CA (the "issuer" in the message): the fix is to trust
// that CA, never to turn verification off.
std::string ca_hint(const std::optional<ProxyConfig>& proxy) {
  const std::string who = proxy ? "the proxy " + proxy->display() + " or a security product"
                                : std::string("a proxy or security product");
  return "if your network inspects TLS (" + who +
         " re-signing connections with your organisation's own CA, named as the issuer above), "
         "pass --cacert FILE with that root CA in PEM form (or point SSL_CERT_FILE at a bundle "
         "that includes it); for a local test server pass the CA it wrote";
}

void fail(ExchangeState& x, TransportFailure f, std::string message, std::string hint = {}) {
  x.error.failure = f;
  x.error.message = std::move(message);
  x.error.hint = std::move(hint);
}

}  // namespace

// What the certificate verification saw, filled in by the verify callback during the handshake.
struct VerifyReport {
  bool failed = false;
  TransportFailure failure = TransportFailure::kTlsHandshake;
  std::string detail;
  std::string verify_error;  // OpenSSL's text for the first failed check
  // The server's leaf certificate as the first callback saw it (kept for a failed handshake,
  // when the session has no verified peer to ask).
  bool leaf_seen = false;
  std::string leaf_subject, leaf_issuer, leaf_not_after;
};

class Connection {
 public:
  Connection(const net::any_io_executor& executor, ssl::context& ctx, bool tls,
             std::optional<ProxyConfig> via)
      : resolver(executor), proxy(std::move(via)) {
    if (tls) {
      secure.emplace(executor, ctx);
    } else {
      plain.emplace(executor);
    }
  }
  // Starts `op` on whichever stream this connection has; both arms yield the same awaitable.
  template <class Op>
  auto on_stream(Op&& op) {
    return secure ? op(*secure) : op(*plain);
  }
  tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }
  SSL* ssl() { return secure->native_handle(); }
  // True if the peer has closed (or sent unsolicited bytes): not safe to reuse.
  bool looks_dead() {
    if (!socket().is_open()) return true;
    pollfd p{socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }
  void abort() {
    resolver.cancel();
    error_code ignored;
    socket().cancel(ignored);
    socket().close(ignored);
  }

  tcp::resolver resolver;            // used while opening; here so that stop() can cancel it
  std::optional<ProxyConfig> proxy;  // the HTTP proxy that tunnels to the origin; none: direct
  VerifyReport verify;  // filled by the verify callback during this connection's handshake
  // Asio's own TLS stream straight over the socket: Beast's ssl_stream and tcp_stream would add
  // a buffer-flattening layer and per-operation timeout machinery that the schedulers' deadline
  // timers make redundant.
  std::optional<ssl::stream<tcp::socket>> secure;
  std::optional<tcp::socket> plain;
  beast::flat_buffer buffer;  // one per connection: bytes read past a response stay for the next
  std::string wire;           // the request being written; kept to reuse its allocation
  // After the handshake (go_direct): the SSL object reads and writes the socket itself, without
  // the stream's memory BIO pair and per-operation error-queue work in between.
  bool direct = false;
};

void ConnectionDeleter::operator()(Connection* c) const noexcept {
  delete c;
}

namespace {

// Whether `dir` holds OpenSSL hash links ("5ad8a5d6.0"): the form a lazy lookup needs.
bool has_hash_links(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.size() >= 10 && name[8] == '.' &&
        name.substr(0, 8).find_first_not_of("0123456789abcdef") == std::string_view::npos) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

// The system trust store, loaded the cheap way when that is as complete.
//
// OpenSSL's default paths are a bundle file (SSL_CERT_FILE, else OPENSSLDIR/cert.pem, on Debian
// ca-certificates.crt: ~140 certificates parsed up front, ~27 ms — half of a whole single create)
// and a hashed directory (SSL_CERT_DIR, else OPENSSLDIR/certs) searched lazily, only for the
// issuers a chain needs. update-ca-certificates writes both from the same set, so when the user
// has not named another bundle file and the directory has hash links, the directory alone trusts
// the same roots at no cost up front. Otherwise: OpenSSL's defaults, file included.
void load_system_trust(ssl::context& ctx, error_code& ec) {
  const char* file_env = std::getenv(X509_get_default_cert_file_env());
  const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
  const std::string dirs = dir_env && *dir_env ? dir_env : X509_get_default_cert_dir();
  const std::string first_dir = dirs.substr(0, dirs.find(':'));
  // SSL_CERT_FILE naming the system bundle itself (some images export it for every tool) is
  // the same set of roots as the system directory.
  std::error_code fs_ec;
  const bool default_file =
      !file_env || std::filesystem::equivalent(file_env, X509_get_default_cert_file(), fs_ec);
  if (default_file && has_hash_links(first_dir)) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (lookup && X509_LOOKUP_add_dir(lookup, dirs.c_str(), X509_FILETYPE_PEM) == 1) return;
    ERR_clear_error();
  }
  ctx.set_default_verify_paths(ec);
}

}  // namespace

Result<std::shared_ptr<TlsContext>> make_tls_context(const std::string& cacert_file) {
  auto tls = std::make_shared<TlsContext>();
  ssl::context& ctx = tls->ctx;
  // tls_client negotiates the best version both sides have; the floor is TLS 1.2.
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // TLS 1.3 suites in the order browsers offer them: AES-128-GCM first (OpenSSL's default puts
  // AES-256 first; 128-bit is the suite TLS 1.3 requires everyone to support and costs ~1% less
  // per request in bulk runs).
  SSL_CTX_set_ciphersuites(
      ctx.native_handle(),
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  error_code ec;
  // The system store, honouring SSL_CERT_FILE and SSL_CERT_DIR as OpenSSL defines them.
  load_system_trust(ctx, ec);
  const std::string& ca = cacert_file;
  if (!ca.empty()) {
    std::ifstream in(ca, std::ios::binary);
    if (!in) {
      return Error::usage("--cacert " + ca + ": cannot read the file (" +
                          std::string(std::strerror(errno)) + ")");
    }
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Error::usage("--cacert " + ca +
                          ": no PEM certificate in the file (expected "
                          "-----BEGIN CERTIFICATE-----)");
    }
    ctx.load_verify_file(ca, ec);
    if (ec) {
      return Error::usage("--cacert " + ca + ": cannot load the certificates: " + ec.message());
    }
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return tls;
}

ConnectionPtr make_connection(const net::any_io_executor& executor, TlsContext& tls,
                              const HttpRequest& request, const ProxySettings& proxies) {
  return ConnectionPtr(
      new Connection(executor, tls.ctx, request.scheme == "https",
                     choose_proxy(request.scheme, request.host, request.port, proxies)));
}

bool reusable(Connection& c) {
  return !c.looks_dead();
}

bool poolable(Connection& c) {
  return c.socket().is_open();
}

std::string host_port(const HttpRequest& r) {
  const bool v6 = r.host.find(':') != std::string::npos;
  return (v6 ? "[" + r.host + "]" : r.host) + ":" + std::to_string(r.port);
}

std::string origin_of(const HttpRequest& r, const ProxySettings& proxies) {
  const auto proxy = choose_proxy(r.scheme, r.host, r.port, proxies);
  return r.scheme + "://" + host_port(r) + (proxy ? " via " + proxy->display() : "");
}

std::optional<TransportError> refuse(const HttpRequest& request, bool allow_plain_http_to_any_host,
                                     const ProxySettings& proxies) {
  if (request.scheme != "https" && request.scheme != "http") {
    return TransportError{TransportFailure::kLocal, false, 0,
                          "unsupported scheme " + request.scheme, ""};
  }
  if (auto usable = check_proxy(proxies, request.scheme); !usable) {
    return TransportError{TransportFailure::kLocal, false, 0, usable.error().message, ""};
  }
  if (request.scheme == "http") {
    // Inside a CONNECT tunnel plain http is still clear text on the way to the proxy.
    const auto proxy = choose_proxy(request.scheme, request.host, request.port, proxies);
    if (proxy && !is_loopback_host(proxy->host)) {
      return TransportError{TransportFailure::kLocal, false, 0,
                            "refusing plain http:// to " + request.host + " through the proxy " +
                                proxy->display() + " (from " + proxy->source +
                                "): it would cross the network in clear text",
                            "add " + request.host + " to NO_PROXY, or pass --no-proxy"};
    }
  }
  if (request.scheme == "http" && !allow_plain_http_to_any_host) {
    // Defence in depth: the URL parser already refuses this, and a token must never cross the
    // network in clear text even if a caller forgot.
    error_code ec;
    const bool loopback_name = request.host == "localhost";
    const auto addr = net::ip::make_address(request.host, ec);
    if (!loopback_name && (ec || !addr.is_loopback())) {
      return TransportError{
          TransportFailure::kLocal, false, 0,
          "refusing plain http:// to " + request.host + ": only loopback hosts may use http", ""};
    }
  }
  return std::nullopt;
}

namespace {

// Asks the proxy c.proxy for a tunnel to request's origin (RFC 9110 section 9.3.6) over the
// connected socket. True on a 2xx answer: from then on the socket carries bytes to and from the
// origin. The CONNECT line is not the request: x.bytes_written stays false whatever happens here,
// so a request whose tunnel failed was never sent.
net::awaitable<bool> open_tunnel(const HttpRequest& request, Connection& c, ExchangeState& x) {
  const ProxyConfig& proxy = *c.proxy;
  const std::string who = "the proxy " + proxy.display() + " (from " + proxy.source + ")";
  const std::string target = host_port(request);
  x.phase = Phase::kTunnel;
  std::string head = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (const auto agent = request.header("User-Agent"); !agent.empty()) {
    head += "User-Agent: " + std::string(agent) + "\r\n";
  }
  const std::string credentials = proxy.basic_authorization();
  if (!credentials.empty()) head += "Proxy-Authorization: " + credentials + "\r\n";
  head += "\r\n";
  error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);
  co_await net::async_write(c.socket(), net::buffer(head), token);
  if (x.stopped() || ec == net::error::operation_aborted) co_return false;
  if (ec) {
    fail(x, TransportFailure::kConnectionLost,
         "connection to " + who + " lost while asking for a tunnel: " + ec.message());
    co_return false;
  }
  // The answer's header only: a 2xx has no body, and anything else ends the connection. Its own
  // buffer, so that bytes of the origin's can never be taken for the proxy's or the reverse.
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  parser.skip(true);
  co_await http::async_read_header(c.socket(), buffer, parser, token);
  if (x.stopped() || ec == net::error::operation_aborted) co_return false;
  if (ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      fail(x, TransportFailure::kConnectionLost,
           "connection closed by " + who + " before it answered CONNECT " + target);
    } else {
      fail(x, TransportFailure::kProtocol,
           "invalid answer from " + who + " to CONNECT " + target + ": " + ec.message());
    }
    co_return false;
  }
  const auto& answer = parser.get();
  const int status = static_cast<int>(answer.result_int());
  const std::string status_text = std::to_string(status) + " " + std::string(answer.reason());
  if (status / 100 == 2) {
    if (buffer.size() != 0) {
      // The origin speaks only after our first byte (TLS ClientHello, or the request).
      fail(x, TransportFailure::kProtocol,
           who + " sent data before the tunnel to " + target + " was used");
      co_return false;
    }
    co_return true;
  }
  // 407 with Proxy-Authenticate is the standard answer; some proxies (tinyproxy 1.11, for wrong
  // credentials) answer CONNECT with 401 and WWW-Authenticate instead. Both mean the same here: no
  // origin has been reached, so the challenge can only be the proxy's.
  if (status == 407 || status == 401) {
    const char* challenge = status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
    std::string offered;
    for (const auto& field : answer) {
      if (beast::iequals(field.name_string(), challenge)) {
        offered += (offered.empty() ? "" : ", ") + std::string(field.value());
      }
    }
    bool basic = offered.empty();
    for (std::size_t i = 0; i + 5 <= offered.size(); ++i) {
      if (beast::iequals(std::string_view(offered).substr(i, 5), "basic")) basic = true;
    }
    const std::string schemes = offered.empty() ? "it named no scheme" : "it offers: " + offered;
    fail(x, TransportFailure::kProxyAuth,
         credentials.empty()
             ? who + " requires authentication (" + status_text + "; " + schemes + ")"
             : who + " rejected the credentials for user \"" + *proxy.username + "\" (" +
                   status_text + "; " + schemes + ")",
         !basic ? "graph-threads authenticates to proxies with Basic only; use a proxy that "
                  "accepts Basic, or a local forwarding proxy that does the sign-in"
         : credentials.empty()
             ? "put the credentials in the proxy URL: http://user:password@host:port "
               "(percent-encode special characters: @ as %40, : as %3A)"
             : "check the user name and password in " + proxy.source +
                   " (percent-encode special characters: @ as %40, : as %3A)");
    co_return false;
  }
  fail(x, TransportFailure::kProxy,
       who + " refused to open a tunnel to " + target + ": " + status_text,
       "check " + proxy.source + ", or add " + request.host +
           " to NO_PROXY if it must be reached directly");
  co_return false;
}

// Hands the socket to the connection's SSL object once the handshake is done. Asio's TLS stream
// moves every record through a memory BIO pair, clearing OpenSSL's error queue and checking both
// BIOs around each call; measured on bulk runs that was ~5k instructions a request. The handshake
// stays Asio's (its verify callback, SNI and error reporting); when it completes nothing is left
// in the pair: the client's last flight has been written and the server speaks only after it.
// Asio's stream still owns the SSL object and frees it (and with it the socket BIO, which does not
// close the socket) when the connection goes.
void go_direct(Connection& c) {
  SSL* s = c.ssl();
  BIO* bio = BIO_new_socket(static_cast<int>(c.socket().native_handle()), BIO_NOCLOSE);
  if (!bio) {
    ERR_clear_error();
    return;  // stay on the stream's own path
  }
  SSL_set_bio(s, bio, bio);  // frees the SSL's end of the pair
  // Asio releases the SSL buffers between records; kept, they save two allocations a record.
  SSL_clear_mode(s, SSL_MODE_RELEASE_BUFFERS);
  // One read(2) for as much as has arrived, not one for each record header and one for its body.
  SSL_set_read_ahead(s, 1);
  error_code ignored;
  c.socket().native_non_blocking(true, ignored);
  c.direct = true;
}

// What a failed SSL_read_ex/SSL_write_ex means, as the error codes Asio's stream reports (so that
// the callers' classification is the same on both paths): eof for the peer's close_notify,
// stream_truncated for a close without one, the system error for a socket failure.
error_code direct_error(SSL* s, int ret) {
  const int e = SSL_get_error(s, ret);
  error_code ec;
  if (e == SSL_ERROR_ZERO_RETURN) {
    ec = net::error::eof;
  } else if (e == SSL_ERROR_SYSCALL) {
    ec = errno != 0 ? error_code(errno, boost::system::system_category())
                    : error_code(ssl::error::stream_truncated);
  } else {
    const unsigned long err = ERR_peek_last_error();
    if (ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ec = ssl::error::stream_truncated;
    } else {
      ec = error_code(static_cast<int>(err ? err : static_cast<unsigned long>(e)),
                      net::error::get_ssl_category());
    }
  }
  ERR_clear_error();
  return ec;
}

// OpenSSL's error queue must be empty before an I/O call for SSL_get_error to be right; it is
// cleared after every failure here, so only what other code left behind needs clearing.
void clear_stale_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

// One SSL_write_ex or SSL_read_ex on a direct connection. Plain functions, not coroutines: the
// exchange waits on the socket itself when `want` says so, and no coroutine frame is made per
// call.
struct DirectStep {
  std::size_t n = 0;  // bytes written or read
  int want = 0;       // SSL_ERROR_WANT_READ or SSL_ERROR_WANT_WRITE: wait for that, then retry
  error_code ec;      // the call failed otherwise
};

DirectStep direct_step(SSL* s, int ret, std::size_t n) {
  DirectStep step;
  if (ret == 1) {
    step.n = n;
    return step;
  }
  const int e = SSL_get_error(s, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    step.want = e;
  } else {
    step.ec = direct_error(s, ret);
  }
  return step;
}

DirectStep direct_write_once(SSL* s, std::string_view data) {
  clear_stale_errors();
  std::size_t n = 0;
  const int ret = SSL_write_ex(s, data.data(), data.size(), &n);
  return direct_step(s, ret, n);
}

DirectStep direct_read_once(SSL* s, net::mutable_buffer into) {
  clear_stale_errors();
  std::size_t n = 0;
  const int ret = SSL_read_ex(s, into.data(), into.size(), &n);
  return direct_step(s, ret, n);
}

tcp::socket::wait_type wait_for(int want) {
  return want == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
}

}  // namespace

void ExchangeState::stop(TransportFailure why) {
  if (stopped()) return;
  if (why == TransportFailure::kTimeout) {
    timed_out = true;
  } else {
    interrupted = true;
  }
  if (connection) connection->abort();
}

net::awaitable<bool> open_connection(const HttpRequest& request, Connection& c, ExchangeState& x,
                                     std::size_t& opened) {
  if (x.stopped()) co_return false;
  error_code ec;
  VerifyReport& report = c.verify;
  // Through a proxy, the TCP connection goes to the proxy; everything below names it then.
  const ProxyConfig* proxy = c.proxy ? &*c.proxy : nullptr;
  const std::string& dial_host = proxy ? proxy->host : request.host;
  const std::uint16_t dial_port = proxy ? proxy->port : request.port;
  const std::string peer = proxy ? "the proxy " + proxy->display() + " (from " + proxy->source + ")"
                                 : host_port(request);
  x.phase = Phase::kResolve;
  if (x.trace) x.trace->started = std::chrono::steady_clock::now();
  const auto endpoints = co_await c.resolver.async_resolve(
      dial_host, std::to_string(dial_port), net::redirect_error(net::use_awaitable, ec));
  if (x.trace) {
    x.trace->resolved = std::chrono::steady_clock::now();
    for (const auto& entry : endpoints) {
      std::string a = entry.endpoint().address().to_string();
      if (std::find(x.trace->addresses.begin(), x.trace->addresses.end(), a) ==
          x.trace->addresses.end()) {
        x.trace->addresses.push_back(std::move(a));
      }
    }
  }
  if (x.stopped() || ec == net::error::operation_aborted) co_return false;
  if (ec) {
    if (proxy) {
      fail(x, TransportFailure::kDns, "could not resolve the host of " + peer + ": " + ec.message(),
           "check " + proxy->source + " and NO_PROXY (or pass --no-proxy)");
    } else {
      fail(x, TransportFailure::kDns, "could not resolve " + request.host + ": " + ec.message(),
           "check the host name in --base-url, your DNS and proxy settings");
    }
    co_return false;
  }
  x.phase = Phase::kConnect;
  ++opened;
  const tcp::endpoint connected_to = co_await net::async_connect(
      c.socket(), endpoints, net::redirect_error(net::use_awaitable, ec));
  if (x.trace) {
    x.trace->connected = std::chrono::steady_clock::now();
    if (!ec) {
      const auto& a = connected_to.address();
      x.trace->endpoint = (a.is_v6() ? "[" + a.to_string() + "]:" : a.to_string() + ":") +
                          std::to_string(connected_to.port());
    }
  }
  if (x.stopped() || ec == net::error::operation_aborted) co_return false;
  if (ec) {
    if (ec == net::error::connection_refused) {
      fail(x, TransportFailure::kConnectRefused,
           "connection refused by " + peer + " (nothing is listening there)");
    } else {
      fail(x, TransportFailure::kConnectFailed,
           "could not connect to " + peer + ": " + ec.message());
    }
    co_return false;
  }
  error_code ignored;
  c.socket().set_option(tcp::no_delay(true), ignored);
  if (proxy && !co_await open_tunnel(request, c, x)) co_return false;
  if (proxy && x.trace) x.trace->tunneled = std::chrono::steady_clock::now();
  if (!c.secure) co_return true;

  x.phase = Phase::kHandshake;
  auto& stream = *c.secure;
  SSL* ssl_handle = stream.native_handle();
  if (!is_ip_literal(request.host)) {
    // SNI: servers hosting several names pick the certificate by it. Not sent for IP literals
    // (RFC 6066 forbids it).
    SSL_set_tlsext_host_name(ssl_handle, request.host.c_str());
  }
  ssl::host_name_verification check_name(request.host);
  stream.set_verify_callback([&report, check_name, host = request.host](
                                 bool preverified, ssl::verify_context& vctx) mutable {
    X509_STORE_CTX* sctx = vctx.native_handle();
    X509* cert = X509_STORE_CTX_get_current_cert(sctx);
    if (!report.leaf_seen) {
      if (X509* leaf = X509_STORE_CTX_get0_cert(sctx)) {
        report.leaf_seen = true;
        report.leaf_subject = x509_name(X509_get_subject_name(leaf));
        report.leaf_issuer = x509_name(X509_get_issuer_name(leaf));
        report.leaf_not_after = asn1_time(X509_get0_notAfter(leaf));
      }
    }
    const std::string who = "subject " + x509_name(cert ? X509_get_subject_name(cert) : nullptr) +
                            ", issuer " + x509_name(cert ? X509_get_issuer_name(cert) : nullptr);
    if (!preverified) {
      if (!report.failed) {
        report.failed = true;
        const int err = X509_STORE_CTX_get_error(sctx);
        const std::string why = X509_verify_cert_error_string(err);
        report.verify_error = why;
        switch (err) {
          case X509_V_ERR_CERT_HAS_EXPIRED:
            report.failure = TransportFailure::kTlsExpired;
            report.detail = "the server's certificate expired on " +
                            asn1_time(cert ? X509_get0_notAfter(cert) : nullptr) + " (" + who + ")";
            break;
          case X509_V_ERR_CERT_NOT_YET_VALID:
            report.failure = TransportFailure::kTlsExpired;
            report.detail = "the server's certificate is not valid before " +
                            asn1_time(cert ? X509_get0_notBefore(cert) : nullptr) + " (" + who +
                            "); check the system clock";
            break;
          case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            report.failure = TransportFailure::kTlsSelfSigned;
            report.detail =
                "the server presented a self-signed certificate that is not trusted (" + who + ")";
            break;
          case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
          case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
          case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
          case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
          case X509_V_ERR_CERT_UNTRUSTED:
            report.failure = TransportFailure::kTlsUntrusted;
            report.detail = "the server's certificate is not trusted: " + why + " (" + who + ")";
            break;
          default:
            report.failure = TransportFailure::kTlsHandshake;
            report.detail = "certificate verification failed: " + why + " (" + who + ")";
        }
      }
      return false;
    }
    const bool name_ok = check_name(preverified, vctx);
    if (!name_ok && !report.failed) {
      report.failed = true;
      report.verify_error = "certificate not valid for " + host;
      report.failure = TransportFailure::kTlsHostMismatch;
      report.detail = "the server's certificate is not valid for " + host + " (" + who + ")";
    }
    return name_ok;
  });
  co_await stream.async_handshake(ssl::stream_base::client,
                                  net::redirect_error(net::use_awaitable, ec));
  if (x.trace) x.trace->handshaken = std::chrono::steady_clock::now();
  if (x.stopped() || ec == net::error::operation_aborted) co_return false;
  if (ec) {
    if (report.failed) {
      fail(x, report.failure, "TLS: " + report.detail,
           report.failure == TransportFailure::kTlsHostMismatch
               ? "use the host name the certificate was issued for in --base-url"
               : ca_hint(c.proxy));
    } else if (ec == net::error::eof || ec == net::error::connection_reset ||
               ec == ssl::error::stream_truncated) {
      // The server hung up before TLS was up: it cannot have read a request.
      fail(x, TransportFailure::kConnectionLost,
           "connection closed by " + host_port(request) + " during the TLS handshake");
    } else {
      fail(x, TransportFailure::kTlsHandshake,
           "TLS handshake with " + host_port(request) + " failed: " + ec.message());
    }
    co_return false;
  }
  go_direct(c);
  co_return true;
}

namespace {

// Header names and values go onto the wire as they are: one with a line break (or NUL) would
// end the header early or smuggle in another, so such a request is refused before anything is
// sent.
bool bad_header_text(std::string_view s) {
  return has_cr_lf_or_nul(s);
}

// The wire form of `request`, as Beast's serializer would write it after req.set() of every
// header, prepare_payload() and keep_alive(true): the request line, Host (unless the caller set
// one), the caller's headers (the last of several with one name, case-insensitively), then
// Content-Length when there is a body or the method is POST, PUT or OPTIONS. No Connection
// header unless the caller set one: HTTP/1.1 keeps the connection alive by default. Built into
// one buffer so that one write (one TLS record) carries the whole request. Returns false, with
// x.error filled, when a header cannot be written as given.
bool wire_request(const HttpRequest& request, std::string& out, ExchangeState& x) {
  const auto& headers = request.headers;
  const auto overridden = [&](std::size_t i) {  // a later header has the same name
    for (std::size_t j = i + 1; j < headers.size(); ++j) {
      if (beast::iequals(headers[i].name, headers[j].name)) return true;
    }
    return false;
  };
  if (bad_header_text(request.method) || bad_header_text(request.target) ||
      bad_header_text(request.host) || request.method.find(' ') != std::string::npos ||
      request.target.find(' ') != std::string::npos) {
    fail(x, TransportFailure::kLocal,
         "refusing to send a request whose method, host or target contains a space or line break");
    return false;
  }
  std::size_t size = request.method.size() + request.target.size() + request.host.size() +
                     request.body.size() + 96;
  for (const auto& h : headers) {
    if (h.name.empty() || bad_header_text(h.name) || bad_header_text(h.value)) {
      fail(x, TransportFailure::kLocal,
           "refusing to send a request with a header " +
               (h.name.empty() ? std::string("without a name")
                               : "whose name or value (" + h.name + ") contains a line break"));
      return false;
    }
    size += h.name.size() + h.value.size() + 4;
  }
  // Written through a pointer into `size` bytes made room for up front: besides the pieces
  // counted above, the request line's, Host's and Content-Length's fixed text and digits take at
  // most 68 of the 96 spare bytes.
  out.resize(size);
  char* p = out.data();
  const auto put = [&p](std::string_view piece) {
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  const auto put_number = [&p](std::uint64_t n) { p = std::to_chars(p, p + 20, n).ptr; };
  put(request.method);
  put(" ");
  put(request.target);
  put(" HTTP/1.1\r\n");
  if (find_header(headers, "Host").empty()) {
    const bool default_port = (request.scheme == "https" && request.port == 443) ||
                              (request.scheme == "http" && request.port == 80);
    const bool v6 = request.host.find(':') != std::string::npos;
    put(v6 ? "Host: [" : "Host: ");
    put(request.host);
    if (v6) put("]");
    if (!default_port) {
      put(":");
      put_number(request.port);
    }
    put("\r\n");
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const Header& h = headers[i];
    if (beast::iequals(h.name, "Content-Length") || overridden(i)) continue;
    put(h.name);
    put(": ");
    put(h.value);
    put("\r\n");
  }
  const std::string_view m = request.method;
  if (!request.body.empty() || m == "POST" || m == "PUT" || m == "OPTIONS") {
    put("Content-Length: ");
    put_number(request.body.size());
    put("\r\n");
  }
  put("\r\n");
  put(request.body);
  out.resize(static_cast<std::size_t>(p - out.data()));
  return true;
}

// Read buffer space per connection: a typical Graph answer (headers and a thread's JSON) in one
// read, where Beast's default first read is 512 bytes.
constexpr std::size_t kReadBufferBytes = 16 * 1024;

// Feeds what `buffer` holds to `parser` (consuming what it used; bytes after the response stay
// for the next one). Sets x.status and moves x.phase to kReadBody once the header is in. True
// when the response is complete or the parser failed (a malformed response or a limit); false
// when it needs more bytes.
bool parse_buffered(beast::flat_buffer& buffer, ResponseParser& parser,
                    const HttpResponse& response, ExchangeState& x) {
  while (buffer.size() != 0) {
    const auto* data = static_cast<const char*>(buffer.data().data());
    const std::size_t used = parser.put(std::string_view(data, buffer.size()));
    buffer.consume(used);
    if (parser.error() != ParseError::kNone) return true;
    if (x.phase == Phase::kReadHeader && parser.header_done()) {
      x.status = response.status;
      x.phase = Phase::kReadBody;
    }
    if (parser.done()) return true;
    if (used == 0) break;  // a line is not complete yet: it needs more bytes
  }
  return false;
}

}  // namespace

namespace {

// What exchange_over and DirectExchange do once the request is written (or failed to be): record
// whether any byte went, and turn a failure into x.error. True to go on reading.
bool after_write(const HttpRequest& request, ExchangeState& x, std::size_t written,
                 const error_code& ec) {
  // If SSL/TCP accepted no byte, the server cannot have seen a request; otherwise assume it may.
  // (Over plain TCP `written` is what the kernel took. Over TLS a failed write reports 0 even if
  // part of its records reached the socket, but then its last record, which carries the end of
  // what was written, is incomplete: the server cannot have decrypted the whole request.)
  x.bytes_written = written > 0 || !ec;
  if (x.stopped() || ec == net::error::operation_aborted) return false;
  if (ec) {
    fail(
        x, TransportFailure::kConnectionLost,
        "connection to " + host_port(request) + " lost while sending the request: " + ec.message());
    return false;
  }
  return true;
}

// Prepares `response` and the connection's buffer for reading an answer into `parser`.
void begin_read(Connection& c, HttpResponse& response, ExchangeState& x) {
  response = HttpResponse{};
  response.headers.reserve(16);
  if (c.buffer.capacity() < kReadBufferBytes) c.buffer.reserve(kReadBufferBytes);
  x.phase = Phase::kReadHeader;
}

// What exchange_over and DirectExchange do once reading has ended, by a complete response, a
// parse error or a read error `ec`: the failure as x.error (the same words for each path), or,
// for a complete response, closing the socket when the response does not allow another request.
// True for a complete response.
bool after_read(const HttpRequest& request, Connection& c, const ResponseLimits& limits,
                const ResponseParser& parser, ExchangeState& x, const error_code& ec) {
  if (x.stopped() || ec == net::error::operation_aborted) return false;
  const ParseError bad = parser.error();
  if (ec || bad != ParseError::kNone) {
    const std::string where = host_port(request);
    const std::string got = x.status ? " (status " + std::to_string(x.status) + " received)" : "";
    if (bad == ParseError::kBodyLimit || bad == ParseError::kHeaderLimit) {
      fail(x, TransportFailure::kTooLarge,
           std::string("response from ") + where + " exceeds the " +
               (bad == ParseError::kBodyLimit
                    ? std::to_string(limits.max_body_bytes) + "-byte body limit"
                    : std::to_string(limits.max_header_bytes) + "-byte header limit") +
               got);
    } else if (bad == ParseError::kPartial) {
      // For a POST this is "outcome unknown": the server may well have acted.
      fail(x, TransportFailure::kConnectionLost,
           "response from " + where + " was cut short (connection closed mid-body)" + got);
    } else if (bad == ParseError::kEndOfStream || ec == net::error::connection_reset ||
               ec == ssl::error::stream_truncated) {
      fail(x, TransportFailure::kConnectionLost,
           "connection closed by " + where + " before a complete response arrived" + got);
    } else if (bad != ParseError::kNone) {
      fail(x, TransportFailure::kProtocol,
           "invalid HTTP response from " + where + ": " + parse_error_text(bad) + got);
    } else {
      fail(x, TransportFailure::kConnectionLost,
           "reading the response from " + where + " failed: " + ec.message() + got);
    }
    return false;
  }
  if (!parser.keep_alive() || parser.need_eof()) {
    // The server will close (or already did): this connection cannot carry another request.
    error_code ignored;
    c.socket().close(ignored);
  }
  x.phase = Phase::kDone;
  return true;
}

// The read space for the next read into the connection's buffer: what it has room for, at least
// 512 and at most 64 KiB, as Beast sizes its reads.
net::mutable_buffer read_space(Connection& c) {
  const std::size_t room =
      std::clamp<std::size_t>(c.buffer.capacity() - c.buffer.size(), 512, 64 * 1024);
  return c.buffer.prepare(room);
}

}  // namespace

net::awaitable<bool> exchange_over(const HttpRequest& request, Connection& c,
                                   const ResponseLimits& limits, HttpResponse& response,
                                   ExchangeState& x) {
  if (c.direct) {
    // A direct TLS connection has one implementation of the exchange, the handler-driven one the
    // loop also runs on pooled connections; this coroutine only waits for its end.
    co_return co_await net::async_initiate<const net::use_awaitable_t<>&, void(bool)>(
        [&](auto handler) {
          // std::function needs a copyable callable; the awaitable's handler is move-only.
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          start_direct_exchange(request, c, limits, response, x,
                                [shared](bool ok) { std::move (*shared)(ok); });
        },
        net::use_awaitable);
  }
  if (x.stopped()) co_return false;
  error_code ec;
  std::string& wire = c.wire;
  if (!wire_request(request, wire, x)) co_return false;

  x.phase = Phase::kWrite;
  x.write_started = std::chrono::steady_clock::now();
  auto token = net::redirect_error(net::use_awaitable, ec);
  const std::size_t written =
      co_await c.on_stream([&](auto& s) { return net::async_write(s, net::buffer(wire), token); });
  if (!after_write(request, x, written, ec)) co_return false;

  begin_read(c, response, x);
  ResponseParser parser(response, limits.max_header_bytes, limits.max_body_bytes);
  // What Beast's http::async_read_header and async_read do (the same end-of-stream, limit and
  // partial-message errors), as one loop of reads and parser.put() in this coroutine, without
  // their layers of composed operations around every read.
  while (!parse_buffered(c.buffer, parser, response, x) && !x.stopped()) {
    const net::mutable_buffer into = read_space(c);
    const std::size_t n =
        co_await c.on_stream([&](auto& s) { return s.async_read_some(into, token); });
    c.buffer.commit(n);
    if (ec == net::error::eof) {
      // The peer closed: that ends a body delimited by the close, and is an error otherwise.
      ec = {};
      parser.put_eof();
      break;
    }
    if (ec) break;
  }
  co_return after_read(request, c, limits, parser, x, ec);
}

bool is_direct(Connection& c) {
  return c.direct;
}

namespace {

// exchange_over's steps for a direct connection, driven by completion handlers instead of a
// coroutine: the state lives here, kept alive by the handler waiting on the socket.
class DirectExchange : public std::enable_shared_from_this<DirectExchange> {
 public:
  DirectExchange(const HttpRequest& request, Connection& c, const ResponseLimits& limits,
                 HttpResponse& response, ExchangeState& x, std::function<void(bool)> done,
                 std::shared_ptr<void> owner)
      : owner_(std::move(owner)),
        request_(request),
        c_(c),
        limits_(limits),
        response_(response),
        x_(x),
        done_(std::move(done)),
        parser_(response, limits.max_header_bytes, limits.max_body_bytes) {}

  // Writes the request; its answer (or a failure) reaches done_ from a handler.
  void start() {
    guarded([this] {
      if (x_.stopped() || !wire_request(request_, c_.wire, x_)) return finish_soon(false);
      x_.phase = Phase::kWrite;
      x_.write_started = std::chrono::steady_clock::now();
      write();
    });
  }

 private:
  void write() {
    const std::string& wire = c_.wire;
    while (written_ < wire.size()) {
      const DirectStep step = direct_write_once(c_.ssl(), std::string_view(wire).substr(written_));
      written_ += step.n;
      if (step.ec) return wrote(step.ec);
      if (step.want) {
        c_.socket().async_wait(wait_for(step.want), [self = shared_from_this()](error_code ec) {
          self->guarded([&] { ec ? self->wrote(ec) : self->write(); });
        });
        return;
      }
    }
    wrote({});
  }

  void wrote(const error_code& ec) {
    if (!after_write(request_, x_, written_, ec)) return finish_soon(false);
    begin_read(c_, response_, x_);
    // Wait for the socket first unless bytes are already here (the answer is not there before
    // the request has gone).
    read(c_.buffer.size() != 0 || ssl_has_input() ? 0 : SSL_ERROR_WANT_READ);
  }

  bool ssl_has_input() { return SSL_has_pending(c_.ssl()) != 0; }

  // Reads until the response is complete, waiting on the socket for what SSL wants first.
  void read(int want) {
    if (want) {
      c_.socket().async_wait(wait_for(want), [self = shared_from_this()](error_code ec) {
        self->guarded([&] { ec ? self->read_ended(ec) : self->read(0); });
      });
      return;
    }
    for (;;) {
      if (parse_buffered(c_.buffer, parser_, response_, x_) || x_.stopped()) {
        return read_ended({});
      }
      const DirectStep step = direct_read_once(c_.ssl(), read_space(c_));
      if (step.want) return read(step.want);
      c_.buffer.commit(step.n);
      if (step.ec == net::error::eof) {
        // The peer closed: that ends a body delimited by the close, and is an error otherwise.
        parser_.put_eof();
        return read_ended({});
      }
      if (step.ec) return read_ended(step.ec);
    }
  }

  void read_ended(const error_code& ec) {
    const bool ok = after_read(request_, c_, limits_, parser_, x_, ec);
    called_ = true;
    done_(ok);
  }

  // For a failure found before anything waited: done_ must not run inside start().
  void finish_soon(bool ok) {
    called_ = true;
    net::post(c_.socket().get_executor(), [self = shared_from_this(), ok] { self->done_(ok); });
  }

  // Runs a step; an exception from the exchange itself (not from done_, which is the caller's)
  // ends it as a kLocal failure, as an exception escaping exchange_over's coroutine does.
  template <class Step>
  void guarded(Step step) {
    try {
      step();
    } catch (...) {
      if (called_) throw;
      note_exception(x_, std::current_exception());
      finish_soon(false);
    }
  }

  std::shared_ptr<void> owner_;  // first: the references below may point into it
  const HttpRequest& request_;
  Connection& c_;
  const ResponseLimits& limits_;
  HttpResponse& response_;
  ExchangeState& x_;
  std::function<void(bool)> done_;
  ResponseParser parser_;
  std::size_t written_ = 0;
  bool called_ = false;  // done_ was called or posted
};

}  // namespace

void start_direct_exchange(const HttpRequest& request, Connection& c, const ResponseLimits& limits,
                           HttpResponse& response, ExchangeState& x, std::function<void(bool)> done,
                           std::shared_ptr<void> owner) {
  std::make_shared<DirectExchange>(request, c, limits, response, x, std::move(done),
                                   std::move(owner))
      ->start();
}

TlsFacts tls_facts(Connection& c) {
  TlsFacts f;
  if (!c.secure) return f;
  SSL* s = c.secure->native_handle();
  const VerifyReport& report = c.verify;
  if (SSL_is_init_finished(s)) {
    f.version = SSL_get_version(s);
    if (const char* name = SSL_get_cipher_name(s)) f.cipher = name;
  }
  if (X509* peer = SSL_get1_peer_certificate(s)) {
    f.subject = x509_name(X509_get_subject_name(peer));
    f.issuer = x509_name(X509_get_issuer_name(peer));
    f.not_after = asn1_time(X509_get0_notAfter(peer));
    X509_free(peer);
  } else if (report.leaf_seen) {
    f.subject = report.leaf_subject;
    f.issuer = report.leaf_issuer;
    f.not_after = report.leaf_not_after;
  }
  if (report.failed) {
    f.verify_result = report.verify_error.empty() ? report.detail : report.verify_error;
  } else if (SSL_is_init_finished(s)) {
    const long v = SSL_get_verify_result(s);
    f.verify_result = v == X509_V_OK ? "ok" : X509_verify_cert_error_string(v);
  }
  return f;
}

void note_exception(ExchangeState& x, std::exception_ptr e) {
  if (!e || !x.error.message.empty()) return;
  x.error.failure = TransportFailure::kLocal;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    x.error.message = std::string("internal error: ") + ex.what();
  } catch (...) {
    x.error.message = "internal error: unknown exception";
  }
}

TransportError finish_error(const HttpRequest& request, const ExchangeState& x) {
  TransportError error = x.error;
  if (error.message.empty()) {
    error.failure = TransportFailure::kConnectionLost;
    error.message =
        std::string("connection to ") + host_port(request) + " aborted " + phase_text(x.phase);
  }
  error.request_bytes_written = x.bytes_written;
  error.status = x.status;
  if (x.stopped()) {
    error.failure = x.timed_out ? TransportFailure::kTimeout : TransportFailure::kInterrupted;
    error.message = std::string(x.timed_out ? "timed out " : "interrupted ") + phase_text(x.phase) +
                    " (" + host_port(request) + ")";
    error.hint = x.timed_out ? "raise --timeout if the network is slow" : "";
  }
  return error;
}

}  // namespace gt::beast_client
