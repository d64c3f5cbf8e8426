#include "gt/url.hpp"

#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>

#include "gt/ascii.hpp"

namespace gt {

namespace {

Error bad_url(std::string_view what, std::string_view text, std::string_view why) {
  return Error::usage(std::string(what) + " \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string BaseUrl::origin() const {
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://" + (ipv6 ? "[" + host + "]" : host);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

bool is_loopback_host(std::string_view host_in) {
  std::string host = ascii_lowered(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return true;
  if (host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (!host.starts_with("127.")) return false;
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    const std::size_t dot = host.find('.', i);
    const std::string_view part =
        std::string_view(host).substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size() || value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

Result<BaseUrl> parse_base_url(std::string_view text, std::string_view what) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    return bad_url(what, text, "not an absolute URL (expected e.g. https://graph.microsoft.com)");
  }
  const boost::urls::url_view u = *parsed;
  BaseUrl out;
  out.scheme = ascii_lowered(u.scheme());
  if (out.scheme != "https" && out.scheme != "http") {
    return bad_url(what, text, "scheme must be https (or http for a loopback test server)");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return bad_url(what, text, "missing host");
  if (u.has_userinfo()) {
    return bad_url(what, text,
                   "must not contain user:password@ (credentials never belong in a URL)");
  }
  if (u.has_query() || u.has_fragment()) {
    return bad_url(what, text, "must not contain a query (?...) or fragment (#...)");
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = ascii_lowered(u.host_address());
  } else {
    // The host becomes the Host header, the TLS server name and the DNS query as it is. Boost.URL
    // percent-decodes it, so "%0d%0a", "%2F" or "%20" would smuggle a line break, a path or a
    // space into all three: only letters, digits, '-', '.' and '_' are a host name here.
    const std::string_view encoded(u.encoded_host().data(), u.encoded_host().size());
    const bool plain = encoded.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") ==
                       std::string_view::npos;
    if (!plain) {
      return bad_url(what, text,
                     "the host may contain only letters, digits, '-', '.' and '_' (no %-escapes)");
    }
    out.host = ascii_lowered(u.host());
  }
  out.port = out.is_https() ? 443 : 80;
  if (u.has_port()) {
    const auto port_text = u.port();
    unsigned value = 0;
    const auto [p, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
        value == 0 || value > 65535) {
      return bad_url(what, text, "port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  std::string path(u.encoded_path());
  if (!path.empty() && path.front() != '/') {
    // Boost.URL 1.81 reads "http://127.0.0.1.evil.example" as host 127.0.0.1 + path
    // ".evil.example"; an authority is always followed by "/" or nothing, so refuse it.
    return bad_url(what, text, "unexpected text \"" + path + "\" after the host");
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.find("/../") != std::string::npos || path.ends_with("/..") ||
      path.find("/./") != std::string::npos || path.ends_with("/.")) {
    return bad_url(what, text, "path must not contain . or .. segments");
  }
  out.path_prefix = path;
  if (!out.is_https() && !is_loopback_host(out.host)) {
    // A bearer token in clear text across a network is a credential leak, whatever the user meant.
    return bad_url(what, text,
                   "plain http:// is only allowed for loopback hosts (localhost, 127.0.0.1, ::1); "
                   "use https://");
  }
  return out;
}

std::optional<Cloud> parse_cloud(std::string_view name) {
  const std::string n = ascii_lowered(name);
  if (n == "global") return Cloud::kGlobal;
  if (n == "usgov") return Cloud::kUsGov;
  if (n == "dod") return Cloud::kDod;
  if (n == "china") return Cloud::kChina;
  return std::nullopt;
}

const char* cloud_name(Cloud cloud) {
  switch (cloud) {
    case Cloud::kGlobal:
      return "global";
    case Cloud::kUsGov:
      return "usgov";
    case Cloud::kDod:
      return "dod";
    case Cloud::kChina:
      return "china";
  }
  return "global";
}

const char* graph_root(Cloud cloud) {
  switch (cloud) {
    case Cloud::kGlobal:
      return "https://graph.microsoft.com";
    case Cloud::kUsGov:
      return "https://graph.microsoft.us";
    case Cloud::kDod:
      return "https://dod-graph.microsoft.us";
    case Cloud::kChina:
      return "https://microsoftgraph.chinacloudapi.cn";
  }
  return "https://graph.microsoft.com";
}

namespace {

// RFC 3986's unreserved bytes: A-Z a-z 0-9 - . _ ~
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
  }
  return table;
}();

// encode_path_segment, appended to `out`: runs of bytes that stay as they are are copied at once.
void append_path_segment(std::string& out, std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool only_dots = !segment.empty() && segment.find_first_not_of('.') == std::string::npos;
  if (only_dots) {  // "." and ".." would climb: every dot is encoded
    for (std::size_t i = 0; i < segment.size(); ++i) out += "%2E";
    return;
  }
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < segment.size(); ++i) {
    const auto c = static_cast<unsigned char>(segment[i]);
    if (kUnreserved[c]) continue;
    out.append(segment.data() + run, i - run);
    run = i + 1;
    const char escape[3] = {'%', kHex[c >> 4], kHex[c & 0x0f]};
    out.append(escape, sizeof escape);
  }
  out.append(segment.data() + run, segment.size() - run);
}

}  // namespace

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size() * 3);
  append_path_segment(out, segment);
  return out;
}

// Built in one buffer: this runs for every request of a bulk run.
std::string threads_path(const BaseUrl& base, std::string_view api_version,
                         std::string_view group_id) {
  static constexpr std::string_view kGroups = "/groups/";
  static constexpr std::string_view kThreads = "/threads";
  std::string out;
  out.reserve(base.path_prefix.size() + 1 + api_version.size() + kGroups.size() +
              group_id.size() * 3 + kThreads.size());
  out += base.path_prefix;
  out += '/';
  out += api_version;
  out += kGroups;
  append_path_segment(out, group_id);
  out += kThreads;
  return out;
}

std::string thread_path(const BaseUrl& base, std::string_view api_version,
                        std::string_view group_id, std::string_view thread_id) {
  return threads_path(base, api_version, group_id) + "/" + encode_path_segment(thread_id);
}

}  // namespace gt
