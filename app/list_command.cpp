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
      "  --api-version, --cacert, --timeout, --retries, -o/--output, --jq, --dry-run,\n"
      "  -v/--verbose\n"
      "\n"
      "Examples:\n"
      "  graph-threads list --group $GID\n"
      "  graph-threads list --group $GID --all -o id\n"
      "  graph-threads list --group $GID --top 50 -o json | jq '.[].topic'\n"
      "  graph-threads list --group $GID --all -o ndjson --jq .topic\n"
      "  graph-threads list --group $GID --select id,topic,toRecipients -o tsv");
  cmd->add_option("--group", o.group, "Id of the Microsoft 365 group (a GUID)")
      ->type_name("ID")
      ->required();
  cmd->add_option("--top", o.top, "Threads per page (Graph's $top), 1-999")
      ->type_name("N")
      ->check(CLI::Range(1, 999).description(""));
  cmd->add_flag("--all", o.all, "Follow @odata.nextLink through every page");
  cmd->add_option("--select", o.select,
                  "Properties to fetch ($select) and show as table/tsv columns, e.g. "
                  "id,topic,toRecipients")
      ->type_name("PROPS");
  return cmd;
}

int run_list(const ListOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps) {
  if (o.group.empty()) return fail(io, Error::usage("--group: must not be empty"));
  ListQuery query;
  if (o.top > 0) query.top = o.top;
  if (!o.select.empty()) {
    auto select = parse_thread_select(o.select);
    if (!select) return fail(io, select.error());
    query.select = std::move(select).value();
  }
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  warn_if_not_guid(io, "--group", o.group);

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

  const Settings& settings = session->settings();
  FormatOptions format = settings.format;
  format.columns = query.select;
  ThreadListWriter writer(io.out, settings.output, format);
  // --jq: over the whole array at the end (like gh), or with -o ndjson over each thread as it
  // arrives, so that a long --all listing streams.
  const bool jq_per_thread = settings.jq && settings.output == OutputFormat::kNdjson;
  std::string jq_array;
  auto add = [&](const std::vector<CreatedThread>& threads) -> Status {
    if (!settings.jq) {
      writer.add(threads);
      return ok_status();
    }
    for (const CreatedThread& t : threads) {
      if (jq_per_thread) {
        if (auto st = print_jq(settings, io, t.raw_json); !st) return st;
      } else {
        jq_array += (jq_array.empty() ? "[" : ",") + t.raw_json;
      }
    }
    return ok_status();
  };
  auto finish = [&]() -> Status {
    if (!settings.jq) {
      writer.finish();
      return ok_status();
    }
    if (jq_per_thread) return ok_status();
    return print_jq(settings, io, jq_array.empty() ? "[]" : jq_array + "]");
  };
  std::string next_link;
  for (int page = 1;; ++page) {
    auto result = (*client)->list_threads(o.group, query, next_link, *token);
    if (!result) {
      Error e = std::move(result).error();
      if (page > 1) {
        // What was printed stays printed (and a JSON array is closed, so it still parses); the
        // error says where the listing stopped.
        (void)finish();
        e.message += " (page " + std::to_string(page) + "; earlier pages were printed)";
      }
      return fail(io, e);
    }
    if (auto st = add(result->threads); !st) return fail(io, st.error());
    next_link = std::move(result->next_link);
    if (next_link.empty()) break;
    if (!o.all) {
      if (io.err_is_tty) io.err << "More threads exist; add --all to list every page.\n";
      break;
    }
  }
  if (auto st = finish(); !st) return fail(io, st.error());
  return 0;
}

}  // namespace gt::app
