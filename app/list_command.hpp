// app/list_command: `graph-threads list` — the threads of a group, newest first, page by page.
#pragma once

#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace gt::app {

struct ListOptions {
  std::string group;
  int top = 0;         // $top (page size); 0 = Graph's default
  bool all = false;    // follow @odata.nextLink to the end
  std::string select;  // --select a,b: Graph's $select, and the table/tsv columns; "" = none
};

CLI::App* setup_list(CLI::App& app, ListOptions& options);

// GET /groups/{id}/threads (and each @odata.nextLink with --all), printing rows as pages arrive
// (json, ndjson, tsv and id stream; table lines up columns at the end). Without --all only the
// first page is printed, and a note on a terminal says that more exist. --jq runs once over the
// whole array (buffered, like gh), or with -o ndjson once per thread as pages arrive. Returns the
// exit code.
int run_list(const ListOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
             Deps& deps);

}  // namespace gt::app
