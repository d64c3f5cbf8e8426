#include "emulator/limits.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "emulator/graph_service.hpp"

namespace gt::emulator {
namespace {

using namespace std::chrono_literals;

// The table is swept for idle keys whenever it reaches this size (and then twice its live size).
constexpr std::size_t kFirstSweep = 1024;
constexpr std::uint64_t kMaxRequestsPerPeriod = 1'000'000;

// Whole seconds, rounded up, at least 1: Retry-After must never invite an immediate retry.
std::chrono::seconds whole_seconds_at_least_one(std::chrono::nanoseconds d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d);
  return std::max(s, std::chrono::seconds(1));
}

std::optional<std::chrono::milliseconds> period_named(std::string_view unit) {
  if (unit == "s" || unit == "sec") return 1s;
  if (unit == "m" || unit == "min") return 1min;
  if (unit == "h" || unit == "hour") return 1h;
  return std::nullopt;
}

}  // namespace

Result<Rate> parse_rate(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error::usage("rate \"" + std::string(text) + "\": " + std::string(why));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected N/s, N/min or N/h");
  const std::string_view count = text.substr(0, slash);
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size()) {
    return bad("the count must be a whole number");
  }
  if (n == 0) return bad("the count must be at least 1");
  if (n > kMaxRequestsPerPeriod) return bad("the count must be at most 1000000");
  const auto period = period_named(text.substr(slash + 1));
  if (!period) return bad("the unit must be s, min or h");
  return Rate{.requests = n, .period = *period};
}

// ---- Lease -------------------------------------------------------------------------------------

Limits::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), entry_(std::exchange(other.entry_, nullptr)) {}

Limits::Lease& Limits::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

void Limits::Lease::release() {
  if (owner_) owner_->release(entry_);
  owner_ = nullptr;
  entry_ = nullptr;
}

// ---- Limits ------------------------------------------------------------------------------------

Limits::Limits(LimitOptions options, Now now)
    : options_(options), now_(std::move(now)), sweep_at_(kFirstSweep) {}

Limits::~Limits() = default;

Limits::Clock::duration Limits::emission_interval() const {
  // Rounded down, so that a full bucket admits all `requests` at one instant.
  return std::chrono::duration_cast<Clock::duration>(options_.throttle.period) /
         static_cast<Clock::rep>(options_.throttle.requests);
}

Limits::Admission Limits::admit(std::string_view key) {
  Admission out;
  if (options_.max_concurrent == 0 && options_.throttle.requests == 0) return out;  // no state
  const Clock::time_point now = now_();
  std::lock_guard lock(mu_);
  if (entries_.size() >= sweep_at_) sweep_idle(now);
  auto it = entries_.find(key);
  if (it == entries_.end()) it = entries_.emplace(std::string(key), Entry{}).first;
  Entry& entry = it->second;

  if (options_.max_concurrent > 0 && entry.in_flight >= options_.max_concurrent) {
    out.verdict = Verdict::kOverConcurrency;
    // When a slot frees up is unknown here; one service time is the honest guess.
    out.retry_after = whole_seconds_at_least_one(options_.latency);
    return out;
  }
  if (options_.throttle.requests > 0) {
    const Clock::time_point full_at = std::max(entry.full_at, now) + emission_interval();
    const auto period = std::chrono::duration_cast<Clock::duration>(options_.throttle.period);
    if (full_at - now > period) {
      out.verdict = Verdict::kOverRate;
      // Admitted once the bucket would be at most one period from full, i.e. at full_at - period.
      out.retry_after = whole_seconds_at_least_one(full_at - period - now);
      return out;
    }
    entry.full_at = full_at;
  }
  ++entry.in_flight;
  out.lease = Lease(this, &entry);
  return out;
}

void Limits::release(Entry* entry) {
  std::lock_guard lock(mu_);
  --entry->in_flight;
}

// Entries with nothing in flight and a full bucket behave exactly like absent ones. Entries with
// requests in flight are never erased, so a Lease's Entry* stays valid (unordered_map nodes do not
// move on rehash).
void Limits::sweep_idle(Clock::time_point now) {
  std::erase_if(entries_, [now](const auto& kv) {
    return kv.second.in_flight == 0 && kv.second.full_at <= now;
  });
  sweep_at_ = std::max(kFirstSweep, 2 * entries_.size());
}

std::size_t Limits::tracked_keys() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

HttpResponse throttled_response(const Limits::Admission& admission, const HttpRequest& request) {
  const bool concurrency = admission.verdict == Verdict::kOverConcurrency;
  HttpResponse response =
      graph_error_response(request, 429, concurrency ? "ApplicationThrottled" : "TooManyRequests",
                           concurrency ? "Application is over its MailboxConcurrency limit."
                                       : "Please retry again later.");
  response.headers.push_back({"Retry-After", std::to_string(admission.retry_after.count())});
  return response;
}

}  // namespace gt::emulator
