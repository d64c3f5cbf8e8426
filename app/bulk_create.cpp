#include "app/bulk_create.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <system_error>

#include "gt/auth.hpp"
#include "gt/bulk_engine.hpp"
#include "gt/bulk_report.hpp"
#include "gt/bulk_results.hpp"
#include "gt/http_log.hpp"
#include "gt/interrupt.hpp"
#include "gt/item_reader.hpp"
#include "gt/json_codec.hpp"

namespace gt::app {

namespace {

// When a bulk run should ask for its bearer again: `margin` before the token's "exp", where the
// margin is a minute, or half of what was left when the token was obtained if that is less (so
// short-lived tokens are not asked for on every request). Tokens without "exp" (opaque) are never
// renewed.
class BearerRenewal {
 public:
  using WallNow = std::function<std::chrono::system_clock::time_point()>;
  BearerRenewal(AccessToken token, WallNow now) : now_(std::move(now)) {
    renewed(std::move(token));
  }
  bool due() const { return renew_at_ && epoch_seconds() >= *renew_at_; }
  void renewed(AccessToken token) {
    token_ = std::move(token);
    renew_at_.reset();
    const auto claims = decode_token_claims(token_.value);
    if (!claims || !claims->expires_at) return;
    const std::int64_t left = *claims->expires_at - epoch_seconds();
    renew_at_ =
        *claims->expires_at - std::min<std::int64_t>(60, std::max<std::int64_t>(left, 0) / 2);
  }
  const AccessToken& token() const { return token_; }

 private:
  std::int64_t epoch_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now_().time_since_epoch()).count();
  }
  WallNow now_;
  AccessToken token_;
  std::optional<std::int64_t> renew_at_;
};

// Hands out `prefix` (the bytes open_input already looked at), then the rest of `rest`.
class ReplayStreambuf final : public std::streambuf {
 public:
  ReplayStreambuf(std::string prefix, std::streambuf* rest)
      : prefix_(std::move(prefix)), rest_(rest), buffer_(64 * 1024) {
    setg(prefix_.data(), prefix_.data(), prefix_.data() + prefix_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!prefix_.empty()) std::string().swap(prefix_);  // handed out; give the memory back
    const std::streamsize n = rest_->sgetn(buffer_.data(), std::streamsize(buffer_.size()));
    if (n <= 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string prefix_;
  std::streambuf* rest_;
  std::vector<char> buffer_;
};

bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// "10", "10/s", "600/min", "36000/h" -> creates per second.
Result<double> parse_max_rate(const std::string& text) {
  const Error bad =
      Error::usage("--max-rate: expected N, N/s, N/min or N/h (e.g. 10/s), got \"" + text + "\"");
  const auto slash = text.find('/');
  const std::string number = text.substr(0, slash);
  const std::string unit = slash == std::string::npos ? "s" : text.substr(slash + 1);
  double n = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || end != number.data() + number.size() || !(n > 0) || n > 1e6) {
    return bad;
  }
  if (unit == "s" || unit == "sec") return n;
  if (unit == "min" || unit == "m") return n / 60;
  if (unit == "h" || unit == "hour") return n / 3600;
  return bad;
}

ItemResult failed_item(std::size_t index, std::string group, const Error& e) {
  ItemResult r;
  r.index = index;
  r.group = std::move(group);
  r.outcome = Outcome::kFailed;
  r.error = item_error(e);
  return r;
}

// Pulls RawItems: from the reader, or the one document open_input already read.
class RawSource {
 public:
  explicit RawSource(OpenedInput& input) {
    if (input.one_document) {
      single_ = RawItem{0, 1, std::move(*input.single_text), ""};
    } else {
      reader_ = std::make_unique<ItemReader>(*input.stream, input.source);
    }
  }
  std::optional<RawItem> next() {
    if (reader_) return reader_->next();
    std::optional<RawItem> out = std::move(single_);
    single_.reset();
    return out;
  }

 private:
  std::unique_ptr<ItemReader> reader_;
  std::optional<RawItem> single_;
};

// Decodes, overrides and validates one item; a failure becomes its ready result.
struct ItemMaker {
  const CreateOptions& options;
  const ThreadOverrides& overrides;
  const ResumeSet* resume;
  std::set<std::string> dropped;  // property paths ignored in some item (for one warning)

