#include "app/create_command.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

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
      "  --api-version, --cacert, --timeout, --retries, -o/--output, --dry-run, -v/--verbose\n"
      "\n"
      "Examples:\n"
      "  graph-threads create --group $GID --topic 'Maintenance tonight' --body 'From 22:00 UTC'\n"
      "  graph-threads create --group $GID --input thread.json -o id\n"
      "  echo '{\"topic\":\"Deploy\",\"posts\":[{\"body\":{\"content\":\"v2 is out\"}}]}' |\n"
      "    graph-threads create --group $GID --input -\n"
      "  graph-threads create --group $GID --topic Hi --body-file notes.html --content-type html "
      "--dry-run");
  const std::string thread = "Thread";
  const std::string recipients = "Recipients";
  cmd->add_option("--group", o.group, "Id of the Microsoft 365 group (a GUID)")
      ->type_name("ID")
      ->required()
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
                  "Read a JSON conversationThread (- for stdin); flags override")
      ->type_name("FILE")
      ->group(thread);
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

Result<ThreadRequest> build_thread_request(const CreateOptions& o, const Env& env, Io& io,
                                           std::vector<std::string>& warnings) {
  const int stdin_users = (o.input == "-") + (o.body_file == "-");
  if (stdin_users > 1) {
    return Error::usage("--input - and --body-file - both read stdin; only one of them can");
  }
  // Flag-level checks first: they name the flag, which is what the user typed.
  if (o.group.empty()) return Error::usage("--group: must not be empty");
  if (o.topic_opt->count() > 0 && o.topic.empty()) {
    return Error::usage("--topic: must not be empty");
  }
  if (o.body_opt->count() > 0 && o.body.empty()) return Error::usage("--body: must not be empty");
  auto to = parse_recipients(o.to, "--to");
  if (!to) return std::move(to).error();
  auto cc = parse_recipients(o.cc, "--cc");
  if (!cc) return std::move(cc).error();
  auto participants = parse_recipients(o.participants, "--participant");
  if (!participants) return std::move(participants).error();

  ThreadRequest t;
  if (!o.input.empty()) {
    const std::string source = o.input == "-" ? "--input - (stdin)" : "--input " + o.input;
    if (o.input == "-" && io.in_is_tty && io.err_is_tty) {
      io.err << "Reading a JSON thread from the terminal; end with Ctrl-D.\n";
    }
    Result<std::string> text = o.input == "-" ? read_stream(io.in, source, kMaxInputBytes)
                                              : env.read_file(o.input, "--input", kMaxInputBytes);
    if (!text) return std::move(text).error();
    auto decoded = decode_thread_request(*text, source);
    if (!decoded) return std::move(decoded).error();
    t = std::move(decoded->request);
    if (!decoded->dropped.empty()) {
      std::string list;
      for (const auto& p : decoded->dropped) list += (list.empty() ? "" : ", ") + p;
      warnings.push_back("ignoring properties of " + source +
                         " that Graph computes itself: " + list);
    }
  }

  if (o.topic_opt->count() > 0) t.topic = o.topic;
  if (o.body_opt->count() > 0) first_body(t).content = o.body;
  if (!o.body_file.empty()) {
    const std::string what = "--body-file " + o.body_file;
    Result<std::string> text = o.body_file == "-"
                                   ? read_stream(io.in, what, kMaxInputBytes)
                                   : env.read_file(o.body_file, "--body-file", kMaxInputBytes);
    if (!text) return std::move(text).error();
    if (text->empty()) return Error::usage(what + ": the file is empty");
    first_body(t).content = std::move(text).value();
  }
  if (o.content_type_opt->count() > 0) {
    first_body(t).content_type = o.content_type == "html" ? BodyType::kHtml : BodyType::kText;
  }
  if (!o.to.empty()) t.to_recipients = std::move(to).value();
  if (!o.cc.empty()) t.cc_recipients = std::move(cc).value();
  if (!o.participants.empty()) first_post(t).new_participants = std::move(participants).value();
  // The documented default: a body without a content type is text.
  if (t.posts && !t.posts->empty() && t.posts->front().body &&
      !t.posts->front().body->content_type) {
    t.posts->front().body->content_type = BodyType::kText;
  }

  const auto issues = validate_thread_request(t);
  if (!issues.empty()) {
    if (issues.size() == 1) {
      return Error::usage(issues.front().path + ": " + issues.front().message);
    }
    return Error::usage("the thread is not valid:\n" + format_issues(issues));
  }
  return t;
}

int run_create(const CreateOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps) {
  if (o.input == "-" && globals.token_file == "-") {
    return fail(io, Error::usage("--input - and --token-file - both read stdin; only one can"));
  }
  if (o.body_file == "-" && globals.token_file == "-") {
    return fail(io, Error::usage("--body-file - and --token-file - both read stdin; only one can"));
  }
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  std::vector<std::string> warnings;
  auto thread = build_thread_request(o, env, io, warnings);
  if (!thread) return fail(io, thread.error());
  for (const auto& w : warnings) warn(io, w);
  warn_if_not_guid(io, "--group", o.group);

  if (session->settings().dry_run) {
    // No transport is built and nobody signs in: --dry-run works offline and without a token.
    std::string warning;
    const std::string bearer = session->dry_run_bearer(warning);
    io.out << describe_request(create_thread_request(session->client_options(), o.group, *thread,
                                                     bearer, deps.new_request_id()));
    if (!warning.empty()) warn(io, warning);
    return 0;
  }

  auto token = session->token("create a thread", TokenUse::kDelegatedOnly);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  auto created = (*client)->create_thread(o.group, *thread, *token);
  if (!created) return fail(io, created.error());
  if (created->id.empty()) {
    warn(io, "Graph reported success but the response carried no thread id");
  }
  write_thread(io.out, *created, session->settings().output, session->settings().format);
  io.out.flush();
  return 0;
}

}  // namespace gt::app
