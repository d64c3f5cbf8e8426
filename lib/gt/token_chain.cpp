#include "gt/token_chain.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "gt/ascii.hpp"
#include "gt/token_cache.hpp"
#include "gt/uuid.hpp"

namespace gt {

namespace {

namespace json = boost::json;

// An access token this close to expiry is refreshed instead of used: a request that starts with
// a token about to expire can be refused halfway through a long retry sequence.
constexpr std::int64_t kRefreshMarginSeconds = 300;

bool set(const std::optional<std::string>& v) {
  return v && !v->empty();
}

std::string graph_root_of(Cloud cloud) {
  return graph_root(cloud);
}

std::vector<std::string> split_scopes(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

Error with_hint(Error e, std::string hint) {
  e.hint = std::move(hint);
  return e;
}

}  // namespace

const char* source_kind_name(TokenSourceKind kind) {
  switch (kind) {
    case TokenSourceKind::kExplicit:
      return "explicit token";
    case TokenSourceKind::kRefreshToken:
      return "refresh token";
    case TokenSourceKind::kPassword:
      return "password";
    case TokenSourceKind::kAppOnly:
      return "app-only credentials";
    case TokenSourceKind::kCache:
      return "auth login cache";
    case TokenSourceKind::kAz:
      return "Azure CLI";
  }
  return "unknown";
}

std::vector<std::string> TokenChain::default_scopes(Cloud cloud) {
  return {graph_root_of(cloud) + "/Group-Conversation.ReadWrite.All", "offline_access"};
}

TokenChain::TokenChain(ChainConfig config, ChainDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)) {}

namespace {

// The parts of a chain step that do not depend on the source: an OAuth client for a tenant and
// client id, and the cache transaction that reuses or refreshes an entry.
struct Step {
  const ChainConfig& config;
  const ChainDeps& deps;

  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               deps.clock.wall_now().time_since_epoch())
        .count();
  }

  Result<OAuthClient> oauth(const std::string& tenant, const std::string& client_id) const {
    auto transport = deps.transport();
    if (!transport) return std::move(transport).error();
    OAuthOptions o = config.oauth;
    o.authority = config.authority;
    o.tenant = tenant;
    o.client_id = client_id;
    return OAuthClient({.transport = **transport,
                        .clock = deps.clock,
                        .new_request_id = deps.new_request_id,
                        .jitter = deps.jitter,
                        .verbose = deps.verbose},
                       std::move(o));
  }

  void log(const std::string& line) const {
    if (deps.verbose) *deps.verbose << "* " << line << '\n';
  }

  // Fills an entry from a token response (keeping the old refresh token when none came back).
  void store(CachedAccount& e, const TokenResponse& r,
             const std::vector<std::string>& scopes) const {
    e.access_token = r.access_token;
    if (!r.refresh_token.empty()) e.refresh_token = r.refresh_token;
    e.expires_at = now() + r.expires_in;
    e.updated_at = now();
    e.scopes = r.scope.empty() ? scopes : split_scopes(r.scope);
    if (const auto claims = decode_token_claims(r.access_token)) {
      if (!claims->account.empty()) e.account = claims->account;
      if (!claims->tenant.empty()) e.tenant_id = claims->tenant;
      if (claims->expires_at) e.expires_at = *claims->expires_at;
    }
  }

  using Redeem = std::function<Result<TokenResponse>(const CachedAccount* entry)>;

