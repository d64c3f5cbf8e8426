// app/global_options: flags every command accepts (before or after the subcommand name), and their
// resolution against the environment into Settings that commands act on.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/env.hpp"
#include "gt/auth.hpp"
#include "gt/clock.hpp"
#include "gt/format.hpp"
#include "gt/jq_filter.hpp"
#include "gt/proxy.hpp"
#include "gt/url.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace gt::app {

// Raw flag values, as CLI11 bound them. Nothing is interpreted until resolve_settings().
struct GlobalOptions {
  std::string token;       // --token
  std::string token_file;  // --token-file FILE|-
  std::string base_url;    // --base-url
  std::string cloud;       // --cloud
  std::string api_version = "v1.0";
  std::string cacert;     // --cacert
  std::string proxy;      // --proxy URL
  bool no_proxy = false;  // --no-proxy
  std::string output;     // -o/--output; "" = table on a terminal, json otherwise
  std::string jq;         // --jq EXPR; "" = none
  bool dry_run = false;
  bool verbose = false;
  bool debug = false;  // --debug
  double timeout_seconds = 60;
  int retries = 3;

  // Set by add_global_options; used to tell "given" from "defaulted".
  CLI::Option* base_url_opt = nullptr;
  CLI::Option* cloud_opt = nullptr;
  CLI::Option* proxy_opt = nullptr;
};

void add_global_options(CLI::App& app, GlobalOptions& options);

// What the flags and environment mean, validated.
struct Settings {
  BaseUrl base;
  std::string base_source;       // "--base-url", "--cloud usgov", "GRAPH_BASE_URL", "default"
  Cloud cloud = Cloud::kGlobal;  // --cloud (global otherwise): login host and token scopes
  std::string api_version;
  OutputFormat output = OutputFormat::kJson;
  bool output_given = false;  // -o was on the command line (not the terminal/pipe default)
  FormatOptions format;
  // --jq, compiled (so a bad program is a usage error before anything is sent); null when not
  // given. With --jq, output is json (or ndjson when -o ndjson was given).
  std::shared_ptr<JqFilter> jq;
  bool dry_run = false;
  bool verbose = false;
  // --debug or GRAPH_THREADS_DEBUG (set, not "" or "0"): every HTTP exchange in full on stderr,
  // secrets redacted (gt/http_log). Implies verbose.
  bool debug = false;
  Clock::duration timeout{};
  int retries = 3;
  std::string cacert;
  ProxySettings proxy;  // --proxy/--no-proxy and the proxy variables (gt/proxy)
};

// Precedence for the Graph root: --base-url, then --cloud, then GRAPH_BASE_URL, then the global
// cloud. Both --base-url and --cloud on one command line is a usage error. Proxies: --proxy, else
// the variables, unless --no-proxy (gt/proxy); the configuration for the Graph root's scheme must
// be usable. Fails (kUsage) naming the flag or variable that is wrong, for a --jq program that does
// not compile, and for --jq with -o table, id or tsv (jq filters JSON). Colour follows
// io.out_color.
Result<Settings> resolve_settings(const GlobalOptions& options, const Env& env, const Io& io);

// The token, if any: --token, then --token-file (- reads stdin), then GRAPH_TOKEN. nullopt when
// none is configured. Fails (kUsage) for an unreadable file or a malformed token.
Result<std::optional<AccessToken>> resolve_token(const GlobalOptions& options, const Env& env,
                                                 Io& io);

}  // namespace gt::app
