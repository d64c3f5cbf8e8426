#include "gt/bulk_engine.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_set>

#include "gt/attempts.hpp"
#include "gt/batch.hpp"
#include "gt/clock.hpp"
#include "gt/json_codec.hpp"
#include "gt/url.hpp"

namespace gt {

namespace {

using std::chrono::milliseconds;
using SteadyTime = ExchangeLoop::Clock::time_point;

constexpr int kReconcilePageSize = 50;
constexpr int kReconcileMaxPages = 10;

bool is_2xx(int status) {
  return status >= 200 && status < 300;
}

// "2026-11-27T18:44:31" — the part of a Graph timestamp that compares as text.
std::string timestamp_key(std::string_view t) {
  return std::string(t.substr(0, 19));
}

}  // namespace

struct BulkEngine::Impl {
  struct Item {
    std::size_t seq = 0;  // position in the input, as pulled
    BulkWork work;
    int attempts = 0;
    bool resent = false;
    int looks = 0;  // reconcile looks made
    int pages = 0;  // pages listed in the current look
    // Wall-clock time the last attempt was written, minus the slack (reconcile's cut-off).
    std::string written_after;
    std::string crid;  // of the last attempt
    int last_status = 0;
    SteadyTime not_before{};  // retry: not before this
    ExchangeLoop::TimerId look_timer = 0;
    std::optional<ItemResult> result;
  };

  Impl(BulkDeps d, BulkOptions o) : deps(std::move(d)), options(std::move(o)) {
    if (options.concurrency == 0) options.concurrency = 1;
    limit = options.concurrency;
    options.batch_size = std::clamp<std::size_t>(options.batch_size, 1, kMaxBatchRequests);
    if (options.reorder_window == 0) {
      options.reorder_window =
          64 + 4 * options.concurrency * (options.batch ? options.batch_size : 1);
    }
  }

  BulkDeps deps;
  BulkOptions options;
  BulkCounts counts;
  std::string stop_reason;

  std::map<std::size_t, std::unique_ptr<Item>> live;  // pulled, not yet emitted, by seq
  std::size_t next_seq = 0;
  std::size_t next_emit = 0;
  std::deque<Item*> fresh;    // pulled, never sent
  std::deque<Item*> retries;  // to be sent (again) one by one, each not before its time
  std::deque<Item*> looks;    // due for a reconcile list
  std::unordered_set<std::string> claimed;  // thread ids reconcile has matched to an item
  std::size_t requests_in_flight = 0;
  // Adaptive concurrency: a 429 to a whole request means the service admits fewer at once than
  // we send, so the limit drops to what is still in flight; it creeps back up after a long run
  // of successes (the service's limit may have been shared with another client for a while).
  std::size_t limit = 0;
  std::size_t ok_streak = 0;
  bool source_done = false;
  bool stopping = false;
  bool aborted = false;
  bool started = false;

  SteadyTime paused_until{};  // shared backoff after a 429/503
  SteadyTime next_pace{};     // --max-rate: the next create may start at
  ExchangeLoop::TimerId wake_timer = 0;
  SteadyTime wake_at{};
  ExchangeLoop::TimerId tick_timer = 0;

  // ---- bookkeeping -------------------------------------------------------------------------

  SteadyTime now() const { return deps.loop.now(); }

  void log(const std::string& line) {
    if (deps.verbose) *deps.verbose << line << '\n' << std::flush;
  }

  bool finished() const { return (source_done || stopping) && live.empty(); }

  void finish(Item* item, ItemResult r) {
    r.index = item->work.index;
    r.group = item->work.group;
    if (r.topic.empty()) r.topic = item->work.topic;
    r.attempts = std::max(r.attempts, item->attempts);
    r.resent = item->resent;
    const bool bad = r.outcome == Outcome::kFailed || r.outcome == Outcome::kUnknown;
    if (bad && r.error.client_request_id.empty()) r.error.client_request_id = item->crid;
    if (r.outcome == Outcome::kUnknown) r.error.kind = ErrorKind::kOutcomeUnknown;
    switch (r.outcome) {
      case Outcome::kCreated:
        ++counts.created;
        break;
      case Outcome::kSkipped:
        ++counts.skipped;
        break;
      case Outcome::kFailed:
        ++counts.failed;
        counts.worst_exit = std::max(counts.worst_exit, exit_code(r.error.kind));
        break;
      case Outcome::kUnknown:
        ++counts.unknown;
        counts.worst_exit = std::max(counts.worst_exit, exit_code(ErrorKind::kOutcomeUnknown));
        break;
    }
    item->result = std::move(r);
    flush();
  }

