#include "emulator/control.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "emulator/graph_service.hpp"
#include "gt/clock.hpp"
#include "gt/uuid.hpp"

namespace gt::emulator {

namespace json = boost::json;

namespace {

// A success answer with the same correlation headers every emulator answer carries.
HttpResponse answer(const HttpRequest& request, int status, std::string json_body = {}) {
  HttpResponse r;
  r.status = status;
  r.reason = reason_phrase(status);
  const std::string request_id = new_uuid();
  const std::string_view client_id = request.header("client-request-id");
  r.headers = {{"request-id", request_id},
               {"client-request-id", client_id.empty() ? request_id : std::string(client_id)}};
  if (!json_body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(json_body);
  return r;
}

HttpResponse no_content(const HttpRequest& request) {
  return answer(request, 204);
}

HttpResponse json_ok(const HttpRequest& request, std::string body) {
  return answer(request, 200, std::move(body));
}

HttpResponse bad_request(const HttpRequest& request, const std::string& message) {
  return graph_error_response(request, 400, "BadRequest", message);
}

// The body as a JSON object; an empty body is an empty object.
std::optional<json::object> body_object(const HttpRequest& request) {
  if (request.body.empty()) return json::object{};
  json::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

ControlService::ControlService(FaultPlan& faults, IdentityService* identity, std::string demo_user)
    : faults_(faults), identity_(identity), demo_user_(std::move(demo_user)) {}

HttpResponse ControlService::handle(const HttpRequest& request) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  constexpr std::string_view kPrefix = "/_emulator/";
  if (!path.starts_with(kPrefix)) {
    return graph_error_response(request, 404, "BadRequest", "Not a control endpoint.");
  }
  path.remove_prefix(kPrefix.size());
  if (path == "faults") return faults_endpoint(request);
  if (path == "devices" || path.starts_with("devices/")) {
    return devices_endpoint(request, path.substr(std::min<std::size_t>(path.size(), 8)));
  }
  if (path.starts_with("users/")) return users_endpoint(request, path.substr(6));
  return graph_error_response(
      request, 404, "BadRequest",
      "Unknown control endpoint /_emulator/" + std::string(path) + " (faults, devices, users).");
}

HttpResponse ControlService::faults_endpoint(const HttpRequest& request) {
  if (request.method == "DELETE") {
    faults_.clear();
    return no_content(request);
  }
  if (request.method != "POST") {
    return graph_error_response(request, 405, "BadRequest", "Use POST or DELETE.");
  }
  const auto body = body_object(request);
  if (!body) return bad_request(request, "Expected a JSON object such as {\"fault\":\"429\"}.");
  const json::value* kind = body->if_contains("fault");
  if (!kind || !kind->is_string()) {
    return bad_request(request,
                       "\"fault\" is required: 429, 503, drop-before, drop-after or slow.");
  }
  std::chrono::milliseconds slow = kDefaultSlow;
  if (const json::value* ms = body->if_contains("slowMs")) {
    if (!ms->is_int64() || ms->get_int64() < 0) {
      return bad_request(request, "\"slowMs\" must be a non-negative integer.");
    }
    slow = std::chrono::milliseconds(ms->get_int64());
  }
  auto fault = parse_fault_kind(std::string_view(kind->get_string()), slow);
  if (!fault) return bad_request(request, fault.error().message);
  if (const json::value* nth = body->if_contains("request")) {
    if (!nth->is_int64() || nth->get_int64() < 1) {
      return bad_request(request, "\"request\" must be a request number >= 1.");
    }
    faults_.script(static_cast<std::size_t>(nth->get_int64()), *fault);
  } else {
    faults_.push(*fault);
  }
  return no_content(request);
}

HttpResponse ControlService::devices_endpoint(const HttpRequest& request, std::string_view rest) {
  if (!identity_) {
    return graph_error_response(request, 404, "BadRequest", "The identity endpoints are off.");
  }
  if (rest.empty()) {
    if (request.method != "GET")
      return graph_error_response(request, 405, "BadRequest", "Use GET.");
    json::array out;
    for (const auto& d : identity_->device_codes()) {
      out.push_back(json::object{{"userCode", d.user_code},
                                 {"clientId", d.client_id},
                                 {"scope", d.scope},
                                 {"state", d.state},
                                 {"user", d.user},
                                 {"expiresAt", utc_timestamp(d.expires_at)}});
    }
    return json_ok(request, json::serialize(out));
  }
  // "{code}/approve" or "{code}/deny"
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || request.method != "POST") {
    return graph_error_response(request, 404, "BadRequest",
                                "Use POST /_emulator/devices/{code}/approve or /deny.");
  }
  const std::string code = percent_decode(rest.substr(0, slash));
  const std::string_view action = rest.substr(slash + 1);
  Status st = ok_status();
  if (action == "approve") {
    const auto body = body_object(request);
    if (!body) return bad_request(request, "Expected {\"username\": \"...\"} or no body.");
    std::string user = demo_user_;
    if (const json::value* u = body->if_contains("username"); u && u->is_string()) {
      user = std::string(u->get_string());
    }
    st = identity_->approve_device(code, user);
  } else if (action == "deny") {
    st = identity_->deny_device(code);
  } else {
    return graph_error_response(request, 404, "BadRequest", "Use approve or deny.");
  }
  if (!st) return bad_request(request, st.error().message);
  return no_content(request);
}

HttpResponse ControlService::users_endpoint(const HttpRequest& request, std::string_view rest) {
  if (!identity_) {
    return graph_error_response(request, 404, "BadRequest", "The identity endpoints are off.");
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || rest.substr(slash + 1) != "revoke" ||
      request.method != "POST") {
    return graph_error_response(request, 404, "BadRequest",
                                "Use POST /_emulator/users/{username}/revoke.");
  }
  if (auto st = identity_->revoke_refresh_tokens(percent_decode(rest.substr(0, slash))); !st) {
    return bad_request(request, st.error().message);
  }
  return no_content(request);
}

}  // namespace gt::emulator
