#include "app/global_options.hpp"

#include <CLI/CLI.hpp>
#include <cmath>

#include "app/validators.hpp"

namespace gt::app {

void add_global_options(CLI::App& app, GlobalOptions& o) {
  const std::string auth = "Authentication";
  const std::string conn = "Connection";
  const std::string out = "Output";
  app.add_option("--token", o.token,
                 "Access token (other users can see command lines: prefer "
                 "--token-file or GRAPH_TOKEN)")
      ->type_name("TOKEN")
      ->group(auth);
  app.add_option("--token-file", o.token_file, "Read the access token from FILE (- for stdin)")
      ->type_name("FILE")
      ->group(auth);
  o.base_url_opt = app.add_option("--base-url", o.base_url,
                                  "Graph root URL (default https://graph.microsoft.com)")
                       ->type_name("URL")
                       ->group(conn);
  o.cloud_opt = app.add_option("--cloud", o.cloud,
                               "Use a national cloud's Graph root: global, usgov, dod, china")
                    ->type_name("CLOUD")
                    ->check(one_of({"global", "usgov", "dod", "china"}))
                    ->group(conn);
  app.add_option("--api-version", o.api_version, "Graph API version: v1.0 or beta (default v1.0)")
      ->type_name("VERSION")
      ->check(one_of({"v1.0", "beta"}))
      ->group(conn);
  app.add_option("--cacert", o.cacert, "Also trust the CA certificates in this PEM file")
      ->type_name("FILE")
      ->group(conn);
  o.proxy_opt =
      app.add_option("--proxy", o.proxy,
                     "HTTP proxy http://[user:pass@]host[:port]; replaces HTTPS_PROXY etc.")
          ->type_name("URL")
          ->group(conn);
  app.add_flag("--no-proxy", o.no_proxy, "Connect directly: ignore HTTPS_PROXY, NO_PROXY etc.")
      ->group(conn);
  app.add_option("--timeout", o.timeout_seconds,
                 "Time limit for the whole command, retries included (default 60)")
      ->type_name("SECONDS")
      ->check(positive_seconds())
      ->group(conn);
  app.add_option("--retries", o.retries,
                 "Retries after 429/503 or a failed connection, 0-10 (default 3)")
      ->type_name("N")
      ->check(CLI::Range(0, 10).description(""))
      ->group(conn);
  app.add_option("-o,--output", o.output,
                 "json, table, id, ndjson or tsv (default: table on a terminal, else json)")
      ->type_name("FORMAT")
      ->check(one_of(output_format_names()))
      ->group(out);
  app.add_option("--jq", o.jq,
                 "Filter JSON output with a jq program; strings print raw, one result a line")
      ->type_name("EXPR")
      ->group(out);
  app.add_flag("--dry-run", o.dry_run, "Print the request (token redacted), send nothing")
      ->group(out);
  app.add_flag("-v,--verbose", o.verbose, "Log each attempt on stderr (token redacted)")
      ->group(out);
  app.add_flag("--debug", o.debug,
               "Log every HTTP request and response in full on stderr, secrets redacted "
               "(implies --verbose; also GRAPH_THREADS_DEBUG=1)")
      ->group(out);
}

Result<Settings> resolve_settings(const GlobalOptions& o, const Env& env, const Io& io) {
  Settings s;
  const bool base_given = o.base_url_opt && o.base_url_opt->count() > 0;
  const bool cloud_given = o.cloud_opt && o.cloud_opt->count() > 0;
  if (base_given && cloud_given) {
    return Error::usage("--base-url and --cloud both choose the Graph root; give one of them");
  }
  std::string url;
  if (base_given) {
    url = o.base_url;
    s.base_source = "--base-url";
  } else if (cloud_given) {
    s.cloud = *parse_cloud(o.cloud);
    url = graph_root(s.cloud);
    s.base_source = "--cloud " + o.cloud;
  } else if (auto v = env.get("GRAPH_BASE_URL"); v && !v->empty()) {
    url = *v;
    s.base_source = "GRAPH_BASE_URL";
  } else {
    url = graph_root(Cloud::kGlobal);
    s.base_source = "default";
  }
  auto base = parse_base_url(url, s.base_source == "default" ? "base URL" : s.base_source);
  if (!base) return std::move(base).error();
  s.base = std::move(base).value();
  s.api_version = o.api_version;
  s.output_given = !o.output.empty();
  s.output = o.output.empty() ? (io.out_is_tty ? OutputFormat::kTable : OutputFormat::kJson)
                              : *parse_output_format(o.output);
  if (!o.jq.empty()) {
    // Like gh, --jq works on JSON only: it replaces the table default, and an explicit
    // non-JSON format contradicts it.
    if (s.output_given && s.output != OutputFormat::kJson && s.output != OutputFormat::kNdjson) {
      return Error::usage("--jq filters JSON: it cannot be combined with --output " + o.output +
                          " (use --output json or ndjson, or leave --output out)");
    }
    if (!s.output_given) s.output = OutputFormat::kJson;
    auto jq = JqFilter::compile(o.jq);
    if (!jq) return std::move(jq).error();
    s.jq = std::make_shared<JqFilter>(std::move(jq).value());
  }
  s.format.pretty_json = io.out_is_tty;
  s.format.color = io.out_color;
  s.format.width = io.out_is_tty ? io.out_width : 0;
  s.dry_run = o.dry_run;
  const auto debug_env = env.get("GRAPH_THREADS_DEBUG");
  s.debug = o.debug || (debug_env && !debug_env->empty() && *debug_env != "0");
  s.verbose = o.verbose || s.debug;
  s.timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_seconds));
  s.retries = o.retries;
  s.cacert = o.cacert;
  const bool proxy_given = o.proxy_opt && o.proxy_opt->count() > 0;
  auto proxy = resolve_proxy_settings(
      {.proxy = proxy_given ? std::optional<std::string>(o.proxy) : std::nullopt,
       .no_proxy = o.no_proxy},
      [&env](std::string_view name) { return env.get(name); });
  if (!proxy) return std::move(proxy).error();
  s.proxy = std::move(proxy).value();
  if (auto usable = check_proxy(s.proxy, s.base.scheme); !usable) return std::move(usable).error();
  return s;
}

Result<std::optional<AccessToken>> resolve_token(const GlobalOptions& o, const Env& env, Io& io) {
  if (!o.token.empty() && !o.token_file.empty()) {
    return Error::usage("--token and --token-file both give the token; use one");
  }
  if (!o.token.empty()) {
    auto t = normalize_token(o.token, "--token");
    if (!t) return std::move(t).error();
    return std::optional<AccessToken>(std::move(t).value());
  }
  if (!o.token_file.empty()) {
    Result<std::string> text = o.token_file == "-"
                                   ? read_stream(io.in, "--token-file -", 64 * 1024)
                                   : env.read_file(o.token_file, "--token-file", 64 * 1024);
    if (!text) return std::move(text).error();
    auto t = normalize_token(*text, "--token-file " + o.token_file);
    if (!t) return std::move(t).error();
    return std::optional<AccessToken>(std::move(t).value());
  }
  if (auto v = env.get("GRAPH_TOKEN"); v && !v->empty()) {
    auto t = normalize_token(*v, "GRAPH_TOKEN");
    if (!t) return std::move(t).error();
    return std::optional<AccessToken>(std::move(t).value());
  }
  return std::optional<AccessToken>();
}

}  // namespace gt::app