  // Reuses the cached access token of the entry keyed by (authority, tenant, client, origin) or
  // calls `redeem` under the cache lock and stores what it returns. Without a usable cache the
  // token is redeemed and used but not kept.
  Result<ChainToken> cached(const std::string& tenant, const std::string& client_id,
                            const std::string& origin, const std::vector<std::string>& scopes,
                            AccessToken label, TokenSourceKind kind, const Redeem& redeem) const {
    const std::string authority = config.authority.origin();
    std::optional<ChainToken> out;
    bool redeem_failed = false;
    auto transaction = [&](std::vector<CachedAccount>& entries) -> Result<bool> {
      auto it = std::find_if(entries.begin(), entries.end(), [&](const CachedAccount& e) {
        return e.authority == authority && e.tenant == tenant && e.client_id == client_id &&
               e.origin == origin;
      });
      if (it != entries.end() && !it->access_token.empty() &&
          it->expires_at > now() + kRefreshMarginSeconds) {
        label.value = it->access_token;
        out = ChainToken{label, kind,
                         "cached access token, valid until " + utc_timestamp(it->expires_at)};
        return false;
      }
      auto r = redeem(it != entries.end() ? &*it : nullptr);
      if (!r) {
        redeem_failed = true;
        return std::move(r).error();
      }
      if (it == entries.end()) {
        entries.push_back(CachedAccount{
            .authority = authority, .tenant = tenant, .client_id = client_id, .origin = origin});
        it = std::prev(entries.end());
      }
      store(*it, *r, scopes);
      label.value = it->access_token;
      out =
          ChainToken{label, kind, "new access token, valid until " + utc_timestamp(it->expires_at)};
      return true;
    };
    if (config.cache_dir) {
      TokenCache cache(*config.cache_dir);
      auto st = cache.transact(transaction);
      if (st) return *out;
      if (redeem_failed) return std::move(st).error();
      log("token cache unavailable (" + st.error().message + "); continuing without it");
    }
    std::vector<CachedAccount> scratch;
    auto st = transaction(scratch);
    if (!st) return std::move(st).error();
    return *out;
  }
};

}  // namespace

std::optional<TokenSourceKind> TokenChain::configured() const {
  if (config_.explicit_token) return TokenSourceKind::kExplicit;
  if (set(config_.refresh_token)) return TokenSourceKind::kRefreshToken;
  if (set(config_.username) || set(config_.password)) return TokenSourceKind::kPassword;
  if (set(config_.client_secret) || set(config_.certificate_path) ||
      set(config_.federated_token_file)) {
    return TokenSourceKind::kAppOnly;
  }
  if (config_.cache_dir) {
    const auto entries = TokenCache(*config_.cache_dir).load();
    if (entries && std::any_of(entries->begin(), entries->end(), [&](const CachedAccount& e) {
          return e.origin == "login" && e.authority == config_.authority.origin();
        })) {
      return TokenSourceKind::kCache;
    }
  }
  if (deps_.run_command && deps_.run_command({"az", "--version"})) return TokenSourceKind::kAz;
  return std::nullopt;
}

Result<ChainToken> TokenChain::token(std::string_view operation, TokenUse use) {
  if (config_.explicit_token) {
    return ChainToken{*config_.explicit_token, TokenSourceKind::kExplicit, "given explicitly"};
  }
  if (set(config_.refresh_token)) return from_refresh_token();
  if (set(config_.username) || set(config_.password)) return from_password();
  if (set(config_.client_secret) || set(config_.certificate_path) ||
      set(config_.federated_token_file)) {
    if (use == TokenUse::kDelegatedOnly) {
      const char* var = set(config_.client_secret)      ? "AZURE_CLIENT_SECRET"
                        : set(config_.certificate_path) ? "AZURE_CLIENT_CERTIFICATE_PATH"
                                                        : "AZURE_FEDERATED_TOKEN_FILE";
      return Error::auth(
          std::string(var) +
              " signs in as an application (app-only), and Microsoft Graph "
              "accepts only delegated (signed-in user) tokens to " +
              std::string(operation),
          std::string("sign in as a user instead: run `graph-threads auth login` once, and in CI "
                      "use GRAPH_REFRESH_TOKEN (it comes before ") +
              var +
              " in the token order; see the README's CI recipe). App-only credentials work for "
              "list, get, delete and lock");
    }
    return from_app_credentials();
  }
  auto cached = from_cache();
  if (!cached) return std::move(cached).error();
  if (*cached) return std::move(**cached);
  if (auto az = from_az()) return std::move(*az);
  return Error::auth(
      "no access token: no source is configured",
      "sign in with `graph-threads auth login`, or give a token (--token, --token-file, "
      "GRAPH_TOKEN), a refresh token (GRAPH_REFRESH_TOKEN), AZURE_USERNAME/AZURE_PASSWORD, or "
      "app-only credentials (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, "
      "AZURE_FEDERATED_TOKEN_FILE; not for creating threads); an `az login` as a user works too");
}

