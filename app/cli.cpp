#include "app/cli.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/create_command.hpp"
#include "app/global_options.hpp"
#include "gt/format.hpp"

namespace gt::app {

namespace {

constexpr const char* kFooter =
    "Environment:\n"
    "  GRAPH_TOKEN       access token (when --token/--token-file are not given)\n"
    "  GRAPH_REFRESH_TOKEN, AZURE_USERNAME/AZURE_PASSWORD, AZURE_CLIENT_SECRET,\n"
    "  AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE (+ AZURE_TENANT_ID,\n"
    "  AZURE_CLIENT_ID)   other token sources, in this order; then `auth login`, then az\n"
    "  AZURE_AUTHORITY_HOST  login host (default per --cloud)\n"
    "  GRAPH_THREADS_CONFIG_DIR  where the token cache lives (~/.config/graph-threads)\n"
    "  GRAPH_BASE_URL    Graph root URL (when --base-url/--cloud are not given)\n"
    "  GRAPH_THREADS_DEBUG  1: as --debug (every HTTP exchange on stderr, secrets redacted)\n"
    "  SSL_CERT_FILE     trust store file (OpenSSL; replaces the system default)\n"
    "  SSL_CERT_DIR      trust store directory (OpenSSL; replaces the system default)\n"
    "  NO_COLOR          no colour (wins); CLICOLOR_FORCE=1 colour even when piped\n"
    "  HTTPS_PROXY, ALL_PROXY, NO_PROXY (or lower case), http_proxy\n"
    "                    HTTP proxy, as curl reads them (see --proxy, --no-proxy)\n"
    "\n"
    "Exit codes:\n"
    "  0    success (thread created, shown, replied to, locked, unlocked or deleted)\n"
    "  1    Microsoft Graph returned an error (after retries; a thread's 404 after ~5 s)\n"
    "  2    usage or input error, or delete not confirmed; nothing was sent\n"
    "  3    no token, 401 or 403, or a token that cannot do this (expired; app-only for\n"
    "       create and reply)\n"
    "  4    network or TLS failure before the request was written; nothing was created\n"
    "  5    outcome unknown: a create or reply was sent but no complete response came back;\n"
    "       the thread or reply may exist (never retried automatically)\n"
    "  130  interrupted\n"
    "\n"
    "Run 'graph-threads COMMAND --help' for a command's flags.";

// CLI11 builds its own messages; prefix them like every other error and point at help.
int usage_error(Io& io, const std::string& message, const std::string& help_for) {
  io.err << paint(std::string(kProgram) + ":", "1;31", io.err_color) << ' ' << message << '\n'
         << "Run '" << kProgram << (help_for.empty() ? "" : " " + help_for)
         << " --help' for usage.\n";
  return exit_code(ErrorKind::kUsage);
}

// The innermost subcommand that was parsed ("auth login"), and the command path before it, for
// help and usage messages.
std::pair<const CLI::App*, std::string> deepest_parsed(const CLI::App& app) {
  const CLI::App* found = nullptr;
  std::string prefix = kProgram;
  const CLI::App* at = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : at->get_subcommands()) {
      if (sub->parsed()) {
        if (found) prefix += " " + found->get_name();
        found = sub;
        at = sub;
        deeper = true;
        break;
      }
    }
  }
  return {found, prefix};
}

}  // namespace

CommandLine::CommandLine()
    : app(std::make_unique<CLI::App>(
          "Post to Microsoft 365 group conversations through Microsoft Graph.", kProgram)) {
  app->set_version_flag("--version", std::string(kProgram) + " " + GT_VERSION);
  app->footer(kFooter);
  app->require_subcommand(0, 1);
  // Global flags are accepted before or after the subcommand name.
  app->fallthrough();
  app->get_formatter()->column_width(34);
  add_global_options(*app, globals);
  create_cmd = setup_create(*app, create);
  list_cmd = setup_list(*app, list);
  get_cmd = setup_get(*app, get);
  reply_cmd = setup_reply(*app, reply);
  lock_cmd = setup_lock(*app, lock, true);
  unlock_cmd = setup_lock(*app, unlock, false);
  delete_cmd = setup_delete(*app, del);
  auth_cmd = setup_auth(*app, auth);
  doctor_cmd = setup_doctor(*app, doctor);
}

CommandLine::~CommandLine() = default;

std::optional<int> parse_command_line(CommandLine& cl, const std::vector<std::string>& args,
                                      Io& io) {
  if (args.empty()) {
    io.out << cl.app->help();
    return 0;
  }
  // CLI11 consumes a vector from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    cl.app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    const auto [sub, prefix] = deepest_parsed(*cl.app);
    io.out << (sub ? sub->help(prefix) : cl.app->help());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    io.out << cl.app->help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    io.out << kProgram << ' ' << GT_VERSION << '\n';
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 100-127 for parse errors; the contract is 2 for every usage error.
    const auto [sub, prefix] = deepest_parsed(*cl.app);
    std::string path = sub ? prefix + " " + sub->get_name() : "";
    if (path.starts_with(std::string(kProgram) + " "))
      path.erase(0, std::string(kProgram).size() + 1);
    return usage_error(io, e.what(), path);
  }
  const bool any = cl.create_cmd->parsed() || cl.list_cmd->parsed() || cl.auth_cmd->parsed() ||
                   cl.get_cmd->parsed() || cl.reply_cmd->parsed() || cl.lock_cmd->parsed() ||
                   cl.unlock_cmd->parsed() || cl.delete_cmd->parsed() || cl.doctor_cmd->parsed();
  if (!any) {
    return usage_error(
        io,
        "a command is required (create, list, get, reply, lock, unlock, delete, auth or doctor)",
        "");
  }
  return std::nullopt;
}

int run(const std::vector<std::string>& args, Io& io, const Env& env, Deps& deps) {
  io.out_color = color_wanted(io.out_is_tty, env);
  io.err_color = color_wanted(io.err_is_tty, env);
  CommandLine cl;
  if (auto code = parse_command_line(cl, args, io)) return *code;
  if (cl.list_cmd->parsed()) return run_list(cl.list, cl.globals, io, env, deps);
  if (cl.auth_cmd->parsed()) return run_auth(cl.auth, cl.globals, io, env, deps);
  if (cl.get_cmd->parsed()) return run_get(cl.get, cl.globals, io, env, deps);
  if (cl.reply_cmd->parsed()) return run_reply(cl.reply, cl.globals, io, env, deps);
  if (cl.lock_cmd->parsed()) return run_lock(cl.lock, true, cl.globals, io, env, deps);
  if (cl.unlock_cmd->parsed()) return run_lock(cl.unlock, false, cl.globals, io, env, deps);
  if (cl.delete_cmd->parsed()) return run_delete(cl.del, cl.globals, io, env, deps);
  if (cl.doctor_cmd->parsed()) return run_doctor(cl.doctor, cl.globals, io, env, deps);
  return run_create(cl.create, cl.globals, io, env, deps);
}

}  // namespace gt::app
