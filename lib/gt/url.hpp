// gt/url: the Graph base URL, national clouds and safe path building.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gt/error.hpp"

namespace gt {

// A parsed --base-url. Only http and https; no userinfo, query or fragment. The path prefix has no
// trailing slash ("" for "https://graph.microsoft.com", "/graph" for "https://gw.example/graph/").
struct BaseUrl {
  std::string scheme;  // "https" or "http"
  std::string host;    // as written, without brackets for IPv6 literals
  std::uint16_t port = 443;
  std::string path_prefix;
  bool operator==(const BaseUrl&) const = default;

  bool is_https() const { return scheme == "https"; }
  // "https://host[:port]" (port omitted when it is the scheme's default).
  std::string origin() const;
};

// Parses a base URL. `what` names its origin ("--base-url", "GRAPH_BASE_URL") for messages.
// Fails (kUsage) on an unsupported scheme, missing host, userinfo, query, fragment, a bad port, or
// plain http:// to a host that is not loopback: a bearer token must never cross the network in
// clear text.
Result<BaseUrl> parse_base_url(std::string_view text, std::string_view what);

// True for "localhost", names ending in ".localhost", 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

// National clouds (GRAPH-API.md section 6).
enum class Cloud { kGlobal, kUsGov, kDod, kChina };
std::optional<Cloud> parse_cloud(std::string_view name);  // "global" | "usgov" | "dod" | "china"
const char* cloud_name(Cloud cloud);
const char* graph_root(Cloud cloud);  // e.g. "https://graph.microsoft.com"

// Percent-encodes `segment` so that it is exactly one path segment: every byte outside RFC 3986's
// unreserved set (A-Z a-z 0-9 - . _ ~) becomes %XX, and a segment made only of dots ("." or "..")
// has its dots encoded too, so no input can add, remove or climb path segments.
std::string encode_path_segment(std::string_view segment);

// "{prefix}/{api_version}/groups/{encoded group}/threads"
std::string threads_path(const BaseUrl& base, std::string_view api_version,
                         std::string_view group_id);

// "{prefix}/{api_version}/groups/{encoded group}/threads/{encoded thread}": the thread id is one
// segment too (Graph's ids are base64 with '/', '+' and '=').
std::string thread_path(const BaseUrl& base, std::string_view api_version,
                        std::string_view group_id, std::string_view thread_id);

}  // namespace gt