Result<ChainToken> TokenChain::from_refresh_token() {
  const Step step{config_, deps_};
  const std::string tenant = config_.tenant_id.value_or(kDefaultTenant);
  const std::string client = config_.client_id.value_or(kDefaultClientId);
  const std::string seed = *config_.refresh_token;
  // The entry is keyed by a hash of the seed, never by the token itself.
  const std::string origin = "refresh:" + sha256_hex(seed).substr(0, 16);
  const auto scopes = default_scopes(config_.cloud);
  return step.cached(
      tenant, client, origin, scopes, AccessToken{"", "GRAPH_REFRESH_TOKEN"},
      TokenSourceKind::kRefreshToken, [&](const CachedAccount* e) -> Result<TokenResponse> {
        auto oauth = step.oauth(tenant, client);
        if (!oauth) return std::move(oauth).error();
        const auto& want = e && !e->scopes.empty() ? e->scopes : scopes;
        if (e && !e->refresh_token.empty() && e->refresh_token != seed) {
          // The token the last redemption returned (rotation); if it was refused, fall back
          // to the one in the environment.
          auto r = oauth->redeem_refresh_token(e->refresh_token, want);
          if (r || r.error().kind != ErrorKind::kAuth) return r;
          step.log("the cached refresh token was refused; trying GRAPH_REFRESH_TOKEN");
        }
        auto r = oauth->redeem_refresh_token(seed, want);
        if (!r && r.error().kind == ErrorKind::kAuth) {
          Error err = std::move(r).error();
          err.message = "GRAPH_REFRESH_TOKEN was refused: " + err.message;
          return with_hint(std::move(err),
                           "sign in again with `graph-threads auth login`, then store the "
                           "output of `graph-threads auth export-refresh-token` as the secret");
        }
        return r;
      });
}

Result<ChainToken> TokenChain::from_password() {
  if (!set(config_.username) || !set(config_.password)) {
    return Error::usage(std::string(set(config_.username) ? "AZURE_USERNAME" : "AZURE_PASSWORD") +
                        " is set but " +
                        (set(config_.username) ? "AZURE_PASSWORD" : "AZURE_USERNAME") +
                        " is not; the password grant needs both");
  }
  const Step step{config_, deps_};
  const std::string tenant = config_.tenant_id.value_or(kDefaultTenant);
  const std::string client = config_.client_id.value_or(kDefaultClientId);
  const auto scopes = default_scopes(config_.cloud);
  return step.cached(
      tenant, client, "password:" + ascii_lowered(*config_.username), scopes,
      AccessToken{"", "AZURE_USERNAME/AZURE_PASSWORD"}, TokenSourceKind::kPassword,
      [&](const CachedAccount* e) -> Result<TokenResponse> {
        auto oauth = step.oauth(tenant, client);
        if (!oauth) return std::move(oauth).error();
        if (e && !e->refresh_token.empty()) {
          auto r = oauth->redeem_refresh_token(e->refresh_token, e->scopes);
          if (r || r.error().kind != ErrorKind::kAuth) return r;
        }
        auto r = oauth->password_grant(*config_.username, *config_.password, scopes);
        if (!r && r.error().kind == ErrorKind::kAuth) {
          Error err = std::move(r).error();
          err.message = "password sign-in (AZURE_USERNAME) failed: " + err.message;
          if (err.hint.empty()) {
            err.hint =
                "the password grant is discouraged and stops at MFA or conditional "
                "access; use `graph-threads auth login`, and GRAPH_REFRESH_TOKEN in CI";
          }
          return err;
        }
        return r;
      });
}

Result<ChainToken> TokenChain::from_app_credentials() {
  const char* var = set(config_.client_secret)      ? "AZURE_CLIENT_SECRET"
                    : set(config_.certificate_path) ? "AZURE_CLIENT_CERTIFICATE_PATH"
                                                    : "AZURE_FEDERATED_TOKEN_FILE";
  if (!set(config_.tenant_id) || !set(config_.client_id)) {
    return Error::usage(std::string(var) +
                        " needs AZURE_TENANT_ID and AZURE_CLIENT_ID (the app's tenant and "
                        "application id)");
  }
  const Step step{config_, deps_};
  const std::string tenant = *config_.tenant_id;
  const std::string client = *config_.client_id;
  const std::string scope = graph_root_of(config_.cloud) + "/.default";
  return step.cached(
      tenant, client, "app:" + client, {scope}, AccessToken{"", var}, TokenSourceKind::kAppOnly,
      [&](const CachedAccount*) -> Result<TokenResponse> {
        auto oauth = step.oauth(tenant, client);
        if (!oauth) return std::move(oauth).error();
        if (set(config_.client_secret)) {
          return oauth->client_secret_grant(*config_.client_secret, scope);
        }
        if (set(config_.certificate_path)) {
          auto pem = deps_.read_file(*config_.certificate_path, "AZURE_CLIENT_CERTIFICATE_PATH");
          if (!pem) return std::move(pem).error();
          auto cert = ClientCertificate::load(
              *pem, "AZURE_CLIENT_CERTIFICATE_PATH " + *config_.certificate_path);
          if (!cert) return std::move(cert).error();
          auto assertion = make_client_assertion(*cert, config_.assertion_alg, client,
                                                 oauth->token_endpoint(), step.now(), new_uuid());
          if (!assertion) return std::move(assertion).error();
          return oauth->client_assertion_grant(*assertion, scope);
        }
        // Workload identity: the platform rotates this file, so it is read at every use.
        auto federated =
            deps_.read_file(*config_.federated_token_file, "AZURE_FEDERATED_TOKEN_FILE");
        if (!federated) return std::move(federated).error();
        std::string assertion = std::move(federated).value();
        while (!assertion.empty() && std::isspace(static_cast<unsigned char>(assertion.back()))) {
          assertion.pop_back();
        }
        return oauth->client_assertion_grant(assertion, scope);
      });
}

