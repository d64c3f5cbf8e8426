// gt/http_log: what --debug shows of HTTP exchanges — every request and response in full, headers
// and body — with the secrets taken out, and the decorators that write it for a Transport or an
// ExchangeLoop. --dry-run prints requests with the same redaction (describe_request).
//
// Redacted (replaced by "[redacted]"; "Bearer [redacted]" keeps the scheme):
//   headers          Authorization, Proxy-Authorization, Cookie, Set-Cookie
//   body fields      access_token, refresh_token, id_token, client_secret, client_assertion,
//                    assertion, password, code, device_code — in form bodies
//                    (application/x-www-form-urlencoded) and at any depth of a JSON body
// A body that is neither form nor JSON is shown as it is (thread content is not a secret); a
// body without a redacted field is shown byte for byte. The redaction goes by name, so a token
// never reaches the log even when nobody remembered to scrub it; in addition, the decorators
// scrub every secret the request carried (request_secrets) from the response they log, should a
// server quote one back.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gt/exchange_loop.hpp"
#include "gt/http.hpp"

namespace gt {

// The value a header of this name is logged with.
std::string redact_header_value(std::string_view name, std::string_view value);

// The body with every secret field's value redacted (see above); `content_type` decides between
// form and JSON (a body that parses as a JSON object or array counts as JSON whatever the type).
std::string redact_body(std::string_view body, std::string_view content_type);

// The secrets a request carries, by the rules above: credentials of the Authorization and
// Proxy-Authorization headers, cookies, and the values of secret form fields.
std::vector<std::string> request_secrets(const HttpRequest& request);

// "METHOD url HTTP/1.1", the headers, a blank line and the body, redacted; ends with a newline.
std::string render_request(const HttpRequest& request);
// "HTTP/1.1 status reason", the headers, a blank line and the body, redacted.
std::string render_response(const HttpResponse& response);

// A Transport that writes every exchange to `log` before returning it: "> " before each line of
// the request, "< " before each line of the response (with the time it took) or "! " and the
// transport error. Owns `inner`.
class DebugTransport final : public Transport {
 public:
  DebugTransport(std::unique_ptr<Transport> inner, std::ostream& log);
  bool send(const HttpRequest& request, Clock::time_point deadline, HttpResponse& response,
            TransportError& error) override;

 private:
  std::unique_ptr<Transport> inner_;
  std::ostream& log_;
};

// The same for an ExchangeLoop (bulk creation): each request is logged when it starts and its
// response when it completes; lines of exchanges in flight at once interleave per exchange, each
// block written whole. Owns `inner`.
class DebugExchangeLoop final : public ExchangeLoop {
 public:
  DebugExchangeLoop(std::unique_ptr<ExchangeLoop> inner, std::ostream& log);
  Clock::time_point now() const override { return inner_->now(); }
  void start(HttpRequest request, Clock::time_point deadline, Done done) override;
  TimerId at(Clock::time_point when, std::function<void()> fn) override {
    return inner_->at(when, std::move(fn));
  }
  void cancel(TimerId id) override { inner_->cancel(id); }
  void abort_all() override { inner_->abort_all(); }
  void run() override { inner_->run(); }
  void set_idle_hook(std::function<void()> fn) override { inner_->set_idle_hook(std::move(fn)); }
  std::size_t connections_opened() const override { return inner_->connections_opened(); }

 private:
  std::unique_ptr<ExchangeLoop> inner_;
  std::ostream& log_;
};

}  // namespace gt
