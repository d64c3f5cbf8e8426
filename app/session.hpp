// app/session: what every command that talks to Graph needs, resolved once from the global flags
// and the environment: settings, the token (if any), client options with the command's deadline,
// and the verbose log. Commands differ only in the request they build and how they print.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string_view>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"
#include "gt/auth.hpp"
#include "gt/graph_client.hpp"

namespace gt::app {

struct Session {
  Settings settings;
  std::optional<AccessToken> token;  // nullopt: none configured
  GraphClientOptions client;         // base URL, API version, retries, deadline, User-Agent
  std::ostream* verbose = nullptr;   // io.err with -v, else nullptr
};

// Resolves settings and token; the deadline counts from now. With -v, logs where the Graph root
// and the token came from. Fails (kUsage) on bad flags, variables or token files.
Result<Session> open_session(const GlobalOptions& globals, const Env& env, Io& io, Deps& deps);

// The token for `operation`, checked before anything is sent (gt::check_token): none configured,
// expired, or app-only where Graph needs a user -> kAuth. Prints token_warnings() on stderr.
Result<AccessToken> checked_token(const Session& session, std::string_view operation, TokenUse use,
                                  Io& io, Deps& deps);

// A connected client: the transport (built lazily here, never for --dry-run) and the client on it.
struct Connection {
  std::unique_ptr<Transport> transport;
  std::unique_ptr<GraphClient> client;
};
Result<Connection> connect(const Session& session, Deps& deps);

// "graph-threads: warning: <message>" on stderr.
void warn(Io& io, std::string_view message);
// Warns when `id` (given with `flag`) is not a GUID, as Microsoft 365 group and user ids are; it is
// still sent, percent-encoded, because Graph is the judge.
void warn_if_not_guid(Io& io, std::string_view flag, const std::string& id);
// Prints `error` on stderr and returns its exit code.
int fail(Io& io, const Error& error);

}  // namespace gt::app
