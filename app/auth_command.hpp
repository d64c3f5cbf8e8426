// app/auth_command: `graph-threads auth login|status|token|logout|export-refresh-token`.
//
//   login     device code flow: prints the URL and code on stderr, polls, caches the account
//   status    which source gives the token, and what the token says (claims, unverified)
//   token     prints a valid access token for other tools (refreshing it if needed)
//   logout    removes the cached account(s)
//   export-refresh-token
//             prints the cached refresh token, for a CI secret, with a warning of what it is
#pragma once

#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace gt::app {

struct AuthOptions {
  // login
  std::vector<std::string> scopes;  // --scope (repeatable, or space-separated); default: Graph's
                                    // Group-Conversation.ReadWrite.All + offline_access
  std::string tenant = "organizations";
  std::string client_id;  // "" = the default public client
  // logout
  bool all = false;  // remove the whole cache file

  CLI::App* login = nullptr;
  CLI::App* status = nullptr;
  CLI::App* token = nullptr;
  CLI::App* logout = nullptr;
  CLI::App* export_refresh_token = nullptr;
};

CLI::App* setup_auth(CLI::App& app, AuthOptions& options);

// Runs whichever auth subcommand was parsed. Returns the exit code.
int run_auth(const AuthOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps);

}  // namespace gt::app