  BulkWork make(const RawItem& raw) {
    BulkWork w;
    w.index = raw.index;
    if (resume) {
      if (auto earlier = resume->find(raw.index)) {
        ItemResult r;
        r.index = raw.index;
        r.group = earlier->group;
        r.outcome = Outcome::kSkipped;
        r.id = earlier->id;
        w.group = earlier->group;
        w.ready = std::move(r);
        return w;
      }
    }
    auto item = decode_bulk_item(raw, options.group);
    if (!item) {
      w.group = options.group;
      w.ready = failed_item(raw.index, options.group, item.error());
      return w;
    }
    w.group = std::move(item->group);
    for (const auto& p : item->dropped) {
      if (dropped.size() < 32) dropped.insert(p);
    }
    // The item's name is spelled only for a message, which is rare: finish_thread's message is
    // the same with the name put in front of it as with the name passed in.
    auto thread = finish_thread(std::move(item->thread), overrides, "");
    if (!thread) {
      Error error = std::move(thread).error();
      error.message.insert(
          0, "item " + std::to_string(raw.index) + " (line " + std::to_string(raw.line) + "): ");
      w.ready = failed_item(raw.index, w.group, error);
      return w;
    }
    w.body_json = encode_thread_request(*thread);
    w.topic = std::move(thread->topic).value_or("");
    return w;
  }
};

void warn_dropped(Io& io, const std::set<std::string>& dropped) {
  if (dropped.empty()) return;
  std::string list;
  for (const auto& p : dropped) list += (list.empty() ? "" : ", ") + p;
  warn(io, "ignored properties that Graph computes itself, found in some items: " + list);
}

// Prints result lines, through --jq when given. A jq runtime error is kept (the first) and the
// lines after it are printed unfiltered, so that no result is lost for --resume. Each line is
// flushed unless `flush_each` is false (then the caller flushes).
struct ResultPrinter {
  const Settings& settings;
  Io& io;
  std::optional<Error> jq_error;
  bool flush_each = true;

  void operator()(const std::string& line) {
    if (settings.jq && !jq_error) {
      auto st = print_jq(settings, io, line);
      if (st) return;
      jq_error = st.error();
      jq_error->message += " (this and later result lines are printed unfiltered)";
    }
    io.out << line << '\n';
    if (flush_each) io.out.flush();
  }

  // A bulk run's result: encoded into one reused buffer and written with its newline at once.
  void operator()(const ItemResult& result) {
    line_buffer.clear();
    append_result_line(line_buffer, result);
    if (settings.jq && !jq_error) return (*this)(line_buffer);
    line_buffer += '\n';
    io.out.write(line_buffer.data(), static_cast<std::streamsize>(line_buffer.size()));
    if (flush_each) io.out.flush();
  }

  std::string line_buffer;  // reused by every result line
};

int validate_only(const CreateOptions& o, OpenedInput& input, ItemMaker& maker, Io& io,
                  bool dry_run, Session& session, Deps& deps) {
  ResultPrinter print{session.settings(), io, {}};
  RawSource source(input);
  std::size_t items = 0, invalid = 0;
  bool described = false;
  while (auto raw = source.next()) {
    ++items;
    BulkWork w = maker.make(*raw);
    if (w.ready && w.ready->outcome == Outcome::kFailed) {
      ++invalid;
      print(*w.ready);
    } else if (dry_run && !described && !w.ready) {
      std::string warning;
      const std::string bearer = session.dry_run_bearer(warning);
      io.out << describe_request(create_thread_request_json(
          session.client_options(), w.group, w.body_json, bearer, deps.new_request_id()));
      if (!warning.empty()) warn(io, warning);
      described = true;
    }
  }
  io.out.flush();
  warn_dropped(io, maker.dropped);
  io.err << group_digits(items) << (items == 1 ? " item" : " items") << " in " << input.source
         << ": " << group_digits(items - invalid) << " valid, " << group_digits(invalid)
         << " invalid; nothing was sent"
         << (dry_run && items - invalid > 1 ? " (the request of the first valid one is shown)" : "")
         << '\n';
  (void)o;
  if (print.jq_error) return fail(io, *print.jq_error);
  return invalid > 0 ? exit_code(ErrorKind::kUsage) : 0;
}

}  // namespace