Result<std::optional<ChainToken>> TokenChain::from_cache() {
  if (!config_.cache_dir) return std::optional<ChainToken>();
  const Step step{config_, deps_};
  const std::string authority = config_.authority.origin();
  TokenCache cache(*config_.cache_dir);
  std::optional<ChainToken> out;
  bool signed_in = false;
  auto st = cache.transact([&](std::vector<CachedAccount>& entries) -> Result<bool> {
    CachedAccount* best = nullptr;
    for (auto& e : entries) {
      if (e.origin != "login" || e.authority != authority) continue;
      if (set(config_.client_id) && e.client_id != *config_.client_id) continue;
      if (set(config_.tenant_id) && e.tenant != *config_.tenant_id &&
          e.tenant_id != *config_.tenant_id) {
        continue;
      }
      if (!best || e.updated_at > best->updated_at) best = &e;
    }
    if (!best) return false;
    signed_in = true;
    const std::string label = "auth login (" + (best->account.empty() ? "?" : best->account) + ")";
    if (!best->access_token.empty() && best->expires_at > step.now() + kRefreshMarginSeconds) {
      out = ChainToken{{best->access_token, label},
                       TokenSourceKind::kCache,
                       "cached access token, valid until " + utc_timestamp(best->expires_at)};
      return false;
    }
    auto oauth = step.oauth(best->tenant, best->client_id);
    if (!oauth) return std::move(oauth).error();
    auto r = oauth->redeem_refresh_token(best->refresh_token, best->scopes);
    if (!r) {
      Error err = std::move(r).error();
      if (err.kind == ErrorKind::kAuth) {
        err.message = "the sign-in of " + best->account + " is no longer valid: " + err.message;
        err.hint = "run `graph-threads auth login` again";
      }
      return err;
    }
    step.store(*best, *r, best->scopes);
    out = ChainToken{{best->access_token, label},
                     TokenSourceKind::kCache,
                     "refreshed, valid until " + utc_timestamp(best->expires_at)};
    return true;
  });
  if (!st) return std::move(st).error();
  if (!signed_in) return std::optional<ChainToken>();
  return out;
}

std::optional<ChainToken> TokenChain::from_az() {
  if (!deps_.run_command) return std::nullopt;
  const auto output = deps_.run_command({"az", "account", "get-access-token", "--resource",
                                         graph_root_of(config_.cloud), "--output", "json"});
  if (!output) return std::nullopt;
  json::error_code ec;
  const json::value v = json::parse(*output, ec);
  const json::object* o = (!ec && v.is_object()) ? &v.get_object() : nullptr;
  const json::value* token = o ? o->if_contains("accessToken") : nullptr;
  if (!token || !token->is_string() || token->get_string().empty()) {
    if (deps_.verbose) *deps_.verbose << "* az answered without an accessToken; ignoring it\n";
    return std::nullopt;
  }
  std::string detail = "from `az account get-access-token`";
  if (const auto claims = decode_token_claims(std::string_view(token->get_string()));
      claims && claims->expires_at) {
    detail += ", valid until " + utc_timestamp(*claims->expires_at);
  }
  return ChainToken{{std::string(token->get_string()), "az account get-access-token"},
                    TokenSourceKind::kAz,
                    detail};
}

}  // namespace gt
