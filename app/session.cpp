#include "app/session.hpp"

#include "app/cli.hpp"
#include "gt/format.hpp"
#include "gt/uuid.hpp"

namespace gt::app {

void warn(Io& io, std::string_view message) {
  io.err << kProgram << ": warning: " << message << '\n';
}

void warn_if_not_guid(Io& io, std::string_view flag, const std::string& id) {
  if (looks_like_guid(id)) return;
  warn(io, std::string(flag) + " \"" + id +
               "\" is not a GUID; Microsoft 365 group ids look like "
               "02bd9fd6-8f93-4758-87c3-1fb73740a315");
}

int fail(Io& io, const Error& error) {
  write_error(io.err, kProgram, error);
  return exit_code(error.kind);
}

Result<Session> open_session(const GlobalOptions& globals, const Env& env, Io& io, Deps& deps) {
  const auto start = deps.clock.now();
  auto settings = resolve_settings(globals, env, io);
  if (!settings) return std::move(settings).error();
  auto token = resolve_token(globals, env, io);
  if (!token) return std::move(token).error();
  Session s{.settings = std::move(settings).value(), .token = std::move(token).value()};
  s.client = GraphClientOptions{
      .base = s.settings.base,
      .api_version = s.settings.api_version,
      .retry = RetryPolicy{.max_retries = s.settings.retries},
      .deadline = start + s.settings.timeout,
      .user_agent = std::string(kProgram) + "/" + GT_VERSION,
  };
  if (s.settings.verbose) {
    s.verbose = &io.err;
    *s.verbose << "* Graph root " << s.settings.base.origin() << s.settings.base.path_prefix
               << " (from " << s.settings.base_source << "), API " << s.settings.api_version
               << '\n';
    *s.verbose << "* token: " << (s.token ? "from " + s.token->source : std::string("none"))
               << '\n';
  }
  return s;
}

Result<AccessToken> checked_token(const Session& session, std::string_view operation, TokenUse use,
                                  Io& io, Deps& deps) {
  if (!session.token) return StaticTokenSource(std::nullopt).token().error();
  const auto now_epoch =
      std::chrono::duration_cast<std::chrono::seconds>(deps.clock.wall_now().time_since_epoch())
          .count();
  if (auto st = check_token(*session.token, operation, use, now_epoch); !st) {
    return std::move(st).error();
  }
  for (const auto& w : token_warnings(*session.token)) warn(io, w);
  return *session.token;
}

Result<Connection> connect(const Session& session, Deps& deps) {
  auto transport = deps.make_transport(TransportConfig{.cacert_file = session.settings.cacert});
  if (!transport) return std::move(transport).error();
  Connection c;
  c.transport = std::move(transport).value();
  c.client = std::make_unique<GraphClient>(GraphClient::Deps{.transport = *c.transport,
                                                             .clock = deps.clock,
                                                             .new_request_id = deps.new_request_id,
                                                             .jitter = deps.jitter,
                                                             .verbose = session.verbose},
                                           session.client);
  return c;
}

}  // namespace gt::app
