// gt/token_chain: where the bearer token comes from, in one documented order. The first source
// that is configured is the one used (a configured source that fails is an error, not a reason
// to try the next one: silently falling through would sign in as someone else).
//
//   1. explicit      --token, --token-file, GRAPH_TOKEN
//   2. refresh       GRAPH_REFRESH_TOKEN (+ AZURE_TENANT_ID, AZURE_CLIENT_ID): the CI path
//   3. password      AZURE_USERNAME + AZURE_PASSWORD (resource-owner password grant; discouraged)
//   4. app-only      AZURE_CLIENT_SECRET | AZURE_CLIENT_CERTIFICATE_PATH |
//                    AZURE_FEDERATED_TOKEN_FILE (+ AZURE_TENANT_ID, AZURE_CLIENT_ID)
//   5. cache         the account `graph-threads auth login` signed in
//   6. az            `az account get-access-token --resource <graph root>`, when az is signed in
//
// Sources 2-5 keep their tokens in the TokenCache (gt/token_cache) and reuse an access token until
// shortly before it expires; a refresh happens inside the cache's lock, so parallel invocations
// neither redeem a rotating refresh token twice nor lose a rotated one.
//
// Operations that Graph allows only for users (create a thread, reply) refuse an app-only source
// before any request is made, saying why and what to do instead.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gt/auth.hpp"
#include "gt/clock.hpp"
#include "gt/crypto.hpp"
#include "gt/error.hpp"
#include "gt/http.hpp"
#include "gt/oauth.hpp"
#include "gt/retry.hpp"
#include "gt/url.hpp"

namespace gt {

// Microsoft Graph Command Line Tools: the public client Microsoft's own Graph CLIs sign in with.
inline constexpr const char* kDefaultClientId = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
inline constexpr const char* kDefaultTenant = "organizations";

enum class TokenSourceKind { kExplicit, kRefreshToken, kPassword, kAppOnly, kCache, kAz };
const char* source_kind_name(TokenSourceKind kind);  // "explicit", "refresh token", ...

// Everything the chain reads, gathered by the caller from flags and the environment.
struct ChainConfig {
  std::optional<AccessToken> explicit_token;          // source 1, already read and normalized
  Cloud cloud = Cloud::kGlobal;                       // --cloud: scopes use this cloud's Graph root
  BaseUrl authority;                                  // gt::authority_host()
  std::optional<std::string> refresh_token;           // GRAPH_REFRESH_TOKEN
  std::optional<std::string> tenant_id;               // AZURE_TENANT_ID
  std::optional<std::string> client_id;               // AZURE_CLIENT_ID
  std::optional<std::string> username;                // AZURE_USERNAME
  std::optional<std::string> password;                // AZURE_PASSWORD
  std::optional<std::string> client_secret;           // AZURE_CLIENT_SECRET
  std::optional<std::string> certificate_path;        // AZURE_CLIENT_CERTIFICATE_PATH
  std::optional<std::string> federated_token_file;    // AZURE_FEDERATED_TOKEN_FILE
  AssertionAlg assertion_alg = AssertionAlg::kRs256;  // GRAPH_THREADS_ASSERTION_ALG
  std::optional<std::string> cache_dir;  // TokenCache::default_dir(); nullopt: no cache
  OAuthOptions oauth;                    // retries, timeout, user agent (authority and
                                         // client/tenant are filled per source)
};

struct ChainDeps {
  Clock& clock;
  // The transport for the login host; built on first use (never for source 1 or 6).
  std::function<Result<Transport*>()> transport;
  std::function<std::string()> new_request_id;
  std::function<double()> jitter;
  std::ostream* verbose = nullptr;
  // Reads a file (certificate, federated token); kUsage naming `what` when it cannot.
  std::function<Result<std::string>(const std::string& path, std::string_view what)> read_file;
  // Runs a command and returns its stdout, or nullopt when it is not installed or fails.
  std::function<std::optional<std::string>(const std::vector<std::string>& argv)> run_command;
};

// What a source yielded.
struct ChainToken {
  AccessToken token;  // value + source label ("GRAPH_REFRESH_TOKEN", "auth login cache")
  TokenSourceKind kind = TokenSourceKind::kExplicit;
  std::string detail;  // "cached, valid until 15:04 UTC", "redeemed at <url>", ...
};

class TokenChain {
 public:
  TokenChain(ChainConfig config, ChainDeps deps);

  // The first configured source, decided from the configuration alone (no network): what
  // --dry-run and `auth status` report. nullopt when no source is configured at all (for az: when
  // `az` is not on PATH).
  std::optional<TokenSourceKind> configured() const;

  // A token for `operation` ("create a thread"). kDelegatedOnly refuses an app-only source before
  // any request (kAuth, explaining). No source at all: kAuth listing every way to provide one.
  Result<ChainToken> token(std::string_view operation, TokenUse use);

  // The delegated scopes a sign-in asks for by default:
  // "{graph root}/Group-Conversation.ReadWrite.All offline_access".
  static std::vector<std::string> default_scopes(Cloud cloud);

 private:
  Result<ChainToken> from_refresh_token();
  Result<ChainToken> from_password();
  Result<ChainToken> from_app_credentials();
  // nullopt: nothing signed in / az not available, so the chain moves on.
  Result<std::optional<ChainToken>> from_cache();
  std::optional<ChainToken> from_az();

  ChainConfig config_;
  ChainDeps deps_;
};

}  // namespace gt
