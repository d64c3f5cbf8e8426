// app/doctor_command: `graph-threads doctor [--group ID]` — checks, in order, what a command needs
// to reach Microsoft Graph, and says where it breaks:
//
//   config     flags and variables (names only), the Graph root and where it came from, cloud, API
//              version, login host, trust store (--cacert, SSL_CERT_FILE, SSL_CERT_DIR)
//   proxy      the proxy (or none) for the Graph host and for the login host (gt/proxy, as
//              --proxy, --no-proxy and the variables choose)
//   dns        the Graph host's addresses (the proxy's, when one is chosen)
//   tcp        a connection to it; through a proxy, also its CONNECT tunnel to the Graph host
//   tls        protocol, cipher, the certificate's subject, issuer and expiry, and verification
//              (inside the tunnel, with the Graph host, through a proxy)
//   token      source (as gt/token_chain names it), account, tenant, scopes or roles, expiry,
//              delegated or app-only
//   graph /me  GET /me: Graph accepts the token (skipped for app-only tokens: no signed-in user)
//   group      with --group: GET /groups/{id}/threads?$top=1, the call graph-threads relies on
//
// Each check prints one line: pass, warn, fail or skip, the time it took, and what it found; a
// failure adds what went wrong and a hint. The first hard failure stops the run: later checks are
// "skip" and the exit code is that failure's (gt/error: 2 config, 3 token or access, 4 network or
// TLS, 1 Graph error, 130 interrupted). An app-only token is a failure for creating threads but not
// a hard one: the rest still runs, and the exit code is 3. The report goes to stdout (it is this
// command's output): plain text, coloured only on a terminal; -o json for a support ticket. No
// token, password or secret appears in either.
#pragma once

#include <string>

#include "app/deps.hpp"
#include "app/env.hpp"
#include "app/global_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace gt::app {

struct DoctorOptions {
  std::string group;  // --group: also check access to this group's threads
};

CLI::App* setup_doctor(CLI::App& app, DoctorOptions& options);

// Runs the checks and prints the report. Returns 0 when nothing failed, else the exit code of the
// first hard failure (or of the app-only token).
int run_doctor(const DoctorOptions& options, const GlobalOptions& globals, Io& io, const Env& env,
               Deps& deps);

}  // namespace gt::app
