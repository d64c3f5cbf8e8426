// app/session: what every command that talks to Microsoft Graph or the login host needs, resolved
// once from the global flags and the environment: settings, the token chain, client options with
// the command's deadline, the verbose log, and one lazily built transport shared by the Graph
// client and the sign-in requests. --help, usage errors and --dry-run never build a transport.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"
#include "gt/auth.hpp"
#include "gt/graph_client.hpp"
#include "gt/oauth.hpp"
#include "gt/token_chain.hpp"

namespace gt::app {

class Session {
 public:
  // Resolves settings, the explicit token and the sign-in environment (AZURE_*,
  // GRAPH_REFRESH_TOKEN, AZURE_AUTHORITY_HOST, the cache directory); the deadline counts from now.
  // With -v, logs where the Graph root came from. Fails (kUsage) on bad flags, variables or token
  // files.
  static Result<Session> open(const GlobalOptions& globals, const Env& env, Io& io, Deps& deps);

  Session(Session&&) noexcept;
  ~Session();

  const Settings& settings() const { return settings_; }
  const GraphClientOptions& client_options() const { return client_; }
  std::ostream* verbose() const { return verbose_; }
  TokenChain& chain();
  const ChainConfig& chain_config() const { return chain_config_; }
  // The login host and the OAuth options sign-in commands use.
  OAuthOptions oauth_options() const;

  // What --dry-run puts in the Authorization header, without signing in: the explicit token
  // (redacted when printed), a placeholder when another source is configured, "" when none is
  // (then `warning` says that a real run would stop with exit code 3).
  std::string dry_run_bearer(std::string& warning);

  // A token for `operation`, from the chain, checked before anything is sent (gt::check_token):
  // none, expired, or app-only where Graph needs a user -> kAuth. With -v, says which source was
  // used. Prints token_warnings() on stderr.
  Result<AccessToken> token(std::string_view operation, TokenUse use);

  // The transport (built on first use) and a Graph client on it.
  Result<Transport*> transport();
  Result<GraphClient*> client();

 private:
  Session(Io& io, Deps& deps);

  Io* io_;
  Deps* deps_;
  const Env* env_ = nullptr;
  Settings settings_;
  GraphClientOptions client_;
  ChainConfig chain_config_;
  std::ostream* verbose_ = nullptr;
  std::unique_ptr<TokenChain> chain_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<GraphClient> client_instance_;
};

// Printing results on stdout, as -o and --jq say. Each returns the --jq run's status (a jq
// runtime error is kUsage); without --jq it cannot fail.
//
// --jq over one JSON document: indented and coloured as stdout is (gh's --jq behaviour), strings
// raw. REQUIRES settings.jq.
Status print_jq(const Settings& settings, Io& io, std::string_view json);
// A thread: --jq over Graph's object as received, else write_thread in settings.output.
Status print_thread(const Settings& settings, Io& io, const CreatedThread& thread);
// What reply, lock, unlock and delete did: nothing unless -o or --jq was given (their stdout is
// empty by default); -o id prints the thread id so that commands chain.
Status print_action(const Settings& settings, Io& io, const ActionResult& result);

// "graph-threads: warning: <message>" on stderr.
void warn(Io& io, std::string_view message);
// Warns when `id` (given with `flag`) is not a GUID, as Microsoft 365 group ids are; it is still
// sent, percent-encoded, because Graph is the judge.
void warn_if_not_guid(Io& io, std::string_view flag, const std::string& id);
// Prints `error` on stderr and returns its exit code.
int fail(Io& io, const Error& error);

// Seconds since the epoch by deps.clock's wall time (token expiry checks).
std::int64_t epoch_now(Deps& deps);
// "in 5 minutes", "in 2 hours", "expired 3 minutes ago" for a time `seconds` from now.
std::string in_how_long(std::int64_t seconds);
// The strings joined with `sep` between them.
std::string join(const std::vector<std::string>& v, std::string_view sep = " ");

}  // namespace gt::app