Result<OpenedInput> open_input(const CreateOptions& o, const Env& /*env*/, Io& io) {
  OpenedInput in;
  std::istream* stream = &io.in;
  if (o.input == "-") {
    in.source = "stdin";
    if (io.in_is_tty && io.err_is_tty) {
      io.err << "Reading JSON from the terminal: one thread, or one per line; end with Ctrl-D.\n";
    }
  } else {
    in.source = "--input " + o.input;
    std::error_code ec;
    if (std::filesystem::is_directory(o.input, ec)) {
      return Error::usage("--input: cannot read " + o.input + " (it is a directory)");
    }
    auto file = std::make_unique<std::ifstream>(o.input, std::ios::binary);
    if (!*file) {
      return Error::usage("--input: cannot read " + o.input + " (" +
                          std::generic_category().message(errno) + ")");
    }
    if (io.err_is_tty && !o.no_progress && std::filesystem::is_regular_file(o.input, ec)) {
      if (auto n = ItemReader::count_items(o.input)) in.total = *n;
    }
    stream = file.get();
    in.file = std::move(file);
  }

  // Look at the beginning: skip a byte order mark and whitespace, then judge the first value.
  std::string prefix;
  std::streambuf* sb = stream->rdbuf();
  auto get = [&]() -> int {
    const int c = sb->sbumpc();
    if (c != std::char_traits<char>::eof()) prefix += static_cast<char>(c);
    return c;
  };
  int c = get();
  if (c == 0xEF) {  // UTF-8 BOM; the reader skips it too
    get();
    get();
    c = get();
  }
  while (c != std::char_traits<char>::eof() && is_space(c)) c = get();
  if (c == std::char_traits<char>::eof()) {
    return Error::usage(in.source + ": no items: the input is empty");
  }
  const std::size_t first_at = prefix.size() - 1;
  auto replay = [&] {
    in.replay = std::make_unique<ReplayStreambuf>(std::move(prefix), sb);
    in.stream = std::make_unique<std::istream>(in.replay.get());
  };
  if (c == '[') {
    in.many = true;
    replay();
    return in;
  }
  while (c != std::char_traits<char>::eof() && c != '\n' &&
         prefix.size() - first_at <= kMaxInputBytes) {
    c = get();
  }
  const std::string first_line = prefix.substr(first_at);
  if (prefix.size() - first_at > kMaxInputBytes || is_complete_json(first_line)) {
    // NDJSON. Many items when another non-blank line follows.
    while (c != std::char_traits<char>::eof() && is_space(c)) c = get();
    in.many = c != std::char_traits<char>::eof();
    if (!in.many) in.single_text = first_line;
    replay();
    return in;
  }
  // One JSON document over several lines (a pretty-printed thread), or not JSON at all: one
  // item either way, read whole.
  std::string text = first_line;
  while ((c = sb->sbumpc()) != std::char_traits<char>::eof()) {
    text += static_cast<char>(c);
    if (text.size() > kMaxInputBytes) {
      return Error::usage(in.source + ": larger than " +
                          std::to_string(kMaxInputBytes / (1024 * 1024)) +
                          " MiB; for many threads, give one per line (NDJSON) or a JSON array");
    }
  }
  in.one_document = true;
  in.single_text = std::move(text);
  return in;
}

