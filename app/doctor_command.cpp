#include "app/doctor_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <ostream>
#include <sstream>
#include <utility>
#include <vector>

#include "app/cli.hpp"
#include "app/session.hpp"
#include "gt/auth.hpp"
#include "gt/json_codec.hpp"
#include "gt/proxy.hpp"

namespace gt::app {

namespace {

using std::chrono::milliseconds;

enum class Verdict { kPass, kWarn, kFail, kSkip };

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kWarn:
      return "warn";
    case Verdict::kFail:
      return "fail";
    case Verdict::kSkip:
      return "skip";
  }
  return "";
}

// The checks, in the order they run.
constexpr std::array<const char*, 8> kChecks = {"config", "proxy", "dns",       "tcp",
                                                "tls",    "token", "graph /me", "group"};

struct Check {
  std::string name;
  Verdict verdict = Verdict::kSkip;
  std::optional<milliseconds> took;  // nullopt when the check did not run
  std::string summary;               // what was found, one line
  std::string problem;               // what went wrong (fail, warn); may be empty
  std::string hint;                  // what to do about it; may be empty
  // Details for -o json: key and an already encoded JSON value, in a fixed order.
  std::vector<std::pair<std::string, std::string>> details;
  int exit = 0;       // the exit code of a failure
  bool hard = false;  // a failure that stops the run

  void add(std::string key, const std::string& text) {
    details.emplace_back(std::move(key), json_quote(text));
  }
  void add(std::string key, const std::vector<std::string>& list) {
    std::string v = "[";
    for (std::size_t i = 0; i < list.size(); ++i) v += (i ? "," : "") + json_quote(list[i]);
    details.emplace_back(std::move(key), v + "]");
  }
  void add_null(std::string key) { details.emplace_back(std::move(key), "null"); }
  void add_number(std::string key, long long n) {
    details.emplace_back(std::move(key), std::to_string(n));
  }
  void fail(const Error& e, bool stops) {
    verdict = Verdict::kFail;
    problem = e.message;
    if (hint.empty()) hint = e.hint;
    exit = exit_code(e.kind);
    hard = stops;
  }
};

// Variables that change what graph-threads does; doctor names the ones that are set, never their
// values (several are secrets).
constexpr const char* kVariables[] = {
    "GRAPH_TOKEN",
    "GRAPH_REFRESH_TOKEN",
    "GRAPH_BASE_URL",
    "GRAPH_THREADS_CONFIG_DIR",
    "GRAPH_THREADS_DEBUG",
    "GRAPH_THREADS_ASSERTION_ALG",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "XDG_CONFIG_HOME",
    "HOME",
    "NO_COLOR",
};

// Variables whose values are secrets: scrubbed from the report should anything quote them.
constexpr const char* kSecretVariables[] = {"GRAPH_TOKEN", "GRAPH_REFRESH_TOKEN", "AZURE_PASSWORD",
                                            "AZURE_CLIENT_SECRET"};

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

class Doctor {
 public:
  Doctor(const DoctorOptions& o, const GlobalOptions& g, Io& io, const Env& env, Deps& deps)
      : o_(o), g_(g), io_(io), env_(env), deps_(deps) {}