  void finish_error(Item* item, Outcome outcome, const Error& e) {
    ItemResult r;
    r.outcome = outcome;
    r.status = e.http_status;
    r.error = item_error(e);
    finish(item, std::move(r));
  }

  void finish_created(Item* item, int status, std::string id, bool reconciled) {
    ItemResult r;
    r.outcome = Outcome::kCreated;
    r.status = status;
    r.id = std::move(id);
    r.reconciled = reconciled;
    if (reconciled) ++counts.reconciled;
    finish(item, std::move(r));
  }

  // Emits every result that is final and has nothing unfinished before it.
  void flush() {
    while (!live.empty() && live.begin()->first == next_emit && live.begin()->second->result) {
      deps.emit(*live.begin()->second->result);
      live.erase(live.begin());
      ++next_emit;
    }
    if (finished()) {
      if (tick_timer) deps.loop.cancel(tick_timer);
      if (wake_timer) deps.loop.cancel(wake_timer);
      tick_timer = wake_timer = 0;
    }
  }

  // ---- input -------------------------------------------------------------------------------

  // Pulls until `fresh` holds `want` sendable items, the input ends, or the window is full.
  void fill(std::size_t want) {
    while (!source_done && !stopping && fresh.size() < want &&
           next_seq - next_emit < options.reorder_window) {
      std::optional<BulkWork> w = deps.next();
      if (!w) {
        source_done = true;
        flush();
        return;
      }
      auto item = std::make_unique<Item>();
      item->seq = next_seq++;
      item->work = std::move(*w);
      Item* raw = item.get();
      live.emplace(raw->seq, std::move(item));
      if (raw->work.ready) {
        ItemResult r = std::move(*raw->work.ready);
        raw->work.ready.reset();
        finish(raw, std::move(r));
      } else {
        fresh.push_back(raw);
      }
    }
  }

  // ---- scheduling --------------------------------------------------------------------------

  void wake_me_at(SteadyTime t) {
    if (wake_timer && wake_at <= t) return;
    if (wake_timer) deps.loop.cancel(wake_timer);
    wake_at = t;
    wake_timer = deps.loop.at(t, [this] {
      wake_timer = 0;
      pump();
    });
  }

  void pace(std::size_t creates) {
    if (options.max_rate <= 0) return;
    const auto step = std::chrono::duration_cast<SteadyTime::duration>(
        std::chrono::duration<double>(static_cast<double>(creates) / options.max_rate));
    next_pace = std::max(next_pace, now()) + step;
  }

  void pump() {
    if (aborted) return;
    while (requests_in_flight < limit) {
      const SteadyTime t = now();
      if (t < paused_until) {
        wake_me_at(paused_until);
        return;
      }
      if (!looks.empty()) {
        Item* item = looks.front();
        looks.pop_front();
        start_list(item, "");
        continue;
      }
      if (options.max_rate > 0 && t < next_pace &&
          (!retries.empty() || !fresh.empty() || !source_done)) {
        wake_me_at(next_pace);
        return;
      }
      // Retries first: they are the oldest items, and the reorder window waits for them.
      auto due = std::find_if(retries.begin(), retries.end(),
                              [&](const Item* i) { return i->not_before <= t; });
      if (due != retries.end()) {
        Item* item = *due;
        retries.erase(due);
        pace(1);
        start_single(item);
        continue;
      }
      if (!retries.empty()) {
        SteadyTime earliest = SteadyTime::max();
        for (const Item* i : retries) earliest = std::min(earliest, i->not_before);
        wake_me_at(earliest);
      }
      if (stopping) return;
      fill(options.batch ? options.batch_size : 1);
      if (fresh.empty()) return;
      if (options.batch && fresh.size() > 1) {
        std::vector<Item*> group;
        while (!fresh.empty() && group.size() < options.batch_size) {
          group.push_back(fresh.front());
          fresh.pop_front();
        }
        pace(group.size());
        start_batch(std::move(group));
      } else {
        Item* item = fresh.front();
        fresh.pop_front();
        pace(1);
        start_single(item);
      }
    }
  }

