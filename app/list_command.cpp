#include "app/list_command.hpp"

#include <CLI/CLI.hpp>

#include "app/session.hpp"
#include "gt/format.hpp"

namespace gt::app {

CLI::App* setup_list(CLI::App& app, ListOptions& o) {
  CLI::App* cmd = app.add_subcommand("list", "List a group's conversation threads, newest first");
  cmd->fallthrough();
  cmd->footer(
      "Global flags (see graph-threads --help): --token, --token-file, --base-url, --cloud,\n"
      "  --api-version, --cacert, --timeout, --retries, -o/--output, --dry-run, -v/--verbose\n"
      "\n"
      "Examples:\n"
      "  graph-threads list --group $GID\n"
      "  graph-threads list --group $GID --all -o id\n"
      "  graph-threads list --group $GID --top 50 -o json | jq '.[].topic'");
  cmd->add_option("--group", o.group, "Id of the Microsoft 365 group (a GUID)")
      ->type_name("ID")
      ->required();
  cmd->add_option("--top", o.top, "Threads per page (Graph's $top), 1-999")
      ->type_name("N")
      ->check(CLI::Range(1, 999).description(""));
  cmd->add_flag("--all", o.all, "Follow @odata.nextLink through every page");
  return cmd;
}

int run_list(const ListOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps) {
  if (o.group.empty()) return fail(io, Error::usage("--group: must not be empty"));
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  warn_if_not_guid(io, "--group", o.group);
  ListQuery query;
  if (o.top > 0) query.top = o.top;

  if (session->settings().dry_run) {
    std::string warning;
    const std::string bearer = session->dry_run_bearer(warning);
    io.out << describe_request(list_threads_request(session->client_options(), o.group, query,
                                                    bearer, deps.new_request_id()));
    if (!warning.empty()) warn(io, warning);
    return 0;
  }

  auto token = session->token("list threads", TokenUse::kDelegatedOrApp);
  if (!token) return fail(io, token.error());
  auto client = session->client();
  if (!client) return fail(io, client.error());

  ThreadListWriter writer(io.out, session->settings().output, session->settings().format);
  std::string next_link;
  for (int page = 1;; ++page) {
    auto result = (*client)->list_threads(o.group, query, next_link, *token);
    if (!result) {
      Error e = std::move(result).error();
      if (page > 1) {
        // What was printed stays printed (and a JSON array is closed, so it still parses); the
        // error says where the listing stopped.
        writer.finish();
        e.message += " (page " + std::to_string(page) + "; earlier pages were printed)";
      }
      return fail(io, e);
    }
    writer.add(result->threads);
    next_link = std::move(result->next_link);
    if (next_link.empty()) break;
    if (!o.all) {
      if (io.err_is_tty) io.err << "More threads exist; add --all to list every page.\n";
      break;
    }
  }
  writer.finish();
  return 0;
}

}  // namespace gt::app
