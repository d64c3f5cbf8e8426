// gt/bulk_report: what a bulk run says on stderr — the progress bar (on a terminal) and the
// summary line. Pure text; the caller decides where and when.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "gt/bulk_engine.hpp"

namespace gt {

// One line for a terminal of `width` columns (at least 40 used; no line break):
//   "[#######>          ]  3,412/10,000  812/s  ETA 8s  failed 2  unknown 0  throttled 14"
// Without a total (input from a pipe): "3,412 done  812/s  failed 2 ...". The rate is over the
// whole run so far; ETA only when the total is known and the rate is not zero.
std::string progress_line(const BulkCounts& counts, std::optional<std::size_t> total,
                          std::chrono::duration<double> elapsed, std::size_t width);

// "10,000 items: 9,998 created, 1 failed, 1 unknown, 0 skipped in 12.4 s (806/s); 14 throttled
// answers, 15 retries, 4 connections"
std::string bulk_summary(const BulkCounts& counts, std::chrono::duration<double> elapsed);

// 1234567 -> "1,234,567"
std::string group_digits(std::size_t n);

}  // namespace gt
