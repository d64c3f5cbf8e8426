#include "gt/bulk_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gt {

std::string group_digits(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else {
    const auto whole = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lld min %lld s", whole / 60, whole % 60);
  }
  return buf;
}

std::string eta_text(double s) {
  const auto whole = static_cast<long long>(std::ceil(s));
  if (whole < 60) return std::to_string(whole) + "s";
  if (whole < 3600) return std::to_string(whole / 60) + "m" + std::to_string(whole % 60) + "s";
  return std::to_string(whole / 3600) + "h" + std::to_string(whole % 3600 / 60) + "m";
}

double rate_of(const BulkCounts& c, double elapsed) {
  return elapsed > 0 ? static_cast<double>(c.done() - c.skipped) / elapsed : 0.0;
}

}  // namespace

std::string progress_line(const BulkCounts& c, std::optional<std::size_t> total,
                          std::chrono::duration<double> elapsed, std::size_t width) {
  const double secs = elapsed.count();
  const double rate = rate_of(c, secs);
  std::string tail = "  " + group_digits(static_cast<std::size_t>(std::lround(rate))) + "/s";
  if (total && rate > 0 && *total > c.done()) {
    tail += "  ETA " + eta_text(static_cast<double>(*total - c.done()) / rate);
  }
  tail += "  failed " + group_digits(c.failed) + "  unknown " + group_digits(c.unknown);
  if (c.throttled > 0) tail += "  throttled " + group_digits(c.throttled);
  if (!total) return group_digits(c.done()) + " done" + tail;

  const std::string count = group_digits(c.done()) + "/" + group_digits(*total);
  const std::size_t room = std::max<std::size_t>(width, 40);
  const std::size_t used = count.size() + tail.size() + 4;
  const std::size_t bar = room > used + 10 ? std::min<std::size_t>(room - used, 40) : 10;
  const double frac = *total == 0 ? 1.0 : std::min(1.0, double(c.done()) / double(*total));
  const auto filled = static_cast<std::size_t>(frac * double(bar));
  std::string line = "[";
  line += std::string(filled, '#');
  if (filled < bar) line += '>' + std::string(bar - filled - 1, ' ');
  line += "]  " + count + tail;
  if (line.size() > room) line.resize(room);
  return line;
}

std::string bulk_summary(const BulkCounts& c, std::chrono::duration<double> elapsed) {
  const double secs = elapsed.count();
  std::string s = group_digits(c.done()) + (c.done() == 1 ? " item: " : " items: ") +
                  group_digits(c.created) + " created, " + group_digits(c.failed) + " failed, " +
                  group_digits(c.unknown) + " unknown, " + group_digits(c.skipped) +
                  " skipped in " + seconds_text(secs) + " (" +
                  group_digits(static_cast<std::size_t>(std::lround(rate_of(c, secs)))) + "/s)";
  s += "; " + group_digits(c.requests) + " requests, " + group_digits(c.throttled) +
       " throttled, " + group_digits(c.retries) + " retries, " + group_digits(c.connections) +
       (c.connections == 1 ? " connection" : " connections");
  if (c.reconciled + c.resent > 0) {
    s += "; reconcile: " + group_digits(c.reconciled) + " found, " + group_digits(c.resent) +
         " sent again";
  }
  return s;
}

}  // namespace gt