  // ---- sending -----------------------------------------------------------------------------

  std::optional<std::string> bearer_or_fail(const std::vector<Item*>& items) {
    Result<std::string> b = deps.bearer();
    if (b) return std::move(b).value();
    for (Item* i : items) finish_error(i, Outcome::kFailed, b.error());
    halt("no usable token: " + b.error().message);
    return std::nullopt;
  }

  void begin_attempt(Item* item, std::string crid) {
    if (++item->attempts > 1) ++counts.retries;
    item->crid = std::move(crid);
    if (options.reconcile) {
      const auto wall = deps.wall_now() - options.reconcile_slack;
      item->written_after = timestamp_key(utc_timestamp(wall));
    }
  }

  void start_single(Item* item) {
    auto bearer = bearer_or_fail({item});
    if (!bearer) return;
    begin_attempt(item, deps.new_request_id());
    const std::string& crid = item->crid;  // stays this attempt's until the answer is handled
    HttpRequest req = create_thread_request_json(options.graph, item->work.group,
                                                 item->work.body_json, *bearer, crid);
    if (deps.verbose) {  // built only for -v: this runs for every request
      log("> POST " + req.url() + "  item " + std::to_string(item->work.index) + "  attempt " +
          std::to_string(item->attempts) + (item->resent ? " (resent after reconcile)" : "") +
          "  client-request-id " + crid);
    }
    ++requests_in_flight;
    ++counts.in_flight;
    ++counts.requests;
    deps.loop.start(std::move(req), now() + options.request_timeout, [this, item](Exchange ex) {
      --requests_in_flight;
      --counts.in_flight;
      if (ex.ok) {
        if (deps.verbose) {
          log("< " + status_line(ex.response) + "  item " + std::to_string(item->work.index));
        }
        adapt(ex.response.status);
        on_answer(item, ex.response);
      } else {
        log("< " + std::string(failure_name(ex.error.failure)) + ": " + ex.error.message +
            "  item " + std::to_string(item->work.index));
        on_transport_failure(item, ex.error);
      }
      pump();
    });
  }

  void start_batch(std::vector<Item*> items) {
    auto bearer = bearer_or_fail(items);
    if (!bearer) return;
    const std::string crid = deps.new_request_id();
    std::vector<BatchPart> parts;
    parts.reserve(items.size());
    for (Item* item : items) {
      begin_attempt(item, crid);
      parts.push_back({std::to_string(item->work.index), "POST",
                       "/groups/" + encode_path_segment(item->work.group) + "/threads",
                       item->work.body_json});
    }
    HttpRequest req = batch_request(options.graph, encode_batch(parts), *bearer, crid);
    log("> POST " + req.url() + "  items " + std::to_string(items.front()->work.index) + ".." +
        std::to_string(items.back()->work.index) + "  client-request-id " + crid);
    ++requests_in_flight;
    counts.in_flight += items.size();
    ++counts.requests;
    deps.loop.start(std::move(req), now() + options.request_timeout,
                    [this, items = std::move(items), crid](Exchange ex) {
                      --requests_in_flight;
                      counts.in_flight -= items.size();
                      on_batch_done(items, ex, crid);
                      pump();
                    });
  }

  // ---- outcomes ----------------------------------------------------------------------------

  void adapt(int status) {
    if (status == 429) {
      const std::size_t before = limit;
      limit = std::max<std::size_t>(1, std::min(limit, requests_in_flight));
      ok_streak = 0;
      if (limit < before) {
        log("  throttled with " + std::to_string(requests_in_flight + 1) + " in flight: at most " +
            std::to_string(limit) + " at once from now on");
      }
    } else if (is_2xx(status) && limit < options.concurrency && ++ok_streak >= 50 * limit) {
      ++limit;
      ok_streak = 0;
    }
  }

