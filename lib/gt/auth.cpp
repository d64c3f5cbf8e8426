#include "gt/auth.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

#include "gt/clock.hpp"

namespace gt {

namespace {

constexpr std::string_view kWaysToProvide =
    "pass --token TOKEN or --token-file FILE (- for stdin), or set GRAPH_TOKEN";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-' || c == '+')
      v = 62;
    else if (c == '_' || c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string string_claim(const boost::json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

std::string format_ago(std::int64_t seconds) {
  if (seconds < 120) return std::to_string(seconds) + " seconds ago";
  if (seconds < 7200) return std::to_string(seconds / 60) + " minutes ago";
  return std::to_string(seconds / 3600) + " hours ago";
}

bool has_scope(const std::vector<std::string>& scopes, std::string_view wanted) {
  return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) {
    return s.size() == wanted.size() &&
           std::equal(s.begin(), s.end(), wanted.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

}  // namespace

Result<AccessToken> StaticTokenSource::token() {
  if (token_) return *token_;
  return Error::auth("no access token: " + std::string(kWaysToProvide),
                     "creating a thread needs a delegated (signed-in user) token with "
                     "Group-Conversation.ReadWrite.All or Group.ReadWrite.All; e.g. copy one from "
                     "Graph Explorer, or run `az account get-access-token --resource "
                     "https://graph.microsoft.com --query accessToken -o tsv` as a user");
}

Result<AccessToken> normalize_token(std::string_view raw, std::string source) {
  std::string_view t = trim(raw);
  if (t.size() > 7) {
    std::string prefix(t.substr(0, 7));
    std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (prefix == "bearer ") t = trim(t.substr(7));
  }
  if (t.empty()) return Error::usage(source + ": the token is empty");
  for (const char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      // A newline here would end the Authorization header and start another one.
      return Error::usage(source +
                          ": the token contains whitespace or control characters; expected one "
                          "line such as eyJ0eXAi...");
    }
  }
  return AccessToken{std::string(t), std::move(source)};
}

std::optional<TokenClaims> decode_token_claims(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  TokenClaims c;
  if (const auto* scp = o.if_contains("scp"); scp && scp->is_string()) {
    std::string_view rest = scp->get_string();
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      const auto word = rest.substr(0, sp);
      if (!word.empty()) c.scopes.emplace_back(word);
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  }
  if (const auto* roles = o.if_contains("roles"); roles && roles->is_array()) {
    for (const auto& r : roles->get_array()) {
      if (r.is_string()) c.roles.emplace_back(r.get_string());
    }
  }
  if (const auto* exp = o.if_contains("exp")) {
    // Beyond int64 (a uint64, or a double such as 1e400 = inf) is clamped rather than cast:
    // the cast wrapped a far-future exp to "expired", and for a double it is undefined behaviour
    // (found by fuzz/token_claims). A NaN is no exp at all.
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
    if (exp->is_int64()) {
      c.expires_at = exp->get_int64();
    } else if (exp->is_uint64()) {
      c.expires_at = static_cast<std::int64_t>(
          std::min<std::uint64_t>(exp->get_uint64(), static_cast<std::uint64_t>(kMax)));
    } else if (exp->is_double() && !std::isnan(exp->get_double())) {
      const double d = exp->get_double();
      c.expires_at = d >= 0x1p63 ? kMax : d < -0x1p63 ? kMin : static_cast<std::int64_t>(d);
    }
  }
  c.audience = string_claim(o, "aud");
  c.account = string_claim(o, "upn");
  if (c.account.empty()) c.account = string_claim(o, "unique_name");
  if (c.account.empty()) c.account = string_claim(o, "preferred_username");
  c.tenant = string_claim(o, "tid");
  return c;
}

Status check_token(const AccessToken& token, std::string_view operation, TokenUse use,
                   std::int64_t now_epoch_seconds) {
  const auto claims = decode_token_claims(token.value);
  if (!claims) return ok_status();
  if (use == TokenUse::kDelegatedOnly && claims->app_only()) {
    return Error::auth(
        "the token from " + token.source +
            " is an app-only token (it carries application roles "
            "and no delegated scopes); Microsoft Graph accepts only delegated user tokens to " +
            std::string(operation),
        "sign in as a user and use a token with the delegated permission "
        "Group-Conversation.ReadWrite.All or Group.ReadWrite.All; client secrets, certificates, "
        "managed identities and service principals cannot post to group conversations");
  }
  if (claims->expires_at && *claims->expires_at <= now_epoch_seconds) {
    return Error::auth("the token from " + token.source + " expired at " +
                           utc_timestamp(*claims->expires_at) + " (" +
                           format_ago(now_epoch_seconds - *claims->expires_at) + ")",
                       "get a fresh token; access tokens live about an hour");
  }
  return ok_status();
}

std::vector<std::string> token_warnings(const AccessToken& token) {
  std::vector<std::string> out;
  const auto claims = decode_token_claims(token.value);
  if (!claims) return out;
  if (!claims->scopes.empty() && !has_scope(claims->scopes, "Group-Conversation.ReadWrite.All") &&
      !has_scope(claims->scopes, "Group.ReadWrite.All")) {
    std::string scopes;
    for (const auto& s : claims->scopes) scopes += (scopes.empty() ? "" : " ") + s;
    out.push_back("the token's scopes (" + scopes +
                  ") include neither Group-Conversation.ReadWrite.All nor Group.ReadWrite.All; "
                  "Graph will probably answer 403");
  }
  const std::string& aud = claims->audience;
  if (!aud.empty() && aud != "00000003-0000-0000-c000-000000000000" &&
      aud.find("graph.microsoft") == std::string::npos &&
      aud.find("microsoftgraph.chinacloudapi.cn") == std::string::npos) {
    out.push_back("the token's audience is " + aud +
                  ", not Microsoft Graph; Graph will probably answer 401");
  }
  return out;
}

std::string scrub_secrets(std::string text, const std::vector<std::string_view>& secrets) {
  // Shorter secrets are not searched for: replacing every "ab" would garble the text while
  // protecting nothing real (this is a second line of defence, not the first).
  constexpr std::size_t kMinScrubbedSecret = 4;
  constexpr std::string_view kRedacted = "[redacted]";
  for (const std::string_view secret : secrets) {
    if (secret.size() < kMinScrubbedSecret) continue;
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  return text;
}

std::string redact_token(std::string_view token) {
  // Not even a prefix: every Graph token starts with "eyJ0", so a prefix would only ever reveal
  // something about tokens that are not JWTs, which may be secrets of another shape.
  return token.empty() ? "[none]" : "[redacted]";
}

}  // namespace gt
