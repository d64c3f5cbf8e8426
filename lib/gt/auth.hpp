// gt/auth: where the bearer token comes from, and what it can do.
//
// This release knows explicit tokens (--token, --token-file, GRAPH_TOKEN). The TokenSource seam is
// where the sign-in chain (device code, refresh token, cache, az) plugs in later.
//
// Tokens are secrets: nothing in this module prints them, and redact_token() is what every log
// line uses instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gt/error.hpp"

namespace gt {

struct AccessToken {
  std::string value;   // the bearer, without "Bearer "
  std::string source;  // where it came from: "--token", "--token-file /path", "GRAPH_TOKEN"
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token for Microsoft Graph, or kAuth explaining how to provide one.
  virtual Result<AccessToken> token() = 0;
};

// A token given up front (or none: token() then fails with kAuth and the ways to provide one).
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::optional<AccessToken> token) : token_(std::move(token)) {}
  Result<AccessToken> token() override;

 private:
  std::optional<AccessToken> token_;
};

// Cleans a token as users paste it: trims surrounding whitespace (token files end in a newline)
// and a leading "Bearer ". Fails (kUsage, naming `source`) when it is empty or contains
// whitespace or control characters inside, which would corrupt the Authorization header.
Result<AccessToken> normalize_token(std::string_view raw, std::string source);

// What the (unverified) JWT payload says. Microsoft Graph access tokens are JWTs; tokens that are
// not (opaque tokens, test tokens) decode to nullopt and are sent as they are.
struct TokenClaims {
  std::vector<std::string> scopes;         // "scp", split on spaces (delegated tokens)
  std::vector<std::string> roles;          // "roles" (app-only tokens)
  std::optional<std::int64_t> expires_at;  // "exp", seconds since the epoch
  std::string audience;                    // "aud"
  std::string account;                     // "upn", else "unique_name", else "preferred_username"
  std::string tenant;                      // "tid"
  bool app_only() const { return scopes.empty() && !roles.empty(); }
};

// Decodes the payload (second segment, base64url) of a JWT. The signature is NOT checked: this is
// only used to give better errors before sending, never to grant anything.
std::optional<TokenClaims> decode_token_claims(std::string_view token);

// Which tokens an operation accepts (GRAPH-API.md 1.2 and 3): creating a thread and replying are
// delegated-only; list, get, delete and lock also accept application permissions.
enum class TokenUse { kDelegatedOnly, kDelegatedOrApp };

// Refuses, before anything is sent, a token that cannot do `operation` ("create a thread"): an
// expired token (exp <= now_epoch_seconds) gets kAuth saying when it expired; for kDelegatedOnly an
// app-only token (roles and no scp) gets kAuth explaining that Graph accepts only delegated user
// tokens there, and what to do instead. Tokens that are not JWTs pass.
Status check_token(const AccessToken& token, std::string_view operation, TokenUse use,
                   std::int64_t now_epoch_seconds);

// Non-fatal observations about a token that will probably be refused, one line each: a delegated
// token without a scope that can create threads, an audience that is not Microsoft Graph.
std::vector<std::string> token_warnings(const AccessToken& token);

// What logs show instead of a token: "[redacted]" ("[none]" for an empty one). Nothing of the
// token itself.
std::string redact_token(std::string_view token);

// `text` with every occurrence of every secret (4 bytes or longer) replaced by "[redacted]": the
// second line of defence for text that quotes what a server or a file said.
std::string scrub_secrets(std::string text, const std::vector<std::string_view>& secrets);

}  // namespace gt
