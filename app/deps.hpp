// app/deps: the capabilities commands need, handed in lazily. Nothing here is built until a command
// asks for it, so --help, --version, usage errors and --dry-run never create a TLS context.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gt/clock.hpp"
#include "gt/error.hpp"
#include "gt/exchange_loop.hpp"
#include "gt/http.hpp"
#include "gt/probe.hpp"
#include "gt/proxy.hpp"

namespace gt::app {

struct TransportConfig {
  std::string cacert_file;  // --cacert; "" for the system store only
  ProxySettings proxy;      // which requests go through an HTTP proxy, per request host
};

struct Deps {
  Clock& clock;
  // Builds the HTTP transport. Fails (kUsage) for an unusable --cacert.
  std::function<Result<std::unique_ptr<Transport>>(const TransportConfig&)> make_transport;
  std::function<std::string()> new_request_id;
  std::function<double()> jitter;  // [0, 1)
  // Runs a program found on PATH (argv[0]) and returns its stdout, or nullopt when it is not
  // installed, fails, or runs longer than a minute. Used for `az account get-access-token`.
  std::function<std::optional<std::string>(const std::vector<std::string>& argv)> run_command;
  // Builds the event loop bulk creation runs on (many requests at once on one thread). Fails
  // (kUsage) for an unusable --cacert.
  std::function<Result<std::unique_ptr<ExchangeLoop>>(const TransportConfig&)> make_exchange_loop;
  // `graph-threads doctor`: resolves, connects and (request.tls) shakes hands with a host the way
  // the transport would, with the trust store `config` gives, and reports each step (gt/probe).
  // Fails (kUsage) for an unusable --cacert.
  std::function<Result<ConnectionProbe>(const TransportConfig&, const ProbeRequest&)> probe;
};

// The real capabilities: BeastTransport (and its probe), BeastExchangeLoop, SystemClock, random
// UUIDs. Defined in real_deps.cpp, the only app file that names BeastTransport; linked into the
// executable only.
Deps make_real_deps();

}  // namespace gt::app
