#include "gt/proxy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <cstring>
#include <vector>

#include "gt/ascii.hpp"
#include "gt/crypto.hpp"

namespace gt {

namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// An IP literal as bytes: 4 for IPv4, 16 for IPv6.
struct IpBytes {
  std::array<unsigned char, 16> b{};
  std::size_t size = 0;
};

std::optional<IpBytes> parse_ip(std::string_view text_in) {
  std::string text(text_in);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  IpBytes ip;
  if (::inet_pton(AF_INET, text.c_str(), ip.b.data()) == 1) {
    ip.size = 4;
    return ip;
  }
  if (::inet_pton(AF_INET6, text.c_str(), ip.b.data()) == 1) {
    ip.size = 16;
    return ip;
  }
  return std::nullopt;
}

// Whether the first `bits` bits of a and b agree (same family required).
bool same_prefix(const IpBytes& a, const IpBytes& b, unsigned bits) {
  if (a.size != b.size || bits > a.size * 8) return false;
  const std::size_t whole = bits / 8;
  if (std::memcmp(a.b.data(), b.b.data(), whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a.b[whole] & mask) == (b.b[whole] & mask);
}

// One NO_PROXY entry, parsed.
struct NoProxyEntry {
  bool all = false;
  std::optional<IpBytes> ip;  // an IP literal or range
  unsigned prefix_bits = 0;   // for ip: the bits that must agree
  std::string name;           // a host name (lower case, no leading or trailing dot)
  std::optional<std::uint16_t> port;
};

NoProxyEntry parse_entry(std::string_view text) {
  NoProxyEntry e;
  if (text == "*") {
    e.all = true;
    return e;
  }
  // ":port" follows "]" in a bracketed IPv6 literal; otherwise it is the only colon (a bare IPv6
  // literal has two or more colons and cannot carry a port).
  std::string_view host = text;
  std::size_t colon = std::string_view::npos;
  if (text.front() == '[') {
    if (const auto close = text.find(']'); close != std::string_view::npos) {
      colon = text.find(':', close);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    colon = text.find(':');
  }
  if (colon != std::string_view::npos) {
    e.port = parse_port(text.substr(colon + 1));
    if (!e.port) {
      e.name = ascii_lowered(text);  // "host:junk" matches no host a URL can name
      return e;
    }
    host = text.substr(0, colon);
  }
  std::string body;
  for (const char c : host) {
    if (c != '[' && c != ']') body += c;
  }
  // An IP literal, or a CIDR range of them.
  std::string addr = body;
  std::optional<unsigned> bits;
  bool bits_ok = true;
  if (const auto slash = body.find('/'); slash != std::string::npos) {
    addr = body.substr(0, slash);
    unsigned v = 0;
    const std::string_view b = std::string_view(body).substr(slash + 1);
    const auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), v);
    bits_ok = !b.empty() && ec == std::errc() && p == b.data() + b.size();
    bits = v;
  }
  if (auto ip = parse_ip(addr); ip && bits_ok) {
    const unsigned max = static_cast<unsigned>(ip->size * 8);
    if (!bits || *bits <= max) {
      e.ip = *ip;
      e.prefix_bits = bits.value_or(max);
      return e;
    }
  }
  std::string name = ascii_lowered(body);
  if (name.starts_with("*.")) name.erase(0, 1);  // "*.example.com" is read as ".example.com"
  while (name.starts_with(".")) name.erase(0, 1);
  while (name.ends_with(".")) name.pop_back();
  e.name = name;
  return e;
}

bool entry_matches(const NoProxyEntry& e, const std::string& host,
                   const std::optional<IpBytes>& host_ip, std::uint16_t port) {
  if (e.all) return true;
  if (e.port && *e.port != port) return false;
  if (e.ip) return host_ip && same_prefix(*e.ip, *host_ip, e.prefix_bits);
  if (e.name.empty() || host_ip) return false;
  if (host == e.name) return true;
  return host.size() > e.name.size() && host.ends_with(e.name) &&
         host[host.size() - e.name.size() - 1] == '.';
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

Error bad_proxy(std::string_view source, std::string_view text, std::string_view why) {
  return Error::usage(std::string(source) + " \"" + redact_proxy_url(text) +
                      "\": " + std::string(why));
}

// The first of `names` that is set, with its value.
std::optional<std::pair<std::string, std::string>> first_set(
    const EnvLookup& env, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (auto v = env(n)) return std::make_pair(std::string(n), std::move(*v));
  }
  return std::nullopt;
}

ProxySettings::ForScheme from_env(const EnvLookup& env, std::initializer_list<const char*> names) {
  ProxySettings::ForScheme out;
  const auto found = first_set(env, names);
  if (!found || found->second.empty()) return out;  // unset, or set to "": go direct
  auto parsed = parse_proxy_url(found->second, found->first);
  if (parsed) {
    out.proxy = std::move(parsed).value();
  } else {
    out.error = parsed.error().message;
  }
  return out;
}

}  // namespace

std::string ProxyConfig::host_port() const {
  return bracketed(host) + ":" + std::to_string(port);
}

std::string ProxyConfig::display() const {
  std::string out = "http://";
  if (username) out += *username + (password.empty() ? "@" : ":***@");
  return out + host_port();
}

std::string ProxyConfig::basic_authorization() const {
  if (!username) return "";
  // Standard base64 (RFC 7617 uses RFC 4648 section 4) from the URL-safe alphabet.
  std::string b64 = base64url_encode(*username + ":" + password);
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4 != 0) b64 += '=';
  return "Basic " + b64;
}

