#include "emulator/faults.hpp"

#include <charconv>
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

namespace {

// A uniform double in [0, 1) from the top 53 bits: the same on every platform, unlike
// std::uniform_real_distribution, whose algorithm the standard leaves open.
double unit_interval(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace

Fault FaultPlan::Stream::next() {
  ++count;
  Fault drawn;
  if (!random.empty()) {
    // Both draws are made for every event, so that event N always sees the same numbers.
    const bool hit = unit_interval(rng()) < rate;
    const std::size_t pick = static_cast<std::size_t>(rng() % random.size());
    if (hit) drawn = random[pick];
  }
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
  return drawn;
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

void FaultPlan::randomize(RandomFaults random) {
  std::lock_guard lock(mu_);
  for (Stream* stream : {&connections_, &requests_}) {
    stream->rate = random.rate;
    stream->random.clear();
  }
  for (Fault& fault : random.faults) stream_for(fault.kind).random.push_back(std::move(fault));
  // Distinct seeds per stream, so that connection draws do not mirror request draws.
  connections_.rng.seed(random.seed);
  requests_.rng.seed(random.seed ^ 0x9e3779b97f4a7c15ULL);
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

Result<Fault> parse_fault_kind(std::string_view kind, std::chrono::milliseconds slow) {
  if (kind == "429" || kind == "503") {
    return Fault{
        .kind = FaultKind::kStatus, .status = kind == "429" ? 429 : 503, .retry_after = "1"};
  }
  if (kind == "drop-before") return Fault{.kind = FaultKind::kDropOnAccept};
  if (kind == "drop-after") return Fault{.kind = FaultKind::kDropAfterRead};
  if (kind == "slow") return Fault{.kind = FaultKind::kDelay, .delay = slow};
  return Error::usage("unknown fault \"" + std::string(kind) +
                      "\" (expected 429, 503, drop-before, drop-after or slow)");
}

std::string fault_label(const Fault& fault) {
  switch (fault.kind) {
    case FaultKind::kStatus:
      return std::to_string(fault.status);
    case FaultKind::kDropOnAccept:
      return "drop-before";
    case FaultKind::kDropAfterRead:
      return "drop-after";
    case FaultKind::kDelay:
      return "slow";
    default:
      return fault_name(fault.kind);
  }
}

Result<ScriptedFault> parse_scripted_fault(std::string_view text, std::chrono::milliseconds slow) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error::usage("fault \"" + std::string(text) + "\": expected N:KIND, e.g. 2:429");
  }
  const std::string_view number = text.substr(0, colon);
  std::size_t nth = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), nth);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || nth == 0) {
    return Error::usage("fault \"" + std::string(text) +
                        "\": N must be a request number (1 is the first request)");
  }
  auto fault = parse_fault_kind(text.substr(colon + 1), slow);
  if (!fault) return std::move(fault).error();
  return ScriptedFault{.nth = nth, .fault = std::move(*fault)};
}

}  // namespace gt::emulator
