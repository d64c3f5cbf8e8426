#include "gt/attempts.hpp"

#include "gt/interrupt.hpp"

namespace gt {

namespace {

std::string ms_between(Clock::time_point start, Clock::time_point end) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count()) +
         " ms";
}

}  // namespace

std::string status_line(const HttpResponse& r) {
  std::string s = std::to_string(r.status);
  if (!r.reason.empty()) s += " " + r.reason;
  return s;
}

Attempts send_with_retries(const std::function<HttpRequest(const std::string&)>& build,
                           const AttemptOptions& options, AttemptDeps& deps) {
  auto log = [&](const std::string& line) {
    if (deps.log) deps.log(line);
  };
  const int max_attempts = options.retry.max_retries + 1 + options.extra_attempts;
  Attempts out;
  for (int attempt = 1;; ++attempt) {
    out.client_request_id = deps.new_request_id();
    if (interrupted()) {
      out.end = Attempts::End::kInterrupted;
      return out;
    }
    if (deps.clock.now() >= options.give_up_by) {
      out.end = Attempts::End::kOutOfTime;
      return out;
    }
    const HttpRequest request = build(out.client_request_id);
    log("> " + request.method + " " + request.url() + "  attempt " + std::to_string(attempt) + "/" +
        std::to_string(max_attempts) + "  client-request-id " + out.client_request_id);
    out.attempts = attempt;
    const auto started = deps.clock.now();
    HttpResponse response;
    TransportError terr;
    const bool ok = deps.transport.send(request, options.attempt_deadline(started), response, terr);
    const auto finished = deps.clock.now();

    if (!ok) {
      out.answered = false;
      out.transport = terr;
      log("< failed after " + ms_between(started, finished) + ": " + terr.message + " (" +
          (terr.request_bytes_written ? "request sent" : "nothing sent") + ")");
      if (terr.failure == TransportFailure::kInterrupted) {
        out.end = Attempts::End::kInterrupted;
        return out;
      }
      out.decision = decide_after_transport_error(terr, attempt, options.idempotency, options.retry,
                                                  deps.jitter);
      if (out.decision.verdict != RetryVerdict::kRetry) {
        out.end = Attempts::End::kTransport;
        return out;
      }
    } else {
      out.answered = true;
      out.response = std::move(response);
      std::string line = "< " + status_line(out.response) + "  " + ms_between(started, finished);
      if (options.describe) {
        if (const std::string more = options.describe(out.response); !more.empty()) {
          line += "  " + more;
        }
      }
      if (out.response.status >= 200 && out.response.status < 300) {
        log(line);
        out.decision = {RetryVerdict::kGiveUp, {}, "success"};
        out.end = Attempts::End::kAnswered;
        return out;
      }
      out.decision = options.decide
                         ? options.decide(out.response, attempt)
                         : decide_after_response(out.response, attempt, options.idempotency,
                                                 options.retry, deps.clock.wall_now(), deps.jitter);
      if (out.decision.verdict != RetryVerdict::kRetry) {
        log(line);
        out.end = Attempts::End::kAnswered;
        return out;
      }
      log(line + "  retry in " + format_delay(out.decision.delay) + " (" + out.decision.reason +
          ")");
    }
    // kRetry: only when the wait still fits in the time the caller gave.
    if (out.decision.delay > options.max_wait ||
        deps.clock.now() + out.decision.delay >= options.give_up_by) {
      out.end = Attempts::End::kOutOfTime;
      return out;
    }
    if (!deps.clock.sleep_for(out.decision.delay)) {
      out.end = Attempts::End::kInterrupted;
      out.transport = {};
      return out;
    }
  }
}

}  // namespace gt