std::string redact_proxy_url(std::string_view text) {
  const auto scheme_end = text.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto auth_end = text.find_first_of("/?#", start);
  const std::string_view authority =
      text.substr(start, auth_end == std::string_view::npos ? auth_end : auth_end - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, start + colon + 1)) + "***" +
         std::string(text.substr(start + at));
}

Result<ProxyConfig> parse_proxy_url(std::string_view text, std::string_view source) {
  std::string url(text);
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    url = "http://" + url;  // curl: no scheme means an HTTP proxy
  } else {
    const std::string scheme = ascii_lowered(url.substr(0, scheme_end));
    if (scheme == "https") {
      return bad_proxy(source, text,
                       "https:// proxies (TLS to the proxy) are not supported; use an http:// "
                       "proxy (requests to https:// hosts are still encrypted end to end)");
    }
    if (scheme.starts_with("socks")) {
      return bad_proxy(source, text, "SOCKS proxies are not supported; use an http:// proxy");
    }
    if (scheme != "http") {
      return bad_proxy(source, text,
                       "unsupported proxy scheme \"" + scheme +
                           "\" (expected http://[user:password@]host[:port])");
    }
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return bad_proxy(source, text, "not a proxy URL (expected http://[user:password@]host[:port])");
  }
  const boost::urls::url_view u = *parsed;
  if (!u.has_authority() || u.encoded_host().empty())
    return bad_proxy(source, text, "missing host");
  if (u.has_query() || u.has_fragment()) {
    return bad_proxy(source, text, "must not contain a query (?...) or fragment (#...)");
  }
  ProxyConfig out;
  out.source = std::string(source);
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = ascii_lowered(u.host_address());
  } else {
    // The host goes to DNS as it is: no %-escapes, spaces or control characters.
    const std::string_view encoded(u.encoded_host().data(), u.encoded_host().size());
    if (encoded.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
        std::string_view::npos) {
      return bad_proxy(source, text, "the host may contain only letters, digits, '-', '.' and '_'");
    }
    out.host = ascii_lowered(u.host());
  }
  if (u.has_port()) {
    const auto port = parse_port(u.port());
    if (!port) return bad_proxy(source, text, "port must be a number from 1 to 65535");
    out.port = *port;
  }
  const std::string_view path(u.encoded_path().data(), u.encoded_path().size());
  if (!path.empty() && path.front() != '/') {
    // Boost.URL reads "http://1.2.3.4.evil:8080" oddly; an authority is followed by "/" or nothing.
    return bad_proxy(source, text, "unexpected text after the host");
  }
  if (u.has_userinfo()) {
    out.username = u.user();
    out.password = u.password();
    const auto control = [](const std::string& s) {
      for (const unsigned char c : s) {
        if (c < 0x20 || c == 0x7F) return true;
      }
      return false;
    };
    if (control(*out.username) || control(out.password)) {
      return bad_proxy(source, text, "the user name or password contains a control character");
    }
  }
  return out;
}

Result<ProxySettings> resolve_proxy_settings(const ProxyFlags& flags, const EnvLookup& env) {
  ProxySettings s;
  if (flags.no_proxy) {
    if (flags.proxy) {
      return Error::usage(
          "--proxy and --no-proxy contradict each other; give --proxy URL to use a proxy or "
          "--no-proxy to ignore the proxy variables");
    }
    return s;
  }
  if (flags.proxy) {
    if (flags.proxy->empty()) {
      return Error::usage(
          "--proxy: expected http://[user:password@]host[:port] (use --no-proxy for no proxy)");
    }
    auto p = parse_proxy_url(*flags.proxy, "--proxy");
    if (!p) return std::move(p).error();
    s.http.proxy = *p;
    s.https.proxy = std::move(p).value();
  } else {
    // http_proxy has no upper-case twin: HTTP_PROXY can be set by a request header under CGI.
    s.http = from_env(env, {"http_proxy", "all_proxy", "ALL_PROXY"});
    s.https = from_env(env, {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  }
  if (auto np = first_set(env, {"no_proxy", "NO_PROXY"})) {
    s.no_proxy_source = np->first;
    s.no_proxy = np->second;
  }
  return s;
}

Status check_proxy(const ProxySettings& settings, std::string_view scheme) {
  const auto& f = scheme == "http" ? settings.http : settings.https;
  if (!f.error.empty()) return Error::usage(f.error);
  return ok_status();
}

bool no_proxy_matches(std::string_view list, std::string_view host_in, std::uint16_t port) {
  std::string host = ascii_lowered(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  while (host.ends_with(".")) host.pop_back();
  const auto host_ip = parse_ip(host);
  std::size_t i = 0;
  while (i < list.size()) {
    const auto start = list.find_first_not_of(", \t", i);
    if (start == std::string_view::npos) break;
    auto end = list.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = list.size();
    if (entry_matches(parse_entry(list.substr(start, end - start)), host, host_ip, port)) {
      return true;
    }
    i = end;
  }
  return false;
}

std::optional<ProxyConfig> choose_proxy(std::string_view scheme, std::string_view host,
                                        std::uint16_t port, const ProxySettings& settings) {
  const auto& f = scheme == "http" ? settings.http : settings.https;
  if (!f.proxy) return std::nullopt;
  if (no_proxy_matches(settings.no_proxy, host, port)) return std::nullopt;
  return f.proxy;
}

}  // namespace gt
