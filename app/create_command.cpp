#include "app/create_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/bulk_create.hpp"
#include "app/cli.hpp"
#include "app/session.hpp"
#include "app/validators.hpp"
#include "gt/address.hpp"
#include "gt/format.hpp"
#include "gt/graph_client.hpp"
#include "gt/json_codec.hpp"
#include "gt/uuid.hpp"
#include "gt/validate.hpp"

namespace gt::app {

namespace {

Result<std::vector<Recipient>> parse_recipients(const std::vector<std::string>& values,
                                                const std::string& flag) {
  std::vector<Recipient> out;
  for (const auto& v : values) {
    auto r = parse_recipient(v, flag);
    if (!r) {
      Error e = std::move(r).error();
      if (v.find(',') != std::string::npos) {
        e.hint = "give one address per " + flag + " and repeat the flag for several recipients";
      }
      return e;
    }
    out.push_back(std::move(r).value());
  }
  return out;
}

Post& first_post(ThreadRequest& t) {
  if (!t.posts) t.posts.emplace();
  if (t.posts->empty()) t.posts->emplace_back();
  return t.posts->front();
}

ItemBody& first_body(ThreadRequest& t) {
  Post& p = first_post(t);
  if (!p.body) p.body.emplace();
  return *p.body;
}

}  // namespace

CLI::App* setup_create(CLI::App& app, CreateOptions& o) {
  CLI::App* cmd =
      app.add_subcommand("create", "Start a conversation thread in a Microsoft 365 group");
  cmd->fallthrough();
  cmd->footer(
      "Global flags (see graph-threads --help): --token, --token-file, --base-url, --cloud,\n"
      "  --api-version, --cacert, --timeout, --retries, -o/--output, --jq, --dry-run,\n"
      "  -v/--verbose\n"
      "\n"
      "Examples:\n"
      "  graph-threads create --group $GID --topic 'Maintenance tonight' --body 'From 22:00 UTC'\n"
      "  graph-threads create --group $GID --input thread.json -o id\n"
      "  echo '{\"topic\":\"Deploy\",\"posts\":[{\"body\":{\"content\":\"v2 is out\"}}]}' |\n"
      "    graph-threads create --group $GID --input -\n"
      "  graph-threads create --group $GID --topic Hi --body-file notes.html --content-type html "
      "--dry-run\n"
      "  graph-threads create --group $GID --topic 'Release 2.4' --body 'Out now' --if-not-exists\n"
      "\n"
      "Many threads: --input with NDJSON (one thread, or {\"group\":ID,\"thread\":{...}}, a line)\n"
      "or a JSON array writes one result line per item, in input order, to stdout:\n"
      "  graph-threads create --group $GID --input announcements.ndjson > results.ndjson\n"
      "  graph-threads create --group $GID --input announcements.ndjson --resume results.ndjson "
      "> results-2.ndjson");
  const std::string thread = "Thread";
  const std::string recipients = "Recipients";
  o.group_opt = cmd->add_option("--group", o.group,
                                "Id of the Microsoft 365 group (a GUID); with --input, the group "
                                "of items that do not name their own")
                    ->type_name("ID")
                    ->group(thread);
  o.topic_opt = cmd->add_option("--topic", o.topic, "Subject of the conversation")
                    ->type_name("TEXT")
                    ->group(thread);
  o.body_opt =
      cmd->add_option("--body", o.body, "Text of the first post")->type_name("TEXT")->group(thread);
  auto* body_file = cmd->add_option("--body-file", o.body_file,
                                    "Read the first post's text from FILE (- for stdin)")
                        ->type_name("FILE")
                        ->group(thread);
  o.body_opt->excludes(body_file);
  o.content_type_opt =
      cmd->add_option("--content-type", o.content_type, "Body format: text or html (default text)")
          ->type_name("TYPE")
          ->check(one_of({"text", "html"}))
          ->group(thread);
  cmd->add_option("--input", o.input,
                  "Read a JSON conversationThread, or many as NDJSON or a JSON array (- for "
                  "stdin); flags override")
      ->type_name("FILE")
      ->group(thread);
  cmd->add_flag("--if-not-exists", o.if_not_exists,
                "Create only when no thread in the group has this exact topic; otherwise print "
                "that thread")
      ->group(thread);
  const std::string bulk = "Bulk (many threads from --input)";
  cmd->add_flag("--bulk", o.bulk, "Write a result line per item even for a single item")
      ->group(bulk);
  o.concurrency_opt =
      cmd->add_option("--concurrency", o.concurrency, "Requests in flight at once (default 4)")
          ->type_name("N")
          ->check(CLI::Range(1, 256))
          ->group(bulk);
  cmd->add_flag("--batch", o.batch, "Pack up to 20 creates into each JSON $batch request")
      ->group(bulk);
  o.max_rate_opt = cmd->add_option("--max-rate", o.max_rate,
                                   "At most this many creates per second: 10, 10/s, 600/min")
                       ->type_name("RATE")
                       ->group(bulk);
  cmd->add_flag("--validate-only", o.validate_only,
                "Check every item, print the invalid ones, send nothing")
      ->group(bulk);
  cmd->add_flag("--reconcile", o.reconcile,
                "Resolve 'unknown' items by looking for them among the group's threads; send "
                "once more only if not found")
      ->group(bulk);
  cmd->add_option("--reconcile-delay", o.reconcile_delay,
                  "Seconds before --reconcile first looks (then twice as long, twice; default 2)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.05, 600.0))
      ->group(bulk);
  cmd->add_option("--resume", o.resume, "Skip items an earlier run's results list as created")
      ->type_name("RESULTS")
      ->group(bulk);
  cmd->add_flag("--no-progress", o.no_progress, "No progress bar, even on a terminal")->group(bulk);
  cmd->add_option("--to", o.to, "To: recipient, a@b.example or 'Name <a@b.example>'")
      ->type_name("ADDR")
      ->allow_extra_args(false)
      ->group(recipients);
  cmd->add_option("--cc", o.cc, "Cc: recipient (repeatable)")
      ->type_name("ADDR")
      ->allow_extra_args(false)
      ->group(recipients);
  cmd->add_option("--participant", o.participants, "Post participant (newParticipants, repeatable)")
      ->type_name("ADDR")
      ->allow_extra_args(false)
      ->group(recipients);
  return cmd;
}

bool CreateOptions::bulk_flag_given() const {
  return bulk || batch || validate_only || reconcile || !resume.empty() ||
         (concurrency_opt && concurrency_opt->count() > 0) ||
         (max_rate_opt && max_rate_opt->count() > 0);
}

Result<ThreadOverrides> read_overrides(const CreateOptions& o, const Env& env, Io& io) {
  const int stdin_users = (o.input == "-") + (o.body_file == "-");
  if (stdin_users > 1) {
    return Error::usage("--input - and --body-file - both read stdin; only one of them can");
  }
  // Flag-level checks first: they name the flag, which is what the user typed.
  if (o.topic_opt->count() > 0 && o.topic.empty()) {
    return Error::usage("--topic: must not be empty");
  }
  if (o.body_opt->count() > 0 && o.body.empty()) return Error::usage("--body: must not be empty");
  ThreadOverrides v;
  auto to = parse_recipients(o.to, "--to");
  if (!to) return std::move(to).error();
  auto cc = parse_recipients(o.cc, "--cc");
  if (!cc) return std::move(cc).error();
  auto participants = parse_recipients(o.participants, "--participant");
  if (!participants) return std::move(participants).error();
  if (o.topic_opt->count() > 0) v.topic = o.topic;
  if (o.body_opt->count() > 0) v.body = o.body;
  if (!o.body_file.empty()) {
    Result<std::string> text = read_body_file(o.body_file, env, io);
    if (!text) return std::move(text).error();
    v.body = std::move(text).value();
  }
  if (o.content_type_opt->count() > 0) {
    v.content_type = o.content_type == "html" ? BodyType::kHtml : BodyType::kText;
  }
  if (!o.to.empty()) v.to = std::move(to).value();
  if (!o.cc.empty()) v.cc = std::move(cc).value();
  if (!o.participants.empty()) v.participants = std::move(participants).value();
  return v;
}

Result<ThreadRequest> finish_thread(ThreadRequest t, const ThreadOverrides& v,
                                    std::string_view where) {
  if (v.topic) t.topic = *v.topic;
  if (v.body) first_body(t).content = *v.body;
  if (v.content_type) first_body(t).content_type = *v.content_type;
  if (v.to) t.to_recipients = *v.to;
  if (v.cc) t.cc_recipients = *v.cc;
  if (v.participants) first_post(t).new_participants = *v.participants;
  // The documented default: a body without a content type is text.
  if (t.posts && !t.posts->empty() && t.posts->front().body &&
      !t.posts->front().body->content_type) {
    t.posts->front().body->content_type = BodyType::kText;
  }
  const auto issues = validate_thread_request(t);
  if (!issues.empty()) {
    const std::string prefix(where);
    if (issues.size() == 1) {
      return Error::usage(prefix + issues.front().path + ": " + issues.front().message);
    }
    return Error::usage(prefix + "the thread is not valid:\n" + format_issues(issues));
  }
  return t;
}

Result<ThreadRequest> build_thread_request(const CreateOptions& o,
                                           const std::optional<std::string>& input_text,
                                           const ThreadOverrides& overrides,
                                           std::vector<std::string>& warnings) {
  ThreadRequest t;
  if (input_text) {
    const std::string source = o.input == "-" ? "--input - (stdin)" : "--input " + o.input;
    auto decoded = decode_thread_request(*input_text, source);
    if (!decoded) return std::move(decoded).error();
    t = std::move(decoded->request);
    if (!decoded->dropped.empty()) {
      std::string list;
      for (const auto& p : decoded->dropped) list += (list.empty() ? "" : ", ") + p;
      warnings.push_back("ignoring properties of " + source +
                         " that Graph computes itself: " + list);
    }
  }
  return finish_thread(std::move(t), overrides, "");
}

int run_create(const CreateOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps) {
  if (o.input == "-" && globals.token_file == "-") {
    return fail(io, Error::usage("--input - and --token-file - both read stdin; only one can"));
  }
  if (o.body_file == "-" && globals.token_file == "-") {
    return fail(io, Error::usage("--body-file - and --token-file - both read stdin; only one can"));
  }
  if (o.input.empty() && o.bulk_flag_given()) {
    return fail(io, Error::usage("--bulk, --concurrency, --batch, --max-rate, --validate-only, "
                                 "--reconcile and --resume need --input FILE|- with the items"));
  }
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  auto overrides = read_overrides(o, env, io);
  if (!overrides) return fail(io, overrides.error());

  std::optional<std::string> input_text;
  if (!o.input.empty()) {
    auto input = open_input(o, env, io);
    if (!input) return fail(io, input.error());
    if (input->many || o.bulk_flag_given()) {
      if (o.if_not_exists) {
        return fail(io, Error::usage("--if-not-exists works for one thread, not with many items "
                                     "from --input (use --resume to skip items created before)"));
      }
      return run_bulk_create(o, *input, *overrides, *session, io, deps);
    }
    input_text = std::move(input->single_text);
  }
  if (o.group.empty()) {
    return fail(io, Error::usage(o.group_opt && o.group_opt->count() > 0
                                     ? "--group: must not be empty"
                                     : "--group is required: the id of the Microsoft 365 group"));
  }
  std::vector<std::string> warnings;
  auto thread = build_thread_request(o, input_text, *overrides, warnings);
  if (!thread) return fail(io, thread.error());
  for (const auto& w : warnings) warn(io, w);
  warn_if_not_guid(io, "--group", o.group);

  if (session->settings().dry_run) {
    // No transport is built and nobody signs in: --dry-run works offline and without a token.
    std::string warning;
    const std::string bearer = session->dry_run_bearer(warning);
    if (o.if_not_exists) {
      // The listing comes first; the create is sent only if no page holds the topic.
      io.out << describe_request(list_threads_request(session->client_options(), o.group,
                                                      ListQuery{}, bearer, deps.new_request_id()))
             << "\n";
      warn(io,
           "--if-not-exists: the GET (and one per further page) is sent first; the POST only "
           "if no thread has the topic \"" +
               thread->topic.value_or("") + "\"");
    }
    io.out << describe_request(create_thread_request(session->client_options(), o.group, *thread,
                                                     bearer, deps.new_request_id()));
    if (!warning.empty()) warn(io, warning);
    return 0;
  }

  auto token = session->token("create a thread", TokenUse::kDelegatedOnly);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  if (o.if_not_exists) {
    auto existing = (*client)->find_thread_by_topic(o.group, thread->topic.value_or(""), *token);
    if (!existing) {
      Error e = std::move(existing).error();
      e.message = "--if-not-exists: could not check for an existing thread: " + e.message;
      return fail(io, e);
    }
    if (*existing) {
      const int pages = (*client)->pages_searched();
      // Not a warning: this is the outcome asked for. stdout still carries the thread, so
      // `-o id` gives the id either way; stderr says which way it went.
      io.err << kProgram << ": not created: thread " << one_line((*existing)->id)
             << " already has the topic \"" << thread->topic.value_or("") << "\" (found on page "
             << pages << " of the group's threads)\n";
      write_thread(io.out, **existing, session->settings().output, session->settings().format);
      io.out.flush();
      return 0;
    }
  }
  auto created = (*client)->create_thread(o.group, *thread, *token);
  if (!created) return fail(io, created.error());
  if (created->id.empty()) {
    warn(io, "Graph reported success but the response carried no thread id");
  }
  if (auto st = print_thread(session->settings(), io, *created); !st) {
    Error e = st.error();
    e.message += " (the thread was created" + (created->id.empty() ? "" : ": " + created->id) + ")";
    return fail(io, e);
  }
  return 0;
}

}  // namespace gt::app
