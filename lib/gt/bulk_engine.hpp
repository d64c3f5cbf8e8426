// gt/bulk_engine: creates many threads through one ExchangeLoop — concurrently, throttling-aware,
// and without ever losing or doubling one.
//
// Items are pulled from a source one at a time, only when there is room, so memory is bounded by
// the concurrency (and a reorder window), not by the input. Every item ends with exactly one
// result, delivered to `emit` in input order:
//   created   2xx; `id` is the new thread's (from the body, else the Location header)
//   failed    a final error answer, a transport failure before any byte was written (after
//             retries), or an item the caller could not decode/validate (handed in as failed)
//   unknown   the request was written but no complete answer came (or 504): never re-sent
//             blindly. With reconcile, the group's recent threads are listed to look for it:
//             found -> created (reconciled), not found after the bounded wait -> sent once more
//             (resent), and that attempt's outcome is final.
//   skipped   handed in as skipped (--resume)
//
// Throttling: a 429 or 503 pauses every worker until its Retry-After (or a backoff) has passed,
// not only the one that got it; the item is then sent again (nothing was created). `max_rate`
// paces creates ahead of time. Requests in flight never exceed `concurrency`; a 429 to a whole
// request with others in flight lowers that to what is still in flight (the service admits no
// more at once), and it creeps back up by one after 50 x limit successes. In batch mode each
// HTTP request carries up to 20 creates, and throttled parts are retried one by one.
//
// Stopping: stop() (first Ctrl-C) takes no new items and lets the ones in flight finish; items
// waiting to be retried end as failed "not sent again". abort() (second Ctrl-C) also ends every
// exchange in flight at once: written ones become unknown. A 401 stops the run the same way: the
// token is bad for every item, so the rest is not sent.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "gt/batch.hpp"
#include "gt/bulk_results.hpp"
#include "gt/exchange_loop.hpp"
#include "gt/graph_client.hpp"
#include "gt/retry.hpp"

namespace gt {

// One item as the caller hands it over.
struct BulkWork {
  std::size_t index = 0;
  std::string group;
  std::string topic;      // for --reconcile, and for the result line
  std::string body_json;  // the encoded conversationThread (already validated)
  // When set, the item is not sent: this is its result (failed input, or skipped by --resume).
  std::optional<ItemResult> ready;
};

struct BulkOptions {
  GraphClientOptions graph;     // base URL, API version, user agent
  std::size_t concurrency = 4;  // HTTP requests in flight at once
  bool batch = false;           // pack up to batch_size creates per $batch request
  std::size_t batch_size = kMaxBatchRequests;
  double max_rate = 0;  // creates per second; 0: as fast as the concurrency allows
  RetryPolicy retry;    // per item: attempts after the first for 429/503/nothing-written
  std::chrono::milliseconds request_timeout{30000};  // per HTTP request
  bool reconcile = false;
  std::chrono::milliseconds reconcile_delay{2000};  // before the first look, doubling
  int reconcile_looks = 3;                          // looks before sending once more
  // Delivered threads count as "after the attempt started" from this much before it (clock skew
  // between this machine and Graph).
  std::chrono::seconds reconcile_slack{5};
  // Results buffered ahead of the oldest unfinished item at most; reading pauses beyond it.
  std::size_t reorder_window = 0;       // 0: 64 + 4 * concurrency * (batch ? batch_size : 1)
  std::chrono::milliseconds tick{100};  // how often on_tick runs (interrupt polling, progress)
};

struct BulkCounts {
  std::size_t created = 0, failed = 0, unknown = 0, skipped = 0;
  std::size_t in_flight = 0;    // items whose request is out
  std::size_t throttled = 0;    // 429/503 answers (whole requests and batch parts)
  std::size_t retries = 0;      // attempts after an item's first
  std::size_t requests = 0;     // HTTP requests started (creates, batches, reconcile lists)
  std::size_t reconciled = 0;   // unknowns found by reconcile
  std::size_t resent = 0;       // unknowns sent once more
  std::size_t connections = 0;  // opened by the loop
  int worst_exit = 0;           // highest exit code of a failed or unknown item
  std::size_t done() const { return created + failed + unknown + skipped; }
};

struct BulkDeps {
  ExchangeLoop& loop;
  // The next item, or nullopt at the end of the input.
  std::function<std::optional<BulkWork>()> next;
  // Each result, in input order, as soon as it and all before it are final.
  std::function<void(const ItemResult&)> emit;
  // "Bearer" value for a request; called per request so a long run can refresh. A failure ends
  // the run like a 401 (the item is failed with the error's kind).
  std::function<Result<std::string>()> bearer;
  std::function<std::string()> new_request_id;
  std::function<double()> jitter;  // [0, 1)
  std::function<std::chrono::system_clock::time_point()> wall_now;
  // Runs every `tick` while the run is going (poll interrupts, draw progress). May call stop()
  // or abort().
  std::function<void(const BulkCounts&)> on_tick;
  std::ostream* verbose = nullptr;  // one line per attempt; never bodies or tokens
};

class BulkEngine {
 public:
  BulkEngine(BulkDeps deps, BulkOptions options);
  ~BulkEngine();
  BulkEngine(const BulkEngine&) = delete;
  BulkEngine& operator=(const BulkEngine&) = delete;

  // Runs to the end of the input (or until stopped) on the calling thread, through loop.run().
  void run();

  void stop();   // take no new items; finish the ones in flight
  void abort();  // stop, and end the ones in flight now
  bool stopping() const;

  const BulkCounts& counts() const;
  // Why the run stopped early ("interrupted", "the token was refused (401)"), "" if it did not.
  const std::string& stop_reason() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The process exit code for a finished run: 0 when every item was created or skipped, otherwise
// the highest item exit code (failed: its error kind; unknown: 5); 130 when it was interrupted.
int bulk_exit_code(const BulkCounts& counts, bool interrupted);

}  // namespace gt
