// gt/proxy: whether a request goes through an HTTP proxy, and which — curl's rules for the proxy
// environment variables, plus the --proxy and --no-proxy flags. Pure: no I/O and no sockets. The
// HTTPS clients ask choose_proxy() per request, by the request URL's scheme and host, so the Graph
// host and the login host follow the same rules through one transport.
//
// Which variable applies (the first one SET wins, even when it is set to ""; "" means "no proxy"):
//   https:// URLs  https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY
//   http:// URLs   http_proxy, all_proxy, ALL_PROXY
// Upper-case HTTP_PROXY is never read (as in curl: CGI servers put the client's "Proxy:" header in
// HTTP_PROXY, "httpoxy"). --proxy replaces all of them; --no-proxy ignores all of them (and
// NO_PROXY); giving both is a usage error.
//
// NO_PROXY (no_proxy first; the first one set wins) applies to --proxy too, as in curl. It is a
// list separated by commas and/or spaces, matched case-insensitively:
//   *                   every host
//   example.com         example.com and every subdomain (a.example.com); a leading "." is
//   .example.com        optional, so both forms mean the same ("*.example.com" too); a trailing
//                       "." is ignored
//   10.1.2.3, ::1       that IP literal exactly (IPv6 with or without [brackets])
//   10.0.0.0/8, fd00::/8  a CIDR range (IP literals only; host names are never resolved)
//   host:443, [::1]:8443  that host (or range) on that port only
// Loopback hosts are NOT bypassed unless NO_PROXY says so (curl does the same).
//
// Proxy URLs: [http://][user[:password]@]host[:port]. No scheme means http://; the default port is
// 1080 (curl's). The user name and password are percent-decoded. A path is ignored (as curl does);
// a query or fragment is an error. https:// (TLS to the proxy) and socks4/4a/5/5h proxies are not
// supported and are usage errors naming the flag or variable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gt/error.hpp"

namespace gt {

// One HTTP proxy, reached over plain TCP; requests to https:// origins go through it with
// CONNECT.
struct ProxyConfig {
  std::string host;  // lower case; IPv6 literals without brackets
  std::uint16_t port = 1080;
  std::optional<std::string> username;  // percent-decoded; nullopt when the URL had no userinfo
  std::string password;                 // percent-decoded; "" when none was given
  std::string source;                   // "--proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", ...
  bool operator==(const ProxyConfig&) const = default;

  // "host:port" ("[v6]:port"), for messages.
  std::string host_port() const;
  // "http://user:***@host:port" (the password, when there is one, is never shown), or
  // "http://host:port". Safe to print and log; also the key connections are pooled by.
  std::string display() const;
  // The Proxy-Authorization value: "Basic base64(user:password)", or "" without a username.
  // A credential: never print or log it.
  std::string basic_authorization() const;
};

// Parses a proxy URL (see above). `source` names the flag or variable for messages. Fails (kUsage)
// with a message that names `source` and never repeats the password.
Result<ProxyConfig> parse_proxy_url(std::string_view text, std::string_view source);

// Looks an environment variable up; nullopt when unset ("" when set but empty).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct ProxyFlags {
  std::optional<std::string> proxy;  // --proxy URL
  bool no_proxy = false;             // --no-proxy
};

// The resolved proxy configuration: what choose_proxy() consults per request.
struct ProxySettings {
  // Per URL scheme: the proxy that applies before NO_PROXY (nullopt: go direct), or why the flag
  // or variable that applies is unusable (error non-empty; proxy then nullopt).
  struct ForScheme {
    std::optional<ProxyConfig> proxy;
    std::string error;
    bool operator==(const ForScheme&) const = default;
  };
  ForScheme http;
  ForScheme https;
  std::string no_proxy;         // the NO_PROXY list in force ("" for none)
  std::string no_proxy_source;  // "no_proxy", "NO_PROXY" or "" when neither is set
  bool operator==(const ProxySettings&) const = default;
};

// Reads the flags and the variables. Fails (kUsage) when --proxy and --no-proxy are both given or
// --proxy is not a usable proxy URL. An unusable VARIABLE is not an error here: it is recorded for
// the scheme it applies to (so all_proxy=socks5://… does not break https when https_proxy is set);
// check_proxy() reports it for the schemes a command will use.
Result<ProxySettings> resolve_proxy_settings(const ProxyFlags& flags, const EnvLookup& env);

// kUsage naming the variable when the proxy configuration for `scheme` ("https"/"http") is
// unusable; ok otherwise.
Status check_proxy(const ProxySettings& settings, std::string_view scheme);

// Whether the NO_PROXY list `list` exempts `host` (no brackets needed for IPv6; case-insensitive)
// on `port` from the proxy.
bool no_proxy_matches(std::string_view list, std::string_view host, std::uint16_t port);

// The proxy a request to scheme://host:port goes through, or nullopt to connect directly (no proxy
// configured for the scheme, or NO_PROXY exempts the host).
// REQUIRES: check_proxy(settings, scheme) is ok (an unusable configuration yields nullopt).
std::optional<ProxyConfig> choose_proxy(std::string_view scheme, std::string_view host,
                                        std::uint16_t port, const ProxySettings& settings);

// "https://user:***@proxy:8080/" for a proxy URL as the user wrote it: the password between
// "user:" and "@" replaced by ***. For messages about URLs that did not parse.
std::string redact_proxy_url(std::string_view text);

}  // namespace gt
