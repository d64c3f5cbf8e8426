#include "app/session.hpp"

#include "app/cli.hpp"
#include "gt/format.hpp"
#include "gt/http_log.hpp"
#include "gt/token_cache.hpp"
#include "gt/uuid.hpp"

namespace gt::app {

void warn(Io& io, std::string_view message) {
  io.err << kProgram << ": " << paint("warning:", "1;33", io.err_color) << ' ' << message << '\n';
}

void warn_if_not_guid(Io& io, std::string_view flag, const std::string& id) {
  if (looks_like_guid(id)) return;
  warn(io, std::string(flag) + " \"" + id +
               "\" is not a GUID; Microsoft 365 group ids look like "
               "02bd9fd6-8f93-4758-87c3-1fb73740a315");
}

Status print_jq(const Settings& settings, Io& io, std::string_view json) {
  return settings.jq->run(json, io.out,
                          {.indent = settings.format.pretty_json, .color = settings.format.color});
}

Status print_thread(const Settings& settings, Io& io, const CreatedThread& thread) {
  if (settings.jq) return print_jq(settings, io, thread.raw_json);
  write_thread(io.out, thread, settings.output, settings.format);
  io.out.flush();
  return ok_status();
}

Status print_action(const Settings& settings, Io& io, const ActionResult& result) {
  if (settings.jq) return print_jq(settings, io, action_json(result));
  if (!settings.output_given) return ok_status();
  write_action(io.out, result, settings.output, settings.format);
  io.out.flush();
  return ok_status();
}

int fail(Io& io, const Error& error) {
  write_error(io.err, kProgram, error, io.err_color);
  return exit_code(error.kind);
}

std::int64_t epoch_now(Deps& deps) {
  return std::chrono::duration_cast<std::chrono::seconds>(deps.clock.wall_now().time_since_epoch())
      .count();
}

std::string in_how_long(std::int64_t seconds) {
  if (seconds <= 0) return "expired " + std::to_string(-seconds / 60) + " minutes ago";
  if (seconds < 120) return "in " + std::to_string(seconds) + " seconds";
  if (seconds < 7200) return "in " + std::to_string(seconds / 60) + " minutes";
  return "in " + std::to_string(seconds / 3600) + " hours";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

namespace {

std::optional<std::string> non_empty(const Env& env, std::string_view name) {
  auto v = env.get(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

Session::Session(Io& io, Deps& deps) : io_(&io), deps_(&deps) {}
Session::Session(Session&&) noexcept = default;
Session::~Session() = default;

Result<Session> Session::open(const GlobalOptions& globals, const Env& env, Io& io, Deps& deps) {
  const auto start = deps.clock.now();
  Session s(io, deps);
  auto settings = resolve_settings(globals, env, io);
  if (!settings) return std::move(settings).error();
  s.settings_ = std::move(settings).value();
  auto token = resolve_token(globals, env, io);
  if (!token) return std::move(token).error();

  s.client_ = GraphClientOptions{
      .base = s.settings_.base,
      .api_version = s.settings_.api_version,
      .retry = RetryPolicy{.max_retries = s.settings_.retries},
      .deadline = start + s.settings_.timeout,
      .user_agent = std::string(kProgram) + "/" + GT_VERSION,
  };

  ChainConfig& c = s.chain_config_;
  c.explicit_token = std::move(token).value();
  c.cloud = s.settings_.cloud;
  auto authority = authority_host(c.cloud, non_empty(env, "AZURE_AUTHORITY_HOST"));
  if (!authority) return std::move(authority).error();
  c.authority = std::move(authority).value();
  if (auto usable = check_proxy(s.settings_.proxy, c.authority.scheme); !usable) {
    return std::move(usable).error();
  }
  c.refresh_token = non_empty(env, "GRAPH_REFRESH_TOKEN");
  c.tenant_id = non_empty(env, "AZURE_TENANT_ID");
  c.client_id = non_empty(env, "AZURE_CLIENT_ID");
  c.username = non_empty(env, "AZURE_USERNAME");
  c.password = non_empty(env, "AZURE_PASSWORD");
  c.client_secret = non_empty(env, "AZURE_CLIENT_SECRET");
  c.certificate_path = non_empty(env, "AZURE_CLIENT_CERTIFICATE_PATH");
  c.federated_token_file = non_empty(env, "AZURE_FEDERATED_TOKEN_FILE");
  if (auto alg = non_empty(env, "GRAPH_THREADS_ASSERTION_ALG")) {
    if (*alg == "RS256") {
      c.assertion_alg = AssertionAlg::kRs256;
    } else if (*alg == "PS256") {
      c.assertion_alg = AssertionAlg::kPs256;
    } else {
      return Error::usage("GRAPH_THREADS_ASSERTION_ALG \"" + *alg +
                          "\": expected RS256 (x5t) or PS256 (x5t#S256)");
    }
  }
  c.cache_dir = TokenCache::default_dir([&env](std::string_view n) { return env.get(n); });
  c.oauth = s.oauth_options();

  if (s.settings_.verbose) {
    s.verbose_ = &io.err;
    *s.verbose_ << "* Graph root " << s.settings_.base.origin() << s.settings_.base.path_prefix
                << " (from " << s.settings_.base_source << "), API " << s.settings_.api_version
                << '\n';
    // The route each host takes; proxy credentials are shown as ***.
    const auto route = [&](const BaseUrl& url, std::string_view what) {
      const auto proxy = choose_proxy(url.scheme, url.host, url.port, s.settings_.proxy);
      *s.verbose_ << "* " << what << ' ' << url.origin()
                  << (proxy ? " via proxy " + proxy->display() + " (from " + proxy->source + ")"
                            : std::string(" direct"))
                  << '\n';
    };
    if (s.settings_.proxy.https.proxy || s.settings_.proxy.http.proxy) {
      route(s.settings_.base, "Graph");
      if (c.authority.origin() != s.settings_.base.origin()) route(c.authority, "login host");
    }
  }
  s.env_ = &env;
  return s;
}

OAuthOptions Session::oauth_options() const {
  OAuthOptions o;
  o.authority = chain_config_.authority;
  o.retry = RetryPolicy{.max_retries = settings_.retries};
  o.request_timeout = std::chrono::duration_cast<std::chrono::seconds>(settings_.timeout);
  if (o.request_timeout.count() < 1) o.request_timeout = std::chrono::seconds(1);
  o.user_agent = std::string(kProgram) + "/" + GT_VERSION;
  return o;
}

TokenChain& Session::chain() {
  if (!chain_) {
    // The chain calls back into this session for the transport; a Session is only moved before
    // its first use, so `this` is stable from here on.
    chain_ = std::make_unique<TokenChain>(
        chain_config_, ChainDeps{.clock = deps_->clock,
                                 .transport = [this] { return transport(); },
                                 .new_request_id = deps_->new_request_id,
                                 .jitter = deps_->jitter,
                                 .verbose = verbose_,
                                 .read_file = [this](const std::string& path,
                                                     std::string_view what) -> Result<std::string> {
                                   return env_->read_file(path, what, 1024 * 1024);
                                 },
                                 .run_command = deps_->run_command});
  }
  return *chain_;
}

std::string Session::dry_run_bearer(std::string& warning) {
  if (chain_config_.explicit_token) return chain_config_.explicit_token->value;
  if (const auto source = chain().configured())
    return std::string("from ") + source_kind_name(*source);
  warning = "no token configured; a real run would stop with exit code 3";
  return "";
}

Result<AccessToken> Session::token(std::string_view operation, TokenUse use) {
  auto got = chain().token(operation, use);
  if (!got) return std::move(got).error();
  if (verbose_) {
    *verbose_ << "* token: " << source_kind_name(got->kind) << " (" << got->token.source << "), "
              << got->detail << '\n';
  }
  if (auto st = check_token(got->token, operation, use, epoch_now(*deps_)); !st) {
    return std::move(st).error();
  }
  for (const auto& w : token_warnings(got->token)) warn(*io_, w);
  return got->token;
}

Result<Transport*> Session::transport() {
  if (!transport_) {
    auto t = deps_->make_transport(
        TransportConfig{.cacert_file = settings_.cacert, .proxy = settings_.proxy});
    if (!t) return std::move(t).error();
    transport_ = std::move(t).value();
    // --debug: every exchange, Graph's and the login host's alike, goes through this transport.
    if (settings_.debug)
      transport_ = std::make_unique<DebugTransport>(std::move(transport_), io_->err);
  }
  return transport_.get();
}

Result<GraphClient*> Session::client() {
  if (!client_instance_) {
    auto t = transport();
    if (!t) return std::move(t).error();
    client_instance_ =
        std::make_unique<GraphClient>(GraphClient::Deps{.transport = **t,
                                                        .clock = deps_->clock,
                                                        .new_request_id = deps_->new_request_id,
                                                        .jitter = deps_->jitter,
                                                        .verbose = verbose_},
                                      client_);
  }
  return client_instance_.get();
}

}  // namespace gt::app
