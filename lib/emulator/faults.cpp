#include "emulator/faults.hpp"

#include <utility>

#include "emulator/graph_service.hpp"

namespace gt::emulator {

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kStatus:
      return "status";
    case FaultKind::kDropOnAccept:
      return "drop-on-accept";
    case FaultKind::kDropAfterRead:
      return "drop-after-read";
    case FaultKind::kTruncateBody:
      return "truncate-body";
    case FaultKind::kStall:
      return "stall";
    case FaultKind::kStallHandshake:
      return "stall-handshake";
    case FaultKind::kOversizedBody:
      return "oversized-body";
    case FaultKind::kOversizedHeader:
      return "oversized-header";
    case FaultKind::kDelay:
      return "delay";
  }
  return "unknown";
}

bool is_connection_fault(FaultKind kind) {
  return kind == FaultKind::kDropOnAccept || kind == FaultKind::kStallHandshake;
}

Fault FaultPlan::Stream::next() {
  ++count;
  if (auto it = scripted.find(count); it != scripted.end()) {
    Fault fault = std::move(it->second);
    scripted.erase(it);
    return fault;
  }
  if (!queue.empty()) {
    Fault fault = std::move(queue.front());
    queue.pop_front();
    return fault;
  }
  return Fault{};
}

FaultPlan::Stream& FaultPlan::stream_for(FaultKind kind) {
  return is_connection_fault(kind) ? connections_ : requests_;
}

void FaultPlan::push(Fault fault) {
  std::lock_guard lock(mu_);
  stream_for(fault.kind).queue.push_back(std::move(fault));
}

void FaultPlan::script(std::size_t nth, Fault fault) {
  std::lock_guard lock(mu_);
  auto& stream = stream_for(fault.kind);
  stream.scripted.insert_or_assign(nth, std::move(fault));
}

void FaultPlan::clear() {
  std::lock_guard lock(mu_);
  connections_ = Stream{};
  requests_ = Stream{};
}

Fault FaultPlan::next_for_connection() {
  std::lock_guard lock(mu_);
  return connections_.next();
}

Fault FaultPlan::next_for_request() {
  std::lock_guard lock(mu_);
  return requests_.next();
}

namespace {

// The code Graph (or the Outlook backend behind group conversations) usually sends with `status`.
std::string_view usual_code(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "InvalidAuthenticationToken";
    case 403:
      return "ErrorAccessDenied";
    case 404:
      return "ErrorItemNotFound";
    case 409:
      return "ErrorConflict";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalServerError";
    case 502:
      return "BadGateway";
    case 503:
      return "ServiceNotAvailable";
    case 504:
      return "GatewayTimeout";
    default:
      return status >= 500 ? "generalException" : "UnknownError";
  }
}

std::string_view usual_message(int status) {
  switch (status) {
    case 403:
      return "Access is denied. Check credentials and try again.";
    case 429:
      return "Please retry again later.";
    case 503:
      return "The service is temporarily unavailable. Please retry later.";
    case 504:
      return "The request timed out at the gateway.";
    default:
      return "The emulator was told to fail this request.";
  }
}

}  // namespace

HttpResponse status_fault_response(const Fault& fault, const HttpRequest& request) {
  const std::string_view code = fault.code.empty() ? usual_code(fault.status) : fault.code;
  HttpResponse response =
      graph_error_response(request, fault.status, code, usual_message(fault.status));
  if (!fault.body.empty()) response.body = fault.body;
  if (!fault.retry_after.empty()) response.headers.push_back({"Retry-After", fault.retry_after});
  return response;
}

}  // namespace gt::emulator
