#include "app/thread_commands.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <istream>
#include <ostream>

#include "app/session.hpp"
#include "app/validators.hpp"
#include "gt/format.hpp"
#include "gt/graph_client.hpp"

namespace gt::app {

namespace {

constexpr const char* kGlobalFlags =
    "Global flags (see graph-threads --help): --token, --token-file, --base-url, --cloud,\n"
    "  --api-version, --cacert, --timeout, --retries, -o/--output, --jq, --dry-run,\n"
    "  -v/--verbose\n";

// --group and THREAD_ID, the same on every thread command.
void add_target(CLI::App& cmd, std::string& group, std::string& thread) {
  cmd.add_option("--group", group, "Id of the Microsoft 365 group (a GUID)")
      ->type_name("ID")
      ->required();
  cmd.add_option("THREAD_ID", thread, "Id of the thread (as list or create print it)")
      ->type_name("")
      ->required();
}

Status check_target(Io& io, const std::string& group, const std::string& thread) {
  if (group.empty()) return Error::usage("--group: must not be empty");
  if (thread.empty()) return Error::usage("THREAD_ID: must not be empty");
  warn_if_not_guid(io, "--group", group);
  return ok_status();
}

// --dry-run: the request as it would be sent, without a transport or a sign-in.
template <class Build>
int print_dry_run(Session& session, Io& io, Build build) {
  std::string warning;
  const std::string bearer = session.dry_run_bearer(warning);
  io.out << describe_request(build(bearer));
  if (!warning.empty()) warn(io, warning);
  return 0;
}

// A --jq failure after the request succeeded: say so, so that nobody sends it again.
Error done_anyway(Error e, const std::string& what) {
  e.message += " (" + what + ")";
  return e;
}

// "done" notes go to stderr, and only for a person at a terminal.
void note(Io& io, const std::string& text) {
  if (io.err_is_tty) io.err << text << '\n';
}

}  // namespace

CLI::App* setup_get(CLI::App& app, GetOptions& o) {
  CLI::App* cmd = app.add_subcommand("get", "Show one conversation thread of a group");
  cmd->fallthrough();
  cmd->footer(std::string(kGlobalFlags) +
              "\n"
              "Examples:\n"
              "  graph-threads get --group $GID $TID\n"
              "  graph-threads get --group $GID $TID -o json | jq .isLocked");
  add_target(*cmd, o.group, o.thread);
  return cmd;
}

CLI::App* setup_reply(CLI::App& app, ReplyOptions& o) {
  CLI::App* cmd = app.add_subcommand("reply", "Reply to a conversation thread (adds a post)");
  cmd->fallthrough();
  cmd->footer(
      std::string(kGlobalFlags) +
      "\n"
      "A reply is never sent twice automatically. Nothing is printed on stdout unless\n"
      "-o or --jq asks.\n"
      "\n"
      "Examples:\n"
      "  graph-threads reply --group $GID $TID --body 'Done, thanks'\n"
      "  graph-threads reply --group $GID $TID --body-file answer.html --content-type html");
  add_target(*cmd, o.group, o.thread);
  o.body_opt = cmd->add_option("--body", o.body, "Text of the reply")->type_name("TEXT");
  auto* body_file =
      cmd->add_option("--body-file", o.body_file, "Read the reply's text from FILE (- for stdin)")
          ->type_name("FILE");
  o.body_opt->excludes(body_file);
  cmd->add_option("--content-type", o.content_type, "Body format: text or html (default text)")
      ->type_name("TYPE")
      ->check(one_of({"text", "html"}));
  return cmd;
}

CLI::App* setup_lock(CLI::App& app, LockOptions& o, bool lock) {
  CLI::App* cmd =
      app.add_subcommand(lock ? "lock" : "unlock",
                         lock ? "Lock a thread (no more replies)" : "Unlock a locked thread");
  cmd->fallthrough();
  cmd->footer(std::string(kGlobalFlags) +
              "\n"
              "Nothing is printed on stdout unless -o or --jq asks (-o id: the thread id).\n"
              "\n"
              "Example:\n"
              "  graph-threads " +
              (lock ? "lock" : "unlock") + " --group $GID $TID");
  add_target(*cmd, o.group, o.thread);
  return cmd;
}

CLI::App* setup_delete(CLI::App& app, DeleteOptions& o) {
  CLI::App* cmd = app.add_subcommand("delete", "Delete a conversation thread");
  cmd->fallthrough();
  cmd->footer(std::string(kGlobalFlags) +
              "\n"
              "Without --yes, asks for confirmation on a terminal and refuses otherwise.\n"
              "\n"
              "Examples:\n"
              "  graph-threads delete --group $GID $TID\n"
              "  graph-threads delete --group $GID $TID --yes");
  add_target(*cmd, o.group, o.thread);
  cmd->add_flag("-y,--yes", o.yes, "Do not ask for confirmation");
  return cmd;
}

int run_get(const GetOptions& o, const GlobalOptions& globals, Io& io, const Env& env, Deps& deps) {
  if (auto st = check_target(io, o.group, o.thread); !st) return fail(io, st.error());
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  if (session->settings().dry_run) {
    return print_dry_run(*session, io, [&](const std::string& bearer) {
      return get_thread_request(session->client_options(), o.group, o.thread, bearer,
                                deps.new_request_id());
    });
  }
  auto token = session->token("get a thread", TokenUse::kDelegatedOrApp);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  auto thread = (*client)->get_thread(o.group, o.thread, *token);
  if (!thread) return fail(io, thread.error());
  if (auto st = print_thread(session->settings(), io, *thread); !st) return fail(io, st.error());
  return 0;
}

int run_reply(const ReplyOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
              Deps& deps) {
  if (auto st = check_target(io, o.group, o.thread); !st) return fail(io, st.error());
  if (o.body_file == "-" && globals.token_file == "-") {
    return fail(io, Error::usage("--body-file - and --token-file - both read stdin; only one can"));
  }
  const bool body_given = o.body_opt && o.body_opt->count() > 0;
  if (!body_given && o.body_file.empty()) {
    return fail(io, Error::usage("the reply needs a body: --body TEXT or --body-file FILE|-"));
  }
  if (body_given && o.body.empty()) return fail(io, Error::usage("--body: must not be empty"));
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());