  std::vector<Check> run() {
    std::vector<Check> out;
    bool stopped = false;
    std::string stopped_at;
    for (const char* name : kChecks) {
      if (stopped) {
        Check skipped{.name = name};
        skipped.summary = "skipped: " + stopped_at + " failed";
        out.push_back(std::move(skipped));
        continue;
      }
      const auto start = deps_.clock.now();
      Check c = run_one(name);
      c.name = name;
      if (!c.took && c.verdict != Verdict::kSkip) {
        c.took = std::chrono::duration_cast<milliseconds>(deps_.clock.now() - start);
      }
      if (c.verdict == Verdict::kFail && c.hard) {
        stopped = true;
        stopped_at = name;
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  // Everything the report must not contain: the token and the secret variables' values, the
  // proxies' passwords.
  std::vector<std::string> secrets() const {
    std::vector<std::string> s;
    if (!token_.value.empty()) s.push_back(token_.value);
    if (!g_.token.empty()) s.push_back(g_.token);
    for (const char* v : kSecretVariables) {
      if (auto value = env_.get(v); value && !value->empty()) s.push_back(*value);
    }
    for (const auto& p : {graph_proxy_, login_proxy_}) {
      if (p && !p->password.empty()) s.push_back(p->password);
      if (p && p->username) s.push_back(p->basic_authorization());
    }
    return s;
  }

 private:
  Check run_one(std::string_view name) {
    if (name == "config") return config();
    if (name == "proxy") return proxy();
    if (name == "dns") return dns();
    if (name == "tcp") return tcp();
    if (name == "tls") return tls();
    if (name == "token") return token();
    if (name == "graph /me") return me();
    return group();
  }

  Check config() {
    Check c;
    std::vector<std::string> flags;
    const auto given = [&](const std::string& v, const char* flag) {
      if (!v.empty()) flags.push_back(flag);
    };
    given(g_.token, "--token");
    given(g_.token_file, "--token-file");
    if (g_.base_url_opt && g_.base_url_opt->count() > 0) flags.push_back("--base-url");
    if (g_.cloud_opt && g_.cloud_opt->count() > 0) flags.push_back("--cloud");
    if (g_.api_version != "v1.0") flags.push_back("--api-version");
    given(g_.cacert, "--cacert");
    if (g_.debug) flags.push_back("--debug");
    std::vector<std::string> variables;
    for (const char* v : kVariables) {
      if (auto value = env_.get(v); value && !value->empty()) variables.push_back(v);
    }
    c.add("flags", flags);
    c.add("variables", variables);

    auto session = Session::open(g_, env_, io_, deps_);
    if (!session) {
      c.summary = "the flags or variables are not usable";
      c.fail(session.error(), true);
      return c;
    }
    session_.emplace(std::move(session).value());
    const Settings& s = session_->settings();
    const std::string root = s.base.origin() + s.base.path_prefix;
    const std::string login = session_->chain_config().authority.origin();
    const auto file = env_.get("SSL_CERT_FILE");
    const auto dir = env_.get("SSL_CERT_DIR");
    std::string trust = "system store";
    if (file && !file->empty()) trust = "SSL_CERT_FILE " + *file;
    if (dir && !dir->empty())
      trust += (file && !file->empty() ? ", SSL_CERT_DIR " : "SSL_CERT_DIR ") + *dir;
    if (!s.cacert.empty()) trust += " + --cacert " + s.cacert;
    c.summary = "Graph " + root + " (from " + s.base_source + "), API " + s.api_version +
                ", cloud " + cloud_name(s.cloud) + ", login " + login + "; trust: " + trust +
                "; flags: " + (flags.empty() ? "none" : join(flags, ", ")) +
                "; variables: " + (variables.empty() ? "none" : join(variables, ", "));
    c.add("graphRoot", root);
    c.add("graphRootSource", s.base_source);
    c.add("apiVersion", s.api_version);
    c.add("cloud", cloud_name(s.cloud));
    c.add("loginHost", login);
    s.cacert.empty() ? c.add_null("cacert") : c.add("cacert", s.cacert);
    file ? c.add("sslCertFile", *file) : c.add_null("sslCertFile");
    dir ? c.add("sslCertDir", *dir) : c.add_null("sslCertDir");
    const auto& cache = session_->chain_config().cache_dir;
    cache ? c.add("tokenCacheDir", *cache) : c.add_null("tokenCacheDir");
    // The trust store is read when the transport is built: an unusable --cacert fails here.
    if (auto t = session_->transport(); !t) {
      c.fail(t.error(), true);
      return c;
    }
    c.verdict = Verdict::kPass;
    if (s.base.scheme == "http") {
      c.verdict = Verdict::kWarn;
      c.problem =
          "the Graph root is plain http:// (allowed for loopback test servers only): no TLS";
    }
    return c;
  }

  Check proxy() {
    Check c;
    const Settings& s = session_->settings();
    const BaseUrl& login = session_->chain_config().authority;
    // Session::open already refused a configuration that is unusable for these schemes.
    graph_proxy_ = choose_proxy(s.base.scheme, s.base.host, s.base.port, s.proxy);
    login_proxy_ = choose_proxy(login.scheme, login.host, login.port, s.proxy);
    const auto describe = [](const std::optional<ProxyConfig>& p) {
      return p ? "via " + p->display() + " (" + p->source + ")" : std::string("direct");
    };
    c.summary = s.base.host + ": " + describe(graph_proxy_) + "; " + login.host + ": " +
                describe(login_proxy_);
    if (!s.proxy.no_proxy.empty()) {
      c.summary += "; " + s.proxy.no_proxy_source + "=" + s.proxy.no_proxy;
    }
    graph_proxy_ ? c.add("graph", graph_proxy_->display()) : c.add_null("graph");
    graph_proxy_ ? c.add("graphSource", graph_proxy_->source) : c.add_null("graphSource");
    login_proxy_ ? c.add("login", login_proxy_->display()) : c.add_null("login");
    login_proxy_ ? c.add("loginSource", login_proxy_->source) : c.add_null("loginSource");
    c.add("noProxy", s.proxy.no_proxy);
    c.verdict = Verdict::kPass;
    return c;
  }

  // Runs the probe once, for dns, tcp and tls to share.
  const Result<ConnectionProbe>& probe() {
    if (!probe_) {
      const Settings& s = session_->settings();
      // The transport's own proxy rules pick the route: through a proxy, DNS and TCP are the
      // proxy's and TLS runs inside its CONNECT tunnel.
      const ProbeRequest r{.host = s.base.host,
                           .port = s.base.port,
                           .tls = s.base.scheme == "https",
                           .timeout = s.timeout};
      target_ = host_port(r.host, r.port);
      if (!deps_.probe) {
        probe_.emplace(Error::network("connection checks are not available in this build"));
      } else {
        probe_.emplace(deps_.probe(TransportConfig{.cacert_file = s.cacert, .proxy = s.proxy}, r));
      }
    }
    return *probe_;
  }

  // A failure of the probe at the step being checked; `fallback_hint` when the error has none.
  void probe_failed(Check& c, const TransportError& e, const std::string& fallback_hint) {
    Error err(
        e.failure == TransportFailure::kInterrupted ? ErrorKind::kInterrupted : ErrorKind::kNetwork,
        e.message, e.hint.empty() ? fallback_hint : e.hint);
    c.fail(err, true);
    c.add("failure", failure_name(e.failure));
  }

  // What DNS and TCP reach: the origin, or the proxy.
  std::string what_target() const {
    return graph_proxy_ ? "the proxy " + host_port(graph_proxy_->host, graph_proxy_->port) + " (" +
                              graph_proxy_->source + ")"
                        : target_;
  }

  Check dns() {
    Check c;
    const auto& p = probe();
    if (!p) {
      c.fail(p.error(), true);
      return c;
    }
    c.took = p->resolve_time;
    c.add("host", graph_proxy_ ? graph_proxy_->host : session_->settings().base.host);
    c.add("addresses", p->addresses);
    if (p->addresses.empty()) {
      c.summary = "could not resolve " + what_target();
      probe_failed(c, p->error.value_or(TransportError{}),
                   graph_proxy_ ? "check the proxy's host name in " + graph_proxy_->source
                                : "check the host name in --base-url and your DNS settings");
      return c;
    }
    c.summary = what_target() + " -> " + join(p->addresses, ", ");
    c.verdict = Verdict::kPass;
    return c;
  }

  Check tcp() {
    Check c;
    const auto& p = *probe();
    c.took = p.connect_time;
    if (!p.connected) {
      c.summary = "could not connect to " + what_target();
      const TransportError e = p.error.value_or(TransportError{});
      std::string hint;
      if (e.failure == TransportFailure::kConnectRefused) {
        hint = graph_proxy_
                   ? "nothing listens at the proxy's address: check " + graph_proxy_->source
                   : "nothing listens there: check the port in --base-url";
      } else {
        hint =
            "a firewall may block the connection; if your network requires a proxy, set "
            "HTTPS_PROXY";
      }
      probe_failed(c, e, hint);
      return c;
    }
    c.add("endpoint", p.endpoint);
    c.summary = "connected to " + p.endpoint;
    if (!p.proxy.empty()) {
      c.summary += " (the proxy " + p.proxy + ")";
      c.add("proxy", p.proxy);
      if (!p.tunneled) {
        c.summary += "; CONNECT " + target_ + " refused";
        probe_failed(c, p.error.value_or(TransportError{}),
                     "check the proxy's address and credentials in " + p.proxy_source);
        return c;
      }
      c.took = p.connect_time + p.tunnel_time;
      c.add_number("tunnelMs", p.tunnel_time.count());
      c.summary += "; CONNECT " + target_ + ": tunnel open after " +
                   std::to_string(p.tunnel_time.count()) + " ms";
    }
    c.verdict = Verdict::kPass;
    return c;
  }

  Check tls() {
    Check c;
    const auto& p = *probe();
    if (!p.tls_attempted) {
      c.summary = "not applicable: the Graph root is plain http://";
      return c;
    }
    c.took = p.tls_time;
    c.add("version", p.tls_version);
    c.add("cipher", p.cipher);
    c.add("subject", p.subject);
    c.add("issuer", p.issuer);
    c.add("notAfter", p.not_after);
    c.add("verifyResult", p.verify_result);
    if (!p.tls_ok) {
      c.summary =
          "handshake with " + target_ + " failed" +
          (p.subject.empty() ? "" : "; received subject " + p.subject + ", issuer " + p.issuer);
      probe_failed(c, p.error.value_or(TransportError{}),
                   "if your network inspects TLS, pass --cacert with your organisation's root CA");
      return c;
    }
    c.summary = (p.proxy.empty() ? "" : "through the tunnel: ") + p.tls_version + ", " + p.cipher +
                "; subject " + p.subject + "; issuer " + p.issuer + "; expires " + p.not_after +
                "; verified: " + p.verify_result;
    c.verdict = Verdict::kPass;
    return c;
  }

  Check token() {
    Check c;
    auto got = session_->chain().token("check the token", TokenUse::kDelegatedOrApp);
    if (!got) {
      c.summary = session_->chain().configured() ? "the token source failed"
                                                 : "no token source is configured";
      c.fail(got.error(), true);
      return c;
    }
    token_ = got->token;
    const std::string source =
        std::string(source_kind_name(got->kind)) + " (" + got->token.source + ")";
    c.add("source", source);
    c.summary = source;
    const auto claims = decode_token_claims(got->token.value);
    if (!claims) {
      c.add("kind", "unknown");
      c.summary += ": not a JWT";
      c.verdict = Verdict::kWarn;
      c.problem = "the token is not a JWT: its expiry and kind cannot be read (it is sent as is)";
      return c;
    }
    app_only_ = claims->app_only();
    const std::int64_t now = epoch_now(deps_);
    c.add("kind", app_only_ ? "app-only" : "delegated");
    c.add("account", claims->account);
    c.add("tenant", claims->tenant);
    c.add("scopes", claims->scopes);
    c.add("roles", claims->roles);
    claims->expires_at ? c.add("expiresAt", utc_timestamp(*claims->expires_at))
                       : c.add_null("expiresAt");
    c.summary += std::string(": ") + (app_only_ ? "app-only" : "delegated");
    if (!claims->account.empty()) c.summary += ", account " + claims->account;
    if (!claims->tenant.empty()) c.summary += ", tenant " + claims->tenant;
    if (!claims->scopes.empty()) c.summary += ", scopes " + join(claims->scopes);
    if (!claims->roles.empty()) c.summary += ", roles " + join(claims->roles);
    if (claims->expires_at) {
      c.summary += ", expires " + utc_timestamp(*claims->expires_at) + " (" +
                   in_how_long(*claims->expires_at - now) + ")";
    }
    if (auto st = check_token(got->token, "call Microsoft Graph", TokenUse::kDelegatedOrApp, now);
        !st) {
      c.fail(st.error(), true);
      return c;
    }
    // The same refusal `create` gives, before it sends anything.
    if (auto st =
            check_token(got->token, "create a thread or reply", TokenUse::kDelegatedOnly, now);
        !st) {
      c.fail(st.error(), false);
      c.problem += " (list, get, lock, unlock and delete work)";
      return c;
    }
    c.verdict = Verdict::kPass;
    if (const auto warnings = token_warnings(got->token); !warnings.empty()) {
      c.verdict = Verdict::kWarn;
      c.problem = join(warnings, "; ");
    }
    return c;
  }

  Check me() {
    Check c;
    if (app_only_) {
      c.summary = "not applicable: an app-only token has no signed-in user, so Graph has no /me";
      return c;
    }
    auto client = session_->client();
    if (!client) {
      c.fail(client.error(), true);
      return c;
    }
    auto r = (*client)->get_resource({"me"}, token_, "read /me");
    if (r) {
      c.summary = "GET /me: " + std::to_string(r->status) + ": Graph accepted the token";
      if (auto id = r->header("request-id"); !id.empty()) c.add("requestId", std::string(id));
      c.verdict = Verdict::kPass;
      return c;
    }
    const Error& e = r.error();
    if (e.http_status) c.add_number("status", e.http_status);
    if (!e.request_id.empty()) c.add("requestId", e.request_id);
    if (e.http_status == 403) {
      // The token was accepted; /me needs User.Read, which graph-threads itself never uses.
      c.summary = "GET /me: 403: Graph accepted the token";
      c.verdict = Verdict::kWarn;
      c.problem = "the token may not read /me (that needs User.Read, which graph-threads does not)";
      return c;
    }
    c.summary = e.http_status ? "GET /me: " + std::to_string(e.http_status) : "GET /me failed";
    c.fail(e, true);
    return c;
  }

  Check group() {
    Check c;
    if (o_.group.empty()) {
      c.summary = "not checked: give --group ID to check access to a group";
      return c;
    }
    auto client = session_->client();
    if (!client) {
      c.fail(client.error(), true);
      return c;
    }
    c.add("group", o_.group);
    // The call graph-threads relies on, with the permissions it needs (Group-Conversation.*),
    // rather than GET /groups/{id}, which needs directory permissions (Group.Read.All or
    // GroupMember.Read.All) that a token good for posting usually lacks.
    auto page = (*client)->list_threads(o_.group, ListQuery{.top = 1}, "", token_);
    if (page) {
      c.summary = "GET /groups/" + o_.group + "/threads?$top=1: 200: the group's conversations " +
                  "can be read (" + std::to_string(page->threads.size()) +
                  " thread(s) on the page)";
      c.verdict = Verdict::kPass;
      return c;
    }
    const Error& e = page.error();
    if (e.http_status) c.add_number("status", e.http_status);
    if (!e.request_id.empty()) c.add("requestId", e.request_id);
    c.summary = "GET /groups/" + o_.group + "/threads?$top=1" +
                (e.http_status ? ": " + std::to_string(e.http_status) : std::string(" failed"));
    if (e.http_status == 403) {
      c.hint = app_only_
                   ? "the app needs the application permission Group-Conversation.Read.All (or "
                     "Group.Read.All), granted by an administrator"
                   : "the token needs Group-Conversation.ReadWrite.All (or Group.ReadWrite.All), "
                     "and the signed-in user must be allowed to see the group (members only for a "
                     "private group)";
    } else if (e.http_status == 404) {
      c.hint =
          "no Microsoft 365 group with this id is visible in the token's tenant: check --group "
          "(the group's object id, a GUID); security groups and distribution lists have no "
          "conversations";
    }
    c.fail(e, true);
    return c;
  }

  const DoctorOptions& o_;
  const GlobalOptions& g_;
  Io& io_;
  const Env& env_;
  Deps& deps_;
  std::optional<Session> session_;
  std::optional<ProxyConfig> graph_proxy_, login_proxy_;
  std::optional<Result<ConnectionProbe>> probe_;
  std::string target_;
  AccessToken token_;
  bool app_only_ = false;
};

// The exit code of a run: the first hard failure's, else the first failure's, else 0.
int exit_of(const std::vector<Check>& checks) {
  for (const auto& c : checks) {
    if (c.verdict == Verdict::kFail && c.hard) return c.exit;
  }
  for (const auto& c : checks) {
    if (c.verdict == Verdict::kFail) return c.exit;
  }
  return 0;
}

std::string render_json(const std::vector<Check>& checks, int exit) {
  std::string out = "{\"version\":" + json_quote(GT_VERSION) +
                    ",\"ok\":" + (exit == 0 ? "true" : "false") +
                    ",\"exitCode\":" + std::to_string(exit) + ",\"checks\":[";
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const Check& c = checks[i];
    out += (i ? "," : "");
    out += "{\"name\":" + json_quote(c.name) +
           ",\"status\":" + json_quote(verdict_name(c.verdict)) +
           ",\"ms\":" + (c.took ? std::to_string(c.took->count()) : "null") +
           ",\"summary\":" + json_quote(c.summary) + ",\"problem\":" + json_quote(c.problem) +
           ",\"hint\":" + json_quote(c.hint) + ",\"details\":{";
    for (std::size_t d = 0; d < c.details.size(); ++d) {
      out += (d ? "," : "") + json_quote(c.details[d].first) + ":" + c.details[d].second;
    }
    out += "}}";
  }
  return out + "]}";
}

std::string render_text(const std::vector<Check>& checks, int exit, bool colour) {
  std::ostringstream out;
  const auto paint = [&](Verdict v) {
    const std::string word = verdict_name(v);
    if (!colour) return word;
    const char* code = v == Verdict::kPass   ? "32"
                       : v == Verdict::kWarn ? "33"
                       : v == Verdict::kFail ? "31"
                                             : "2";
    return "\033[" + std::string(code) + "m" + word + "\033[0m";
  };
  for (const Check& c : checks) {
    std::string name = c.name;
    name.resize(std::max<std::size_t>(name.size(), 10), ' ');
    std::string took = c.took ? std::to_string(c.took->count()) + " ms" : "";
    took.insert(0, took.size() < 8 ? 8 - took.size() : 0, ' ');
    out << paint(c.verdict) << "  " << name << took << "  " << c.summary << '\n';
    if (!c.problem.empty()) out << std::string(26, ' ') << c.problem << '\n';
    if (!c.hint.empty() && (c.verdict == Verdict::kFail || c.verdict == Verdict::kWarn)) {
      out << std::string(26, ' ') << "hint: " << c.hint << '\n';
    }
  }
  if (exit == 0) {
    out << "All checks passed.\n";
  } else {
    std::string failed;
    for (const Check& c : checks) {
      if (c.verdict == Verdict::kFail) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    out << "Failed: " << failed << " (exit code " << exit << ").\n";
  }
  return out.str();
}

}  // namespace

CLI::App* setup_doctor(CLI::App& app, DoctorOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Check the configuration, network, TLS, token and Graph access, step by step");
  cmd->fallthrough();
  cmd->footer(
      "Checks, in order: config, proxy, dns, tcp, tls, token, graph /me, group (with --group).\n"
      "The first hard failure stops the run with its exit code (2 config, 3 token or access,\n"
      "4 network or TLS, 1 Graph error); later checks show as skip.\n"
      "\n"
      "Examples:\n"
      "  graph-threads doctor\n"
      "  graph-threads doctor --group $GID\n"
      "  graph-threads doctor --group $GID -o json > doctor.json   # for a support ticket");
  cmd->add_option("--group", o.group, "Also check access to this group's threads (a GUID)")
      ->type_name("ID");
  return cmd;
}

int run_doctor(const DoctorOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps) {
  if (!o.group.empty()) warn_if_not_guid(io, "--group", o.group);
  Doctor doctor(o, globals, io, env, deps);
  const std::vector<Check> checks = doctor.run();
  const int exit = exit_of(checks);
  std::string text;
  if (globals.output == "json") {
    const std::string j = render_json(checks, exit);
    text = (io.out_is_tty ? pretty_json(j) : j) + "\n";
  } else {
    const auto no_colour = env.get("NO_COLOR");
    text = render_text(checks, exit, io.out_is_tty && !(no_colour && !no_colour->empty()));
  }
  // Nothing above prints a secret; this is the second line of defence for text quoted from
  // servers and files.
  const auto secrets = doctor.secrets();
  text = scrub_secrets(std::move(text), {secrets.begin(), secrets.end()});
  io.out << text;
  io.out.flush();
  return exit;
}

}  // namespace gt::app