  // Shared backoff: every worker waits, not only the one that was told to.
  milliseconds throttle_delay(const HttpResponse& response, int attempt) {
    RetryDecision d = decide_after_response(response, attempt, Idempotency::kUnsafe, options.retry,
                                            deps.wall_now(), deps.jitter);
    milliseconds delay = d.delay;
    if (delay.count() <= 0) delay = options.retry.base_delay;
    paused_until = std::max(paused_until, now() + delay);
    return delay;
  }

  void retry_later(Item* item, milliseconds delay) {
    item->not_before = now() + delay;
    retries.push_back(item);
  }

  bool may_retry(const Item* item) const {
    return !stopping && item->attempts <= options.retry.max_retries;
  }

  // The answer to the item's attempt: item->crid is that attempt's (an item is never sent again
  // while its request is out).
  void on_answer(Item* item, const HttpResponse& response) {
    item->last_status = response.status;
    if (is_2xx(response.status)) {
      std::string id = created_thread_id(response);
      finish_created(item, response.status, std::move(id), false);
      return;
    }
    Error e = graph_error(response, item->crid, "create the thread");
    if (response.status == 429 || response.status == 503) {
      ++counts.throttled;
      const milliseconds delay = throttle_delay(response, item->attempts);
      if (may_retry(item)) {
        retry_later(item, delay);
        return;
      }
      if (stopping) e.message += " (not sent again: " + stop_reason + ")";
      finish_error(item, Outcome::kFailed, e);
      return;
    }
    if (response.status == 504) {
      e.kind = ErrorKind::kOutcomeUnknown;
      e.message = "outcome unknown: Graph's gateway timed out (" + status_line(response) +
                  "); the thread may or may not have been created";
      unknown(item, e);
      return;
    }
    finish_error(item, Outcome::kFailed, e);
    if (response.status == 401) halt("the token was refused (401)");
  }

  void on_transport_failure(Item* item, const TransportError& error) {
    if (!error.request_bytes_written) {
      Error e = Error::network(error.message + "; nothing was sent");
      e.client_request_id = item->crid;
      if (error.failure == TransportFailure::kInterrupted) {
        e = Error(ErrorKind::kInterrupted, "interrupted before the request was sent; not created");
        finish_error(item, Outcome::kFailed, e);
        return;
      }
      RetryDecision d = decide_after_transport_error(error, item->attempts, Idempotency::kUnsafe,
                                                     options.retry, deps.jitter);
      if (d.verdict == RetryVerdict::kRetry && may_retry(item)) {
        retry_later(item, d.delay);
        return;
      }
      finish_error(item, Outcome::kFailed, e);
      return;
    }
    Error e(ErrorKind::kOutcomeUnknown,
            "outcome unknown: " + error.message +
                " after the request was sent; the thread may or may not have been created");
    e.http_status = error.status;
    e.client_request_id = item->crid;
    unknown(item, e);
  }

  void on_batch_done(const std::vector<Item*>& items, const Exchange& ex, const std::string& crid) {
    if (!ex.ok) {
      log("< " + std::string(failure_name(ex.error.failure)) + ": " + ex.error.message +
          "  $batch of " + std::to_string(items.size()));
      for (Item* item : items) on_transport_failure(item, ex.error);
      return;
    }
    log("< " + status_line(ex.response) + "  $batch of " + std::to_string(items.size()));
    adapt(ex.response.status);
    if (ex.response.status != 200) {
      // The batch as a whole was answered: throttled (nothing inside ran), a gateway timeout
      // (unknown for every part), or an error that applies to every part.
      for (Item* item : items) on_answer(item, ex.response);
      return;
    }
    auto answers = decode_batch_response(ex.response.body);
    if (!answers) {
      for (Item* item : items) {
        Error e = answers.error();
        e.kind = ErrorKind::kOutcomeUnknown;
        e.message = "outcome unknown: " + e.message;
        e.client_request_id = crid;
        unknown(item, e);
      }
      return;
    }
    for (Item* item : items) {
      const std::string id = std::to_string(item->work.index);
      auto it = std::find_if(answers->begin(), answers->end(),
                             [&](const BatchAnswer& a) { return a.id == id; });
      if (it == answers->end()) {
        Error e(ErrorKind::kOutcomeUnknown,
                "outcome unknown: Graph's $batch answer has no response for this item");
        e.client_request_id = crid;
        unknown(item, e);
        continue;
      }
      on_answer(item, it->response);
    }
  }

