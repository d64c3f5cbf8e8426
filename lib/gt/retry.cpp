#include "gt/retry.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace gt {

namespace {

using std::chrono::milliseconds;

// A Retry-After further ahead than this (in either form) is taken as garbage, not obeyed.
constexpr std::chrono::seconds kMaxRetryAfter{86400 * 365};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// IMF-fixdate, the form HTTP servers send: "Fri, 27 Nov 2026 15:00:00 GMT". In seconds: a
// system_clock::time_point counts nanoseconds and cannot hold years before 1678 or after 2261.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Www, DD Mon YYYY HH:MM:SS GMT" is 29 characters.
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  std::tm tm{};
  int day = 0, year = 0, hour = 0, min = 0, sec = 0;
  if (!parse_int(s.substr(5, 2), day) || !parse_int(s.substr(12, 4), year) ||
      !parse_int(s.substr(17, 2), hour) || !parse_int(s.substr(20, 2), min) ||
      !parse_int(s.substr(23, 2), sec)) {
    return std::nullopt;
  }
  const auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month == kMonths.end() || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month - kMonths.begin());
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::sys_seconds{std::chrono::seconds{t}};
}

milliseconds backoff(int attempt, const RetryPolicy& policy,
                     const std::function<double()>& jitter) {
  const double exp = std::ldexp(1.0, std::clamp(attempt - 1, 0, 30));
  const double j = jitter ? std::clamp(jitter(), 0.0, 1.0) : 0.5;
  const double ms = static_cast<double>(policy.base_delay.count()) * exp * (0.5 + j / 2.0);
  return std::min(policy.max_backoff, milliseconds(static_cast<long long>(ms)));
}

RetryDecision retry_after_or_backoff(const HttpResponse& response, int attempt,
                                     const RetryPolicy& policy,
                                     std::chrono::system_clock::time_point now,
                                     const std::function<double()>& jitter) {
  if (const auto ra = parse_retry_after(response.header("Retry-After"), now)) {
    return {RetryVerdict::kRetry, *ra, "Retry-After " + format_delay(*ra)};
  }
  const auto d = backoff(attempt, policy, jitter);
  return {RetryVerdict::kRetry, d, "backoff " + format_delay(d)};
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    // delta-seconds; Graph has been seen sending decimals ("2.128").
    double seconds = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || p != value.data() + value.size() || !std::isfinite(seconds) ||
        seconds < 0 || seconds > static_cast<double>(kMaxRetryAfter.count())) {
      return std::nullopt;
    }
    return milliseconds(static_cast<long long>(std::ceil(seconds * 1000.0)));
  }
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  // Compared in seconds first: a date of any year (9999, 1000) converted to `now`'s nanoseconds
  // would overflow. Within a year of now, the exact difference fits.
  const auto ahead = *when - std::chrono::floor<std::chrono::seconds>(now);
  if (ahead <= std::chrono::seconds(0)) return milliseconds(0);
  if (ahead > kMaxRetryAfter) return std::nullopt;
  return std::chrono::ceil<milliseconds>(*when - now);
}

RetryDecision decide_after_response(const HttpResponse& response, int attempt,
                                    Idempotency idempotency, const RetryPolicy& policy,
                                    std::chrono::system_clock::time_point now,
                                    const std::function<double()>& jitter) {
  const int status = response.status;
  if (status == 504 && idempotency == Idempotency::kUnsafe) {
    // The gateway stopped waiting; the backend may still have created the thread. Sending the
    // POST again could post the announcement twice.
    return {RetryVerdict::kUnknown, milliseconds(0), "504 Gateway Timeout"};
  }
  if (status != 429 && status != 503 && status != 504) {
    return {RetryVerdict::kGiveUp, milliseconds(0), "status " + std::to_string(status)};
  }
  if (attempt > policy.max_retries) {
    return {RetryVerdict::kGiveUp, milliseconds(0), "retries exhausted"};
  }
  return retry_after_or_backoff(response, attempt, policy, now, jitter);
}

RetryDecision decide_after_transport_error(const TransportError& error, int attempt,
                                           Idempotency idempotency, const RetryPolicy& policy,
                                           const std::function<double()>& jitter) {
  if (error.failure == TransportFailure::kInterrupted) {
    return {RetryVerdict::kGiveUp, milliseconds(0), "interrupted"};
  }
  if (error.request_bytes_written && idempotency == Idempotency::kUnsafe) {
    // Some or all of the POST reached the server and no complete answer came back: it may have
    // been acted on. Never repeat it blindly.
    return {RetryVerdict::kUnknown, milliseconds(0), failure_name(error.failure)};
  }
  bool transient = false;
  switch (error.failure) {
    case TransportFailure::kConnectRefused:
    case TransportFailure::kConnectFailed:
    case TransportFailure::kConnectionLost:
    case TransportFailure::kTimeout:
      transient = true;
      break;
    default:
      // DNS answers, certificate checks, protocol violations and local problems do not fix
      // themselves within a few seconds; retrying only delays the real message.
      transient = false;
  }
  if (!transient) return {RetryVerdict::kGiveUp, milliseconds(0), failure_name(error.failure)};
  if (attempt > policy.max_retries) {
    return {RetryVerdict::kGiveUp, milliseconds(0), "retries exhausted"};
  }
  const auto d = backoff(attempt, policy, jitter);
  return {RetryVerdict::kRetry, d, "backoff " + format_delay(d)};
}

std::string format_delay(milliseconds d) {
  const long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 60'000) {
    const long long tenths = (ms + 50) / 100;
    std::string s = std::to_string(tenths / 10);
    if (tenths % 10 != 0) s += "." + std::to_string(tenths % 10);
    return s + " s";
  }
  const long long s = (ms + 500) / 1000;
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

}  // namespace gt