  ItemBody body;
  body.content_type = o.content_type == "html" ? BodyType::kHtml : BodyType::kText;
  if (body_given) {
    body.content = o.body;
  } else {
    Result<std::string> text = read_body_file(o.body_file, env, io);
    if (!text) return fail(io, text.error());
    body.content = std::move(text).value();
  }
  Post post;
  post.body = std::move(body);

  if (session->settings().dry_run) {
    return print_dry_run(*session, io, [&](const std::string& bearer) {
      return reply_request(session->client_options(), o.group, o.thread, post, bearer,
                           deps.new_request_id());
    });
  }
  // Graph accepts only delegated tokens for a reply, as for a create: refuse an app-only token
  // here rather than collect a 403.
  auto token = session->token("reply to a thread", TokenUse::kDelegatedOnly);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  if (auto st = (*client)->reply_to_thread(o.group, o.thread, post, *token); !st) {
    return fail(io, st.error());
  }
  // Graph answers 202 with no body: stdout says what was done only when -o or --jq asks.
  if (auto st = print_action(session->settings(), io, {o.thread, o.group, "replied", {}}); !st) {
    return fail(io, done_anyway(st.error(), "the reply was sent"));
  }
  note(io, "Replied to thread " + o.thread + ".");
  return 0;
}

int run_lock(const LockOptions& o, bool lock, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps) {
  if (auto st = check_target(io, o.group, o.thread); !st) return fail(io, st.error());
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  if (session->settings().dry_run) {
    return print_dry_run(*session, io, [&](const std::string& bearer) {
      return lock_thread_request(session->client_options(), o.group, o.thread, lock, bearer,
                                 deps.new_request_id());
    });
  }
  auto token =
      session->token(lock ? "lock a thread" : "unlock a thread", TokenUse::kDelegatedOrApp);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  if (auto st = (*client)->set_thread_locked(o.group, o.thread, lock, *token); !st) {
    return fail(io, st.error());
  }
  // Stdout stays empty unless -o or --jq asks; -o id prints the id so that
  // `id=$(graph-threads lock ... -o id)` chains.
  const ActionResult done{o.thread, o.group, lock ? "locked" : "unlocked", lock};
  if (auto st = print_action(session->settings(), io, done); !st) {
    return fail(io, done_anyway(st.error(), std::string("the thread was ") + done.action));
  }
  note(io, std::string(lock ? "Locked" : "Unlocked") + " thread " + o.thread + ".");
  return 0;
}

int run_delete(const DeleteOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps) {
  if (auto st = check_target(io, o.group, o.thread); !st) return fail(io, st.error());
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  if (session->settings().dry_run) {
    return print_dry_run(*session, io, [&](const std::string& bearer) {
      return delete_thread_request(session->client_options(), o.group, o.thread, bearer,
                                   deps.new_request_id());
    });
  }
  if (!o.yes) {
    // Ask only a person: a prompt needs a terminal to show it (stderr) and one to answer it
    // (stdin). A script that pipes into graph-threads must say --yes; it never deletes by default.
    if (!io.in_is_tty || !io.err_is_tty) {
      Error e = Error::usage("refusing to delete thread " + o.thread +
                             " without confirmation: not a terminal; pass --yes to delete");
      return fail(io, e);
    }
    io.err << "Delete thread " << o.thread << " in group " << o.group << "? [y/N] " << std::flush;
    std::string answer;
    std::getline(io.in, answer);
    while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
    while (!answer.empty() && answer.front() == ' ') answer.erase(0, 1);
    for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (answer != "y" && answer != "yes") {
      return fail(io, Error::usage("not deleted; nothing was sent"));
    }
  }
  auto token = session->token("delete a thread", TokenUse::kDelegatedOrApp);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());
  auto deleted = (*client)->delete_thread(o.group, o.thread, *token);
  if (!deleted) return fail(io, deleted.error());
  if (*deleted == GraphClient::Deleted::kAlreadyGoneAfterLostAnswer) {
    warn(io, "an earlier attempt's answer was lost and the retry found no thread " + o.thread +
                 ": taking it as deleted by that attempt");
  }
  if (auto st = print_action(session->settings(), io, {o.thread, o.group, "deleted", {}}); !st) {
    return fail(io, done_anyway(st.error(), "the thread was deleted"));
  }
  note(io, "Deleted thread " + o.thread + ".");
  return 0;
}

}  // namespace gt::app
