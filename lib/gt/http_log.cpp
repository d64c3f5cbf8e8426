#include "gt/http_log.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <ostream>

#include "gt/ascii.hpp"
#include "gt/attempts.hpp"
#include "gt/auth.hpp"

namespace gt {

namespace {

namespace json = boost::json;

constexpr std::string_view kRedacted = "[redacted]";

bool secret_field(std::string_view name) {
  static constexpr std::array<std::string_view, 9> kFields = {
      "access_token", "refresh_token", "id_token", "client_secret", "client_assertion",
      "assertion",    "password",      "code",     "device_code"};
  return std::any_of(kFields.begin(), kFields.end(),
                     [&](std::string_view f) { return ascii_iequals(f, name); });
}

// Redacts secret members at any depth; returns how many were replaced.
int redact_json(json::value& v) {
  int n = 0;
  if (auto* o = v.if_object()) {
    for (auto& member : *o) {
      if (secret_field(member.key()) && !member.value().is_null()) {
        member.value() = kRedacted;
        ++n;
      } else {
        n += redact_json(member.value());
      }
    }
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) n += redact_json(e);
  }
  return n;
}

bool is_form(std::string_view content_type) {
  return ascii_iequals(content_type.substr(0, content_type.find(';')),
                       "application/x-www-form-urlencoded");
}

// Calls fn(field, name, value) for each "name=value" (or bare "name") of a form body, in order.
template <class Fn>
void for_each_field(std::string_view body, Fn fn) {
  std::size_t at = 0;
  while (at <= body.size()) {
    const std::size_t amp = std::min(body.find('&', at), body.size());
    const std::string_view field = body.substr(at, amp - at);
    const std::size_t eq = field.find('=');
    fn(field, field.substr(0, eq),
       eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1));
    at = amp + 1;
  }
}

std::string redact_form(std::string_view body) {
  std::string out;
  bool first = true;
  for_each_field(body, [&](std::string_view field, std::string_view name, std::string_view value) {
    if (!first) out += '&';
    first = false;
    if (!value.empty() && secret_field(name)) {
      out += name;
      out += '=';
      out += kRedacted;
    } else {
      out += field;
    }
  });
  return out;
}

// Writes `text` with `prefix` before each line ("<" alone on an empty line, no trailing space),
// leaving out empty lines at the end (the body's, when there is none).
void prefixed(std::ostream& out, std::string_view prefix, std::string_view text) {
  while (text.ends_with('\n')) text.remove_suffix(1);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, nl - at);
    out << (line.empty() ? prefix.substr(0, prefix.find(' ')) : prefix) << line << '\n';
    at = nl + 1;
  }
}

std::string render(std::string first_line, const std::vector<Header>& headers,
                   std::string_view body) {
  std::string out = std::move(first_line) + '\n';
  for (const auto& h : headers) out += h.name + ": " + redact_header_value(h.name, h.value) + '\n';
  out += '\n';
  out += redact_body(body, find_header(headers, "Content-Type"));
  out += '\n';
  return out;
}

std::string elapsed(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// `what` is "METHOD url" of the request answered; `secrets` are scrubbed from the response.
void log_response(std::ostream& log, const std::string& what,
                  const std::vector<std::string>& secrets, bool ok, const HttpResponse& response,
                  const TransportError& error, std::chrono::steady_clock::duration took) {
  if (ok) {
    prefixed(log, "< ", scrub_secrets(render_response(response), {secrets.begin(), secrets.end()}));
    log << "< (" << what << ", " << elapsed(took) << ")\n";
  } else {
    log << "! " << what << " failed after " << elapsed(took) << ": " << error.message << " ("
        << failure_name(error.failure) << ", "
        << (error.request_bytes_written ? "request sent" : "nothing sent") << ")\n";
  }
  log.flush();
}

}  // namespace

std::string redact_header_value(std::string_view name, std::string_view value) {
  if (ascii_iequals(name, "Authorization") || ascii_iequals(name, "Proxy-Authorization")) {
    const auto space = value.find(' ');
    if (space == std::string_view::npos) return redact_token(value);
    return std::string(value.substr(0, space + 1)) + redact_token(value.substr(space + 1));
  }
  if (ascii_iequals(name, "Cookie") || ascii_iequals(name, "Set-Cookie"))
    return redact_token(value);
  return std::string(value);
}

std::string redact_body(std::string_view body, std::string_view content_type) {
  if (body.empty()) return {};
  if (is_form(content_type)) return redact_form(body);
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (body[first] == '{' || body[first] == '[')) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec) {
      if (redact_json(v) == 0) return std::string(body);
      return json::serialize(v);
    }
  }
  return std::string(body);
}

std::vector<std::string> request_secrets(const HttpRequest& request) {
  std::vector<std::string> out;
  for (const auto& h : request.headers) {
    if (ascii_iequals(h.name, "Authorization") || ascii_iequals(h.name, "Proxy-Authorization")) {
      const auto space = h.value.find(' ');
      out.push_back(space == std::string::npos ? h.value : h.value.substr(space + 1));
    } else if (ascii_iequals(h.name, "Cookie")) {
      out.push_back(h.value);
    }
  }
  if (is_form(request.header("Content-Type"))) {
    for_each_field(request.body,
                   [&](std::string_view, std::string_view name, std::string_view value) {
                     if (!value.empty() && secret_field(name)) out.emplace_back(value);
                   });
  }
  return out;
}

std::string render_request(const HttpRequest& request) {
  return render(request.method + ' ' + request.url() + " HTTP/1.1", request.headers, request.body);
}

std::string render_response(const HttpResponse& response) {
  return render("HTTP/1.1 " + status_line(response), response.headers, response.body);
}

DebugTransport::DebugTransport(std::unique_ptr<Transport> inner, std::ostream& log)
    : inner_(std::move(inner)), log_(log) {}

bool DebugTransport::send(const HttpRequest& request, Clock::time_point deadline,
                          HttpResponse& response, TransportError& error) {
  prefixed(log_, "> ", render_request(request));
  log_.flush();
  const auto started = Clock::now();
  const bool ok = inner_->send(request, deadline, response, error);
  log_response(log_, request.method + ' ' + request.url(), request_secrets(request), ok, response,
               error, Clock::now() - started);
  return ok;
}

DebugExchangeLoop::DebugExchangeLoop(std::unique_ptr<ExchangeLoop> inner, std::ostream& log)
    : inner_(std::move(inner)), log_(log) {}

void DebugExchangeLoop::start(HttpRequest request, Clock::time_point deadline, Done done) {
  prefixed(log_, "> ", render_request(request));
  log_.flush();
  const auto started = inner_->now();
  std::string what = request.method + ' ' + request.url();
  std::vector<std::string> secrets = request_secrets(request);
  inner_->start(std::move(request), deadline,
                [this, what = std::move(what), secrets = std::move(secrets), started,
                 done = std::move(done)](Exchange x) {
                  log_response(log_, what, secrets, x.ok, x.response, x.error,
                               inner_->now() - started);
                  done(std::move(x));
                });
}

}  // namespace gt