  void unknown(Item* item, const Error& e) {
    if (options.reconcile && !item->resent && !stopping && !item->work.topic.empty()) {
      log("  item " + std::to_string(item->work.index) +
          ": outcome unknown; looking for it among the group's threads");
      schedule_look(item);
      return;
    }
    finish_error(item, Outcome::kUnknown, e);
  }

  // ---- reconcile ---------------------------------------------------------------------------

  void schedule_look(Item* item) {
    const auto delay = options.reconcile_delay * (1 << std::min(item->looks, 10));
    item->look_timer = deps.loop.at(now() + delay, [this, item] {
      item->look_timer = 0;
      looks.push_back(item);
      pump();
    });
  }

  void start_list(Item* item, const std::string& next_link) {
    auto bearer = bearer_or_fail({item});
    if (!bearer) return;
    const std::string crid = deps.new_request_id();
    HttpRequest req;
    if (next_link.empty()) {
      ListQuery q;
      q.top = kReconcilePageSize;
      req = list_threads_request(options.graph, item->work.group, q, *bearer, crid);
    } else {
      auto r = next_page_request(options.graph, next_link, *bearer, crid);
      if (!r) {
        not_found(item);
        return;
      }
      req = std::move(r).value();
    }
    log("> GET " + req.url() + "  reconcile item " + std::to_string(item->work.index));
    ++requests_in_flight;
    ++counts.requests;
    deps.loop.start(std::move(req), now() + options.request_timeout,
                    [this, item, first = next_link.empty()](Exchange ex) {
                      --requests_in_flight;
                      on_list(item, ex, first);
                      pump();
                    });
  }

  void on_list(Item* item, const Exchange& ex, bool first_page) {
    item->pages = first_page ? 1 : item->pages + 1;
    if (aborted) {
      finish_error(item, Outcome::kUnknown,
                   Error(ErrorKind::kOutcomeUnknown,
                         "outcome unknown: interrupted while looking for the thread"));
      return;
    }
    if (!ex.ok || !is_2xx(ex.response.status)) {
      if (ex.ok && (ex.response.status == 429 || ex.response.status == 503)) {
        ++counts.throttled;
        throttle_delay(ex.response, 1);
      }
      not_found(item);
      return;
    }
    auto page = decode_thread_page(ex.response.body);
    if (!page) {
      not_found(item);
      return;
    }
    bool older_seen = false;
    for (const CreatedThread& t : page->threads) {
      const std::string delivered = timestamp_key(t.last_delivered.value_or(""));
      if (delivered < item->written_after) {
        older_seen = true;
        continue;
      }
      if (t.topic.value_or("") == item->work.topic && !t.id.empty() && !claimed.count(t.id)) {
        claimed.insert(t.id);
        log("  item " + std::to_string(item->work.index) + ": found as thread " + t.id);
        finish_created(item, 201, t.id, true);
        return;
      }
    }
    if (!older_seen && !page->next_link.empty() && item->pages < kReconcileMaxPages) {
      start_list(item, page->next_link);
      return;
    }
    not_found(item);
  }

  void not_found(Item* item) {
    ++item->looks;
    if (item->looks < options.reconcile_looks && !stopping) {
      schedule_look(item);
      return;
    }
    if (stopping) {
      finish_error(item, Outcome::kUnknown,
                   Error(ErrorKind::kOutcomeUnknown,
                         "outcome unknown: not found among the group's threads yet, and not "
                         "sent again (" +
                             stop_reason + ")"));
      return;
    }
    log("  item " + std::to_string(item->work.index) + ": not found after " +
        std::to_string(item->looks) + " looks; sending it once more");
    item->resent = true;
    ++counts.resent;
    item->not_before = now();
    retries.push_front(item);
  }

