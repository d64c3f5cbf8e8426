#include "support/fakes.hpp"

namespace gt::test {

FakeTransport& FakeTransport::respond(int status, std::string body, std::vector<Header> headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  outcomes_.push_back({std::move(r), {}});
  return *this;
}

FakeTransport& FakeTransport::fail(TransportFailure failure, bool bytes_written,
                                   std::string message) {
  TransportError e;
  e.failure = failure;
  e.request_bytes_written = bytes_written;
  e.message = message.empty() ? std::string("fake ") + failure_name(failure) : std::move(message);
  outcomes_.push_back({std::nullopt, std::move(e)});
  return *this;
}

bool FakeTransport::send(const HttpRequest& request, Clock::time_point deadline,
                         HttpResponse& response, TransportError& error) {
  requests.push_back(request);
  deadlines.push_back(deadline);
  if (outcomes_.empty()) {
    error.failure = TransportFailure::kLocal;
    error.message =
        "FakeTransport: no outcome queued for request " + std::to_string(requests.size());
    return false;
  }
  Outcome o = std::move(outcomes_.front());
  outcomes_.pop_front();
  if (o.response) {
    response = std::move(*o.response);
    return true;
  }
  error = std::move(o.error);
  return false;
}

bool FakeClock::sleep_for(duration d) {
  sleeps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
  if (interrupt_sleeps) return false;
  advance(d);
  return true;
}

}  // namespace gt::test