int run_bulk_create(const CreateOptions& o, OpenedInput& input, const ThreadOverrides& overrides,
                    Session& session, Io& io, Deps& deps) {
  // Bulk output is result lines, NDJSON: -o json and ndjson both name it; any other format asked
  // for explicitly is refused rather than silently ignored (the terminal's table default is not
  // a request).
  const Settings& settings = session.settings();
  if (settings.output_given && settings.output != OutputFormat::kJson &&
      settings.output != OutputFormat::kNdjson) {
    return fail(io, Error::usage(std::string("--output ") + output_format_name(settings.output) +
                                 ": creating many threads writes NDJSON result lines; use "
                                 "--output ndjson or json, or --jq to pick fields"));
  }
  // Flushed once per turn of the exchange loop (its idle hook, below), not once per line.
  ResultPrinter print{settings, io, {}, false};
  double max_rate = 0;
  if (!o.max_rate.empty()) {
    auto r = parse_max_rate(o.max_rate);
    if (!r) return fail(io, r.error());
    max_rate = *r;
  }
  if (!o.group.empty()) warn_if_not_guid(io, "--group", o.group);

  std::optional<ResumeSet> resume;
  if (!o.resume.empty()) {
    std::ifstream file(o.resume, std::ios::binary);
    if (!file) {
      return fail(io, Error::usage("--resume: cannot read " + o.resume + " (" +
                                   std::generic_category().message(errno) + ")"));
    }
    auto set = read_resume_file(file, "--resume " + o.resume);
    if (!set) return fail(io, set.error());
    if (set->truncated_last_line()) {
      warn(io, "--resume " + o.resume +
                   ": its last line was cut short (a run that stopped while writing it); that "
                   "item is sent again unless a complete line says it was created");
    }
    resume = std::move(set).value();
  }
  ItemMaker maker{o, overrides, resume ? &*resume : nullptr, {}};

  if (o.validate_only || session.settings().dry_run) {
    return validate_only(o, input, maker, io, session.settings().dry_run, session, deps);
  }

  // Sign in once, before anything is read or sent: a missing or app-only token stops the run
  // with nothing sent.
  auto token = session.token("create threads", TokenUse::kDelegatedOnly);
  if (!token) return fail(io, token.error());
  // A run can outlast its access token (about an hour): ask the chain again shortly before the
  // token expires. Sources that can refresh (refresh token, the auth login cache, a secret, ...)
  // give a new one; a fixed token (--token, GRAPH_TOKEN) stays the same until check_token calls
  // it expired, which ends the run with that message instead of a 401 per item.
  BearerRenewal renewal(*token, [&] { return deps.clock.wall_now(); });
  if (!deps.make_exchange_loop) {
    return fail(io, Error::network("bulk creation is not available in this build"));
  }
  auto loop = deps.make_exchange_loop(
      TransportConfig{.cacert_file = session.settings().cacert, .proxy = session.settings().proxy});
  if (!loop) return fail(io, loop.error());
  if (session.settings().debug) {
    // --debug logs bulk exchanges too; with many in flight each request and each answer is one
    // block (matched by method and URL), so blocks of different items interleave.
    loop = std::unique_ptr<ExchangeLoop>(
        std::make_unique<DebugExchangeLoop>(std::move(loop).value(), io.err));
  }
  // Result lines written by one turn of the loop (often several: every response that arrived
  // together) go out in one write, before the loop waits for anything: a crash or a kill still
  // leaves every item whose result was known before the last wait on record for --resume.
  (*loop)->set_idle_hook([&io] { io.out.flush(); });

  BulkOptions options;
  options.graph = session.client_options();
  options.concurrency = o.concurrency;
  options.batch = o.batch;
  options.max_rate = max_rate;
  options.retry.max_retries = session.settings().retries;
  options.request_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(session.settings().timeout);
  options.reconcile = o.reconcile;
  options.reconcile_delay = std::chrono::milliseconds(std::lround(o.reconcile_delay * 1000));

  RawSource source(input);
  const bool progress = io.err_is_tty && !o.no_progress;
  const auto started = std::chrono::steady_clock::now();
  bool drew = false;
  bool told_stopping = false;
  const auto clear_progress = [&] {
    if (drew) io.err << "\r\x1b[K" << std::flush;
    drew = false;
  };
  set_interrupts_before_exit(3);
  std::unique_ptr<BulkEngine> engine;
  engine = std::make_unique<BulkEngine>(
      BulkDeps{
          .loop = **loop,
          .next = [&]() -> std::optional<BulkWork> {
            auto raw = source.next();
            if (!raw) return std::nullopt;
            return maker.make(*raw);
          },
          .emit = [&](const ItemResult& r) { print(r); },
          .bearer = [&]() -> Result<std::string> {
            if (renewal.due()) {
              auto fresh = session.token("create threads", TokenUse::kDelegatedOnly);
              if (!fresh) return std::move(fresh).error();
              renewal.renewed(std::move(fresh).value());
            }
            return renewal.token().value;
          },
          .new_request_id = deps.new_request_id,
          .jitter = deps.jitter,
          .wall_now = [&] { return deps.clock.wall_now(); },
          .on_tick =
              [&](const BulkCounts& counts) {
                const int signals = interrupt_count();
                if (signals >= 2) {
                  engine->abort();
                } else if (signals == 1 && !engine->stopping()) {
                  engine->stop();
                }
                if (engine->stopping() && !told_stopping && signals > 0) {
                  clear_progress();
                  io.err << "graph-threads: stopping: " << counts.in_flight
                         << " in flight will finish and be reported; Ctrl-C again to abort "
                            "them (they become \"unknown\")\n"
                         << std::flush;
                  told_stopping = true;
                }
                if (progress) {
                  const std::chrono::duration<double> elapsed =
                      std::chrono::steady_clock::now() - started;
                  io.err << '\r'
                         << progress_line(counts, input.total, elapsed,
                                          io.out_width ? io.out_width : 80)
                         << "\x1b[K" << std::flush;
                  drew = true;
                }
              },
          .verbose = session.verbose(),
      },
      options);
  engine->run();
  clear_progress();
  io.out.flush();
  warn_dropped(io, maker.dropped);

  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  const BulkCounts& counts = engine->counts();
  const bool interrupted_run = interrupt_count() > 0;
  io.err << bulk_summary(counts, elapsed) << '\n';
  if (!engine->stop_reason().empty()) {
    io.err << "graph-threads: stopped early (" << engine->stop_reason()
           << "): the rest of the input was not read";
    if (!o.resume.empty() || counts.created > 0) {
      io.err << "; run again with --resume on these results to do only the rest";
    }
    io.err << '\n';
  }
  if (counts.unknown > 0) {
    io.err << "graph-threads: " << counts.unknown
           << (counts.unknown == 1 ? " item has" : " items have")
           << " an unknown outcome (written, no answer): check the group before sending "
              "them again"
           << (o.reconcile ? "" : ", or rerun them with --reconcile") << '\n';
  }
  io.err << std::flush;
  const int code = bulk_exit_code(counts, interrupted_run);
  if (print.jq_error) {
    const int jq_code = fail(io, *print.jq_error);
    return code != 0 ? code : jq_code;  // the items' outcome matters more than the filter's
  }
  return code;
}

}  // namespace gt::app
