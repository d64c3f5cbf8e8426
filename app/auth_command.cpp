#include "app/auth_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "app/cli.hpp"
#include "app/session.hpp"
#include "gt/json_codec.hpp"
#include "gt/token_cache.hpp"

namespace gt::app {

namespace {

constexpr const char* kFooter =
    "Global flags (see graph-threads --help): --cloud, --cacert, --timeout, --retries, -o, -v\n"
    "Sign-in order and the CI recipe: see the README (\"Signing in\").";

bool has_write_scope(const std::vector<std::string>& scopes) {
  return std::any_of(scopes.begin(), scopes.end(), [](const std::string& s) {
    return s == "Group-Conversation.ReadWrite.All" || s == "Group.ReadWrite.All" ||
           s.ends_with("/Group-Conversation.ReadWrite.All") || s.ends_with("/Group.ReadWrite.All");
  });
}

Result<TokenCache> cache_of(const Session& session) {
  if (!session.chain_config().cache_dir) {
    return Error::usage(
        "no place for the token cache: set GRAPH_THREADS_CONFIG_DIR, XDG_CONFIG_HOME or HOME");
  }
  return TokenCache(*session.chain_config().cache_dir);
}

// The scopes `auth login` asks for: --scope values (each may hold several, space-separated) or
// the defaults; offline_access is always added so the sign-in can be refreshed.
std::vector<std::string> login_scopes(const AuthOptions& o, Cloud cloud) {
  std::vector<std::string> out;
  for (const auto& s : o.scopes) {
    std::string_view rest = s;
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      if (sp != 0) out.emplace_back(rest.substr(0, sp));
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  }
  if (out.empty()) return TokenChain::default_scopes(cloud);
  if (std::find(out.begin(), out.end(), "offline_access") == out.end()) {
    out.push_back("offline_access");
  }
  return out;
}

int run_login(const AuthOptions& o, Session& session, Io& io, Deps& deps) {
  auto cache = cache_of(session);
  if (!cache) return fail(io, cache.error());
  auto transport = session.transport();
  if (!transport) return fail(io, transport.error());
  OAuthOptions options = session.oauth_options();
  options.tenant = o.tenant;
  options.client_id = o.client_id.empty() ? kDefaultClientId : o.client_id;
  OAuthClient oauth({.transport = **transport,
                     .clock = deps.clock,
                     .new_request_id = deps.new_request_id,
                     .jitter = deps.jitter,
                     .verbose = session.verbose()},
                    options);
  const auto scopes = login_scopes(o, session.settings().cloud);
  auto code = oauth.start_device_flow(scopes);
  if (!code) return fail(io, code.error());
  io.err << "To sign in, open " << code->verification_uri << " in a browser and enter the code\n\n"
         << "    " << code->user_code << "\n\n"
         << "Waiting for you to finish (the code expires " << in_how_long(code->expires_in)
         << "; Ctrl-C to cancel)...\n";
  io.err.flush();
  auto tokens = oauth.poll_device_flow(*code, [&](std::int64_t interval) {
    if (session.verbose()) {
      *session.verbose() << "* the server asked to poll more slowly: every " << interval << " s\n";
    }
  });
  if (!tokens) return fail(io, tokens.error());

  const auto claims = decode_token_claims(tokens->access_token);
  CachedAccount entry{.authority = session.chain_config().authority.origin(),
                      .tenant = o.tenant,
                      .client_id = options.client_id,
                      .origin = "login",
                      .account = claims ? claims->account : "",
                      .tenant_id = claims ? claims->tenant : ""};
  const std::int64_t now = epoch_now(deps);
  entry.access_token = tokens->access_token;
  entry.refresh_token = tokens->refresh_token;
  entry.expires_at = claims && claims->expires_at ? *claims->expires_at : now + tokens->expires_in;
  entry.updated_at = now;
  entry.scopes = claims && !claims->scopes.empty() ? claims->scopes : scopes;
  auto saved = cache->transact([&](std::vector<CachedAccount>& entries) -> Result<bool> {
    std::erase_if(entries, [&](const CachedAccount& e) {
      return e.origin == "login" && e.authority == entry.authority &&
             e.client_id == entry.client_id && e.account == entry.account;
    });
    entries.push_back(entry);
    return true;
  });
  if (!saved) return fail(io, saved.error());
  io.err << "Signed in as " << (entry.account.empty() ? "(unknown account)" : entry.account)
         << " (tenant " << (entry.tenant_id.empty() ? o.tenant : entry.tenant_id) << "). Saved to "
         << cache->file() << ".\n";
  if (entry.refresh_token.empty()) {
    warn(io, "no refresh token was issued: the sign-in lasts until the access token expires");
  }
  if (!has_write_scope(entry.scopes)) {
    warn(io, "the granted scopes (" + join(entry.scopes) +
                 ") cannot create threads; sign in with --scope "
                 "Group-Conversation.ReadWrite.All for that");
  }
  return 0;
}

// `auth status`: one line per fact, or a JSON object with -o json.
struct StatusFacts {
  bool signed_in = false;
  std::string source, kind, detail, account, tenant, cloud, login_host;
  std::vector<std::string> scopes, roles;
  std::optional<std::int64_t> expires_at;
  bool can_create = false;
  std::string can_create_reason;
};

// `auth status` facts as (JSON key, JSON value, text for tsv) in a fixed order.
struct Fact {
  std::string key, json, text;
};

std::vector<Fact> status_facts(const StatusFacts& f) {
  auto list = [](const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_quote(v[i]);
    return out + "]";
  };
  auto str = [](const std::string& key, const std::string& v) {
    return Fact{key, json_quote(v), v};
  };
  auto flag = [](const std::string& key, bool b) {
    return Fact{key, b ? "true" : "false", b ? "true" : "false"};
  };
  const std::string expires = f.expires_at ? utc_timestamp(*f.expires_at) : "";
  return {flag("signedIn", f.signed_in),
          str("source", f.source),
          str("kind", f.kind),
          str("account", f.account),
          str("tenant", f.tenant),
          str("cloud", f.cloud),
          str("loginHost", f.login_host),
          {"scopes", list(f.scopes), join(f.scopes)},
          {"roles", list(f.roles), join(f.roles)},
          {"expiresAt", f.expires_at ? json_quote(expires) : "null", expires},
          flag("canCreateThreads", f.can_create),
          str("canCreateThreadsReason", f.can_create_reason),
          flag("signatureChecked", false)};
}

// -o json/ndjson: one object; tsv: "key<TAB>value" a line (lists space-separated, null empty);
// id: the account; table: the lines below, for a person. --jq runs over the JSON object.
Status print_status(const StatusFacts& f, const Session& session, Io& io, std::int64_t now) {
  const Settings& settings = session.settings();
  const std::vector<Fact> facts = status_facts(f);
  std::string j = "{";
  for (const Fact& fact : facts)
    j += (j.size() > 1 ? "," : "") + json_quote(fact.key) + ":" + fact.json;
  j += "}";
  if (settings.jq) return print_jq(settings, io, j);
  switch (settings.output) {
    case OutputFormat::kJson:
    case OutputFormat::kNdjson: {
      const bool indent = settings.output == OutputFormat::kJson && settings.format.pretty_json;
      io.out << layout_json(j, {.indent = indent, .color = settings.format.color}) << '\n';
      return ok_status();
    }
    case OutputFormat::kTsv:
      for (const Fact& fact : facts) io.out << fact.key << '\t' << fact.text << '\n';
      return ok_status();
    case OutputFormat::kId:
      if (!f.account.empty()) io.out << f.account << '\n';
      return ok_status();
    case OutputFormat::kTable:
      break;
  }
  auto line = [&](std::string_view k, const std::string& v) {
    io.out << k << std::string(17 - std::min<std::size_t>(16, k.size()), ' ')
           << (v.empty() ? "-" : v) << '\n';
  };
  if (!f.signed_in) {
    line("Signed in", "no");
    line("Cloud", f.cloud + " (" + f.login_host + ")");
    return ok_status();
  }
  line("Token source", f.source + (f.detail.empty() ? "" : "; " + f.detail));
  line("Kind", f.kind);
  line("Account", f.account);
  line("Tenant", f.tenant);
  line("Cloud", f.cloud + " (" + f.login_host + ")");
  if (!f.scopes.empty()) line("Scopes", join(f.scopes));
  if (!f.roles.empty()) line("Roles", join(f.roles));
  line("Expires", f.expires_at
                      ? utc_timestamp(*f.expires_at) + " (" + in_how_long(*f.expires_at - now) + ")"
                      : std::string("unknown (not a JWT)"));
  line("Create threads", std::string(f.can_create ? "yes" : "no") +
                             (f.can_create_reason.empty() ? "" : " (" + f.can_create_reason + ")"));
  line("Note", "claims were read from the token without checking its signature");
  return ok_status();
}

int run_status(Session& session, Io& io, Deps& deps) {
  StatusFacts f;
  f.cloud = cloud_name(session.settings().cloud);
  f.login_host = session.chain_config().authority.origin();
  const std::int64_t now = epoch_now(deps);
  auto got = session.chain().token("check the token", TokenUse::kDelegatedOrApp);
  if (!got) {
    if (got.error().kind == ErrorKind::kAuth && !session.chain().configured()) {
      if (auto st = print_status(f, session, io, now); !st) return fail(io, st.error());
      io.err << kProgram << ": not signed in; run `graph-threads auth login`\n";
      return exit_code(ErrorKind::kAuth);
    }
    return fail(io, got.error());
  }
  f.signed_in = true;
  f.source = got->token.source;
  f.detail = got->detail;
  const auto claims = decode_token_claims(got->token.value);
  if (!claims) {
    f.kind = "unknown (not a JWT: cannot tell delegated from app-only)";
    f.can_create_reason = "unknown: the token is not a JWT";
  } else {
    f.account = claims->account;
    f.tenant = claims->tenant;
    f.scopes = claims->scopes;
    f.roles = claims->roles;
    f.expires_at = claims->expires_at;
    f.kind = claims->app_only() ? "app-only (roles)" : "delegated (scp)";
    if (claims->app_only()) {
      f.can_create_reason = "app-only tokens cannot create threads; sign in as a user";
    } else if (!has_write_scope(claims->scopes)) {
      f.can_create_reason = "needs Group-Conversation.ReadWrite.All or Group.ReadWrite.All";
    } else if (claims->expires_at && *claims->expires_at <= now) {
      f.can_create_reason = "the token has expired";
    } else {
      f.can_create = true;
    }
  }
  if (auto st = print_status(f, session, io, now); !st) return fail(io, st.error());
  if (f.expires_at && *f.expires_at <= now) return exit_code(ErrorKind::kAuth);
  return 0;
}

int run_token(Session& session, Io& io) {
  auto token = session.token("print a token", TokenUse::kDelegatedOrApp);
  if (!token) return fail(io, token.error());
  // Asked for explicitly: the one place besides export-refresh-token that prints a secret.
  io.out << token->value << '\n';
  io.out.flush();
  return 0;
}

int run_logout(const AuthOptions& o, Session& session, Io& io) {
  auto cache = cache_of(session);
  if (!cache) return fail(io, cache.error());
  if (o.all) {
    if (auto st = cache->remove_all(); !st) return fail(io, st.error());
    io.err << "Removed " << cache->file() << ".\n";
    return 0;
  }
  std::vector<std::string> removed;
  const std::string authority = session.chain_config().authority.origin();
  auto st = cache->transact([&](std::vector<CachedAccount>& entries) -> Result<bool> {
    const auto before = entries.size();
    std::erase_if(entries, [&](const CachedAccount& e) {
      if (e.origin != "login" || e.authority != authority) return false;
      removed.push_back(e.account.empty() ? "(unknown account)" : e.account);
      return true;
    });
    return entries.size() != before;
  });
  if (!st) return fail(io, st.error());
  if (removed.empty()) {
    io.err << "Not signed in at " << authority << "; nothing to remove.\n";
  } else {
    io.err << "Signed out " << join(removed, ", ") << ".\n";
  }
  return 0;
}

int run_export_refresh_token(Session& session, Io& io) {
  auto cache = cache_of(session);
  if (!cache) return fail(io, cache.error());
  auto entries = cache->load();
  if (!entries) return fail(io, entries.error());
  const std::string authority = session.chain_config().authority.origin();
  const CachedAccount* best = nullptr;
  for (const auto& e : *entries) {
    if (e.origin == "login" && e.authority == authority && !e.refresh_token.empty() &&
        (!best || e.updated_at > best->updated_at)) {
      best = &e;
    }
  }
  if (!best) {
    return fail(io, Error::auth("no signed-in account with a refresh token at " + authority,
                                "run `graph-threads auth login` first"));
  }
  io.err << kProgram << ": warning: this is a refresh token for " << best->account
         << ": anyone who has it can act as that account in Microsoft 365 until it is revoked. "
            "Store it only as a CI secret (e.g. GRAPH_REFRESH_TOKEN), never in a repository or a "
            "log.\n";
  io.out << best->refresh_token << '\n';
  io.out.flush();
  return 0;
}

}  // namespace

CLI::App* setup_auth(CLI::App& app, AuthOptions& o) {
  CLI::App* auth = app.add_subcommand("auth", "Sign in and inspect the token graph-threads uses");
  auth->fallthrough();
  auth->require_subcommand(1);
  auth->footer(kFooter);

  o.login = auth->add_subcommand("login", "Sign in as a user with the device code flow");
  o.login->fallthrough();
  o.login->footer(kFooter);
  o.login
      ->add_option("--scope", o.scopes,
                   "Scopes to ask for (default: Group-Conversation.ReadWrite.All; "
                   "offline_access is always added)")
      ->type_name("SCOPE")
      ->allow_extra_args(false);
  o.login->add_option("--tenant", o.tenant, "Tenant id or domain (default organizations)")
      ->type_name("TENANT");
  o.login
      ->add_option("--client-id", o.client_id,
                   "Application (client) id of your own app registration (default: "
                   "Microsoft Graph Command Line Tools)")
      ->type_name("ID");

  o.status = auth->add_subcommand("status", "Show where the token comes from and what it allows");
  o.status->fallthrough();
  o.status->footer(kFooter);
  o.token = auth->add_subcommand("token", "Print a valid access token (for other tools)");
  o.token->fallthrough();
  o.token->footer(kFooter);
  o.logout = auth->add_subcommand("logout", "Remove the signed-in account from the token cache");
  o.logout->fallthrough();
  o.logout->footer(kFooter);
  o.logout->add_flag("--all", o.all, "Remove the whole token cache file");
  o.export_refresh_token = auth->add_subcommand(
      "export-refresh-token", "Print the signed-in account's refresh token, for a CI secret");
  o.export_refresh_token->fallthrough();
  o.export_refresh_token->footer(kFooter);
  return auth;
}

int run_auth(const AuthOptions& o, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps) {
  auto session = Session::open(globals, env, io, deps);
  if (!session) return fail(io, session.error());
  if (session->settings().jq && !o.status->parsed()) {
    // Only status prints JSON; token and export-refresh-token print a bare secret, login and
    // logout nothing on stdout.
    return fail(io, Error::usage("--jq: only `auth status` prints JSON to filter"));
  }
  if (o.login->parsed()) return run_login(o, *session, io, deps);
  if (o.status->parsed()) return run_status(*session, io, deps);
  if (o.token->parsed()) return run_token(*session, io);
  if (o.logout->parsed()) return run_logout(o, *session, io);
  return run_export_refresh_token(*session, io);
}

}  // namespace gt::app