  // ---- stopping ----------------------------------------------------------------------------

  void halt(const std::string& reason) {
    if (stopping) return;
    stopping = true;
    stop_reason = reason;
    const Error not_sent(ErrorKind::kInterrupted, "not sent: " + reason);
    for (Item* item : fresh) finish_error(item, Outcome::kFailed, not_sent);
    fresh.clear();
    while (!retries.empty()) {
      Item* item = retries.front();
      retries.pop_front();
      if (item->resent) {
        finish_error(item, Outcome::kUnknown,
                     Error(ErrorKind::kOutcomeUnknown,
                           "outcome unknown: not found among the group's threads, and not sent "
                           "again (" +
                               reason + ")"));
      } else {
        Error e(ErrorKind::kInterrupted,
                "not sent again after " +
                    (item->last_status ? "a " + std::to_string(item->last_status) + " answer"
                                       : std::string("a failed attempt")) +
                    ": " + reason + "; not created");
        finish_error(item, Outcome::kFailed, e);
      }
    }
    flush();
  }

  void on_tick() {
    tick_timer = 0;
    counts.connections = deps.loop.connections_opened();
    if (deps.on_tick) deps.on_tick(counts);
    if (!finished() && !aborted) {
      tick_timer = deps.loop.at(now() + options.tick, [this] { on_tick(); });
    }
  }
};

BulkEngine::BulkEngine(BulkDeps deps, BulkOptions options)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(options))) {}
BulkEngine::~BulkEngine() = default;

void BulkEngine::run() {
  Impl& m = *impl_;
  m.started = true;
  m.next_pace = m.paused_until = m.now();
  m.tick_timer = m.deps.loop.at(m.now() + m.options.tick, [&m] { m.on_tick(); });
  m.pump();
  m.deps.loop.run();
  // Nothing can be pending once the loop is idle; if something is, it must still be reported.
  for (auto& [seq, item] : m.live) {
    if (!item->result) {
      m.finish_error(item.get(), Outcome::kUnknown,
                     Error(ErrorKind::kOutcomeUnknown,
                           "outcome unknown: the run ended without an answer for this item"));
    }
  }
  m.flush();
  m.counts.connections = m.deps.loop.connections_opened();
}

void BulkEngine::stop() {
  impl_->halt("interrupted");
}

void BulkEngine::abort() {
  Impl& m = *impl_;
  m.halt("interrupted");
  if (m.aborted) return;
  m.aborted = true;
  // Items waiting for a reconcile look end as unknown. finish() can erase map entries, so the
  // scan restarts after each one.
  for (bool again = true; again;) {
    again = false;
    for (auto& [seq, item] : m.live) {
      if (item->look_timer) {
        m.deps.loop.cancel(item->look_timer);
        item->look_timer = 0;
        m.finish_error(item.get(), Outcome::kUnknown,
                       Error(ErrorKind::kOutcomeUnknown,
                             "outcome unknown: interrupted before the thread was found"));
        again = true;
        break;
      }
    }
  }
  for (Impl::Item* item : m.looks) {
    m.finish_error(item, Outcome::kUnknown,
                   Error(ErrorKind::kOutcomeUnknown,
                         "outcome unknown: interrupted before the thread was found"));
  }
  m.looks.clear();
  if (m.wake_timer) m.deps.loop.cancel(m.wake_timer);
  m.wake_timer = 0;
  m.deps.loop.abort_all();
}

bool BulkEngine::stopping() const {
  return impl_->stopping;
}
const BulkCounts& BulkEngine::counts() const {
  return impl_->counts;
}
const std::string& BulkEngine::stop_reason() const {
  return impl_->stop_reason;
}

int bulk_exit_code(const BulkCounts& counts, bool interrupted) {
  if (interrupted) return exit_code(ErrorKind::kInterrupted);
  return counts.worst_exit;
}

}  // namespace gt
