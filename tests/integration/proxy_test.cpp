// End-to-end proxy tests: the real graph-threads binary through a real HTTP proxy nobody here
// wrote — Debian's tinyproxy, started per test on 127.0.0.1 with a generated configuration — to
// the emulator over TLS (test CA). tinyproxy logs every request line ("Request (file descriptor
// N): CONNECT 127.0.0.1:PORT HTTP/1.1"), which is how the tests see that a request really went
// through it, and to which origin.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "emulator/identity_service.hpp"
#include "emulator/router.hpp"
#include "emulator/server.hpp"
#include "gt/beast_exchange_loop.hpp"
#include "gt/beast_transport.hpp"
#include "support/live_server.hpp"
#include "support/net.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::test::TestPki;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// tinyproxy from PATH (scripts/install-deps installs it; CI runs that).
std::string tinyproxy_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/usr/sbin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / "tinyproxy";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// One tinyproxy in the foreground (-d) on a free 127.0.0.1 port, allowing only 127.0.0.1 as a
// client, with no ConnectPort lines (CONNECT to any port) unless `connect_ports` names some.
class TinyProxy {
 public:
  struct Options {
    std::string user;  // BasicAuth user and password; "" for none
    std::string password;
    std::vector<int> connect_ports;
  };
  explicit TinyProxy(Options o = {}) {
    const std::string exe = tinyproxy_path();
    REQUIRE_MESSAGE(!exe.empty(), "tinyproxy is not installed: run scripts/install-deps");
    port_ = gt::test::closed_port();
    std::ofstream conf(dir_.file("tinyproxy.conf"));
    conf << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\n"
         << "LogLevel Connect\nLogFile \"" << dir_.file("tinyproxy.log") << "\"\n"
         << "Allow 127.0.0.1\nDisableViaHeader Yes\n";
    if (!o.user.empty()) conf << "BasicAuth " << o.user << ' ' << o.password << '\n';
    for (const int p : o.connect_ports) conf << "ConnectPort " << p << '\n';
    conf.close();
    // As root tinyproxy warns that no User is set and carries on as root; fine for a test.
    process_ = std::make_unique<gt::test::BackgroundProcess>(
        std::vector<std::string>{exe, "-d", "-c", dir_.file("tinyproxy.conf")});
    REQUIRE(process_->started());
    for (int i = 0; i < 200 && !accepts(port_); ++i) std::this_thread::sleep_for(25ms);
    REQUIRE_MESSAGE(accepts(port_), "tinyproxy did not start: " << process_->stderr_text());
  }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::ifstream in(dir_.file("tinyproxy.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // CONNECT requests tinyproxy logged for 127.0.0.1:`origin_port`. Counted after the client has
  // exited: tinyproxy logs the request line when it reads it, before it answers.
  std::size_t connects_to(std::uint16_t origin_port) const {
    const std::string needle = "CONNECT 127.0.0.1:" + std::to_string(origin_port) + " HTTP/1.1";
    const std::string text = log();
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  gt::test::TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<gt::test::BackgroundProcess> process_;
};

gt::test::ProcessResult run(const std::vector<std::string>& argv, const gt::test::EnvChanges& env,
                            const std::string& in = {}) {
  auto r = gt::test::run_process(argv, in, env, 60s);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

// graph-threads create against `graph`, with a token unless sign-in variables provide one.
std::vector<std::string> create(const std::string& base_url, std::vector<std::string> extra = {},
                                bool with_cacert = true) {
  std::vector<std::string> argv = {GT_CLI_PATH, "create",    "--base-url", base_url,
                                   "--group",   kGroup,      "--topic",    "Via proxy",
                                   "--body",    "Tunnelled", "-o",         "id"};
  if (with_cacert) {
    argv.push_back("--cacert");
    argv.push_back(TestPki::get().ca_file->path());
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<std::string> with_token(std::vector<std::string> argv) {
  argv.push_back("--token");
  argv.push_back("e2e-token");
  return argv;
}

}  // namespace

TEST_SUITE("e2e: proxy") {
  TEST_CASE("HTTPS_PROXY: create tunnels through tinyproxy with TLS to the origin") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    const auto r =
        run(with_token(create(graph.server.url(), {"-v"})), {{"HTTPS_PROXY", proxy.url()}});
    CHECK(r.exit_code == 0);
    CHECK(graph.service.threads().size() == 1);
    CHECK(proxy.connects_to(graph.server.port()) == 1);
    CHECK(contains(r.err, "* Graph " + graph.server.url() + " via proxy " + proxy.url() +
                              " (from HTTPS_PROXY)"));
    // The request itself reached the origin unchanged (origin-form, inside TLS).
    REQUIRE(graph.server.received().size() == 1);
    CHECK(graph.server.received()[0].header("Authorization") == "Bearer e2e-token");
  }

  TEST_CASE("doctor through tinyproxy: dns and tcp are the proxy's, TLS is checked in the tunnel") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    const auto r = run({GT_CLI_PATH, "doctor", "--base-url", graph.server.url(), "--cacert",
                        TestPki::get().ca_file->path(), "--token", "e2e-token"},
                       {{"HTTPS_PROXY", proxy.url()}});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "pass  proxy "));
    CHECK(contains(r.out, "127.0.0.1: via " + proxy.url() + " (HTTPS_PROXY)"));
    CHECK(contains(r.out, "the proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                              " (HTTPS_PROXY) -> 127.0.0.1"));
    CHECK(contains(
        r.out, "CONNECT 127.0.0.1:" + std::to_string(graph.server.port()) + ": tunnel open after"));
    CHECK(contains(r.out, "pass  tls "));
    CHECK(contains(r.out, "through the tunnel: TLSv1."));
    CHECK(contains(r.out, "verified: ok"));
    // The probe's tunnel and GET /me's.
    CHECK(proxy.connects_to(graph.server.port()) == 2);
  }

  TEST_CASE("--proxy wins over the variables, --no-proxy ignores them") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    const std::string dead = "http://127.0.0.1:" + std::to_string(gt::test::closed_port());
    const auto flag = run(with_token(create(graph.server.url(), {"--proxy", proxy.url()})),
                          {{"https_proxy", dead}, {"ALL_PROXY", dead}});
    CHECK(flag.exit_code == 0);
    CHECK(proxy.connects_to(graph.server.port()) == 1);

    const auto direct =
        run(with_token(create(graph.server.url(), {"--no-proxy"})), {{"https_proxy", dead}});
    CHECK(direct.exit_code == 0);
    CHECK(proxy.connects_to(graph.server.port()) == 1);
    CHECK(graph.service.threads().size() == 2);

    const auto both =
        run(with_token(create(graph.server.url(), {"--no-proxy", "--proxy", proxy.url()})), {});
    CHECK(both.exit_code == 2);
    CHECK(contains(both.err, "--proxy and --no-proxy"));

    const auto socks = run(with_token(create(graph.server.url())),
                           {{"HTTPS_PROXY", "socks5://u:hunter2@127.0.0.1:1080"}});
    CHECK(socks.exit_code == 2);
    CHECK(contains(socks.err, "HTTPS_PROXY \"socks5://u:***@127.0.0.1:1080\""));
    CHECK_FALSE(contains(socks.err, "hunter2"));
    CHECK(graph.service.threads().size() == 2);
  }

  TEST_CASE("NO_PROXY: a matching host goes direct, past a proxy that is not even running") {
    gt::test::LiveServer graph;
    const std::string dead = "http://127.0.0.1:" + std::to_string(gt::test::closed_port());
    // (--retries 0: a refused connection is otherwise retried with backoff, proxy or not.)
    const auto refused =
        run(with_token(create(graph.server.url(), {"--retries", "0"})), {{"HTTPS_PROXY", dead}});
    CHECK(refused.exit_code == 4);
    CHECK(contains(refused.err, "connection refused by the proxy " + dead + " (from HTTPS_PROXY)"));
    CHECK(graph.service.threads().empty());

    for (const std::string& list :
         std::vector<std::string>{"127.0.0.1", "localhost,127.0.0.1", "127.0.0.0/8",
                                  "127.0.0.1:" + std::to_string(graph.server.port()), "*"}) {
      CAPTURE(list);
      const auto r =
          run(with_token(create(graph.server.url())), {{"HTTPS_PROXY", dead}, {"NO_PROXY", list}});
      CHECK(r.exit_code == 0);
    }
    CHECK(graph.service.threads().size() == 5);

    // Another port on the same host is not exempt.
    TinyProxy proxy;
    const auto other = run(with_token(create(graph.server.url())),
                           {{"https_proxy", proxy.url()}, {"no_proxy", "127.0.0.1:1"}});
    CHECK(other.exit_code == 0);
    CHECK(proxy.connects_to(graph.server.port()) == 1);
  }

  TEST_CASE("BasicAuth: the right credentials pass, none or wrong ones fail with exit 4") {
    TinyProxy proxy({.user = "alice", .password = "p.ss-w0rd_x", .connect_ports = {}});
    gt::test::LiveServer graph;
    const std::string at = "@127.0.0.1:" + std::to_string(proxy.port());

    const auto none = run(with_token(create(graph.server.url())), {{"HTTPS_PROXY", proxy.url()}});
    CHECK(none.exit_code == 4);
    CHECK(contains(none.err, "the proxy " + proxy.url() +
                                 " (from HTTPS_PROXY) requires "
                                 "authentication (407"));
    CHECK(contains(none.err, "it offers: Basic realm=\"Tinyproxy\""));
    CHECK(contains(none.err, "nothing was sent"));
    CHECK(contains(none.err, "http://user:password@host:port"));

    const auto wrong = run(with_token(create(graph.server.url(), {"-v"})),
                           {{"HTTPS_PROXY", "http://alice:Wr0ngPass" + at}});
    CHECK(wrong.exit_code == 4);
    // tinyproxy 1.11 answers wrong credentials with 401 + WWW-Authenticate (not 407).
    CHECK(contains(wrong.err, "rejected the credentials for user \"alice\" (40"));
    CHECK(contains(wrong.err, "it offers: Basic realm=\"Tinyproxy\""));
    CHECK(contains(wrong.err, "http://alice:***" + at));
    CHECK_FALSE(contains(wrong.err, "Wr0ngPass"));
    CHECK(graph.service.threads().empty());
    CHECK(graph.server.received().empty());

    // Percent-encoded in the URL ("." as %2E, "-" as %2D), decoded before use.
    const std::string good = "http://alice:p%2Ess%2Dw0rd_x" + at;
    const auto ok = run(with_token(create(graph.server.url(), {"-v"})), {{"https_proxy", good}});
    CHECK(ok.exit_code == 0);
    CHECK(contains(ok.err, "via proxy http://alice:***" + at + " (from https_proxy)"));
    CHECK_FALSE(contains(ok.err, "p%2Ess"));
    CHECK_FALSE(contains(ok.err, "p.ss-w0rd_x"));
    CHECK(graph.service.threads().size() == 1);

    const auto dry =
        run(with_token(create(graph.server.url(), {"--dry-run", "-v"})), {{"https_proxy", good}});
    CHECK(dry.exit_code == 0);
    CHECK_FALSE(contains(dry.out + dry.err, "p%2Ess"));
    CHECK_FALSE(contains(dry.out + dry.err, "p.ss-w0rd_x"));
    CHECK(contains(dry.err, "via proxy http://alice:***" + at));
    // tinyproxy saw three tunnels asked for; only the last was opened.
    CHECK(proxy.connects_to(graph.server.port()) == 3);
  }

  TEST_CASE("a proxy that refuses the tunnel is named with its status, exit 4") {
    TinyProxy proxy({.user = "", .password = "", .connect_ports = {443}});
    gt::test::LiveServer graph;
    const auto r = run(with_token(create(graph.server.url())), {{"HTTPS_PROXY", proxy.url()}});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "the proxy " + proxy.url() +
                              " (from HTTPS_PROXY) refused to open a "
                              "tunnel to 127.0.0.1:" +
                              std::to_string(graph.server.port()) + ": 403"));
    CHECK(graph.server.received().empty());
  }

  TEST_CASE("TLS verification is with the origin through the tunnel, failures hint at --cacert") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    const auto r =
        run(with_token(create(graph.server.url(), {}, false)), {{"HTTPS_PROXY", proxy.url()}});
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "not trusted"));
    CHECK(contains(r.err, "issuer"));
    CHECK(contains(r.err, "--cacert FILE"));
    CHECK(contains(r.err, "SSL_CERT_FILE"));
    CHECK(contains(r.err, "the proxy " + proxy.url()));
    CHECK(proxy.connects_to(graph.server.port()) == 1);
    CHECK(graph.server.received().empty());
  }

  TEST_CASE("bulk create runs through the proxy too") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    std::string items;
    for (int i = 0; i < 6; ++i) {
      items += R"({"topic":"bulk )" + std::to_string(i) +
               R"(","posts":[{"body":{"content":"hello"}}]})" + "\n";
    }
    const std::vector<std::string> argv = {
        GT_CLI_PATH,     "create",    "--base-url", graph.server.url(),
        "--token",       "e2e-token", "--cacert",   TestPki::get().ca_file->path(),
        "--group",       kGroup,      "--input",    "-",
        "--concurrency", "3"};
    const auto r = run(argv, {{"HTTPS_PROXY", proxy.url()}}, items);
    CHECK(r.exit_code == 0);
    CHECK(graph.service.threads().size() == 6);
    const auto tunnels = proxy.connects_to(graph.server.port());
    CHECK(tunnels >= 1);
    CHECK(tunnels <= 3);  // keep-alive connections through the tunnel are reused
  }
}

TEST_SUITE("proxy: the Beast clients") {
  gt::ProxySettings via(const std::string& url, std::string no_proxy = "") {
    auto s = gt::resolve_proxy_settings({.proxy = url, .no_proxy = false},
                                        [&](std::string_view name) -> std::optional<std::string> {
                                          if (name == "NO_PROXY" && !no_proxy.empty())
                                            return no_proxy;
                                          return std::nullopt;
                                        });
    REQUIRE(s);
    return *s;
  }

  std::unique_ptr<gt::BeastTransport> transport(gt::ProxySettings proxy) {
    auto t = gt::BeastTransport::create({.cacert_file = TestPki::get().ca_file->path(),
                                         .limits = {},
                                         .allow_plain_http_to_any_host = false,
                                         .proxy = std::move(proxy)});
    REQUIRE(t);
    return std::move(t).value();
  }

  TEST_CASE("keep-alive inside the tunnel: two requests, one CONNECT, one connection") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    auto t = transport(via(proxy.url()));
    for (const char* crid : {"crid-1", "crid-2"}) {
      gt::HttpResponse response;
      gt::TransportError error;
      const auto request =
          gt::test::live_create_request(graph.server.port(), "127.0.0.1", "https", crid);
      REQUIRE_MESSAGE(t->send(request, std::chrono::steady_clock::now() + 10s, response, error),
                      error.message);
      CHECK(response.status == 201);
    }
    CHECK(t->connections_opened() == 1);
    CHECK(proxy.connects_to(graph.server.port()) == 1);
  }

  TEST_CASE("plain http to loopback: through a loopback proxy yes, through any other never") {
    TinyProxy proxy;
    gt::test::LiveServer plain({.cert = std::nullopt});
    auto t = transport(via(proxy.url()));
    const auto request = gt::test::live_create_request(plain.server.port(), "127.0.0.1", "http");
    gt::HttpResponse response;
    gt::TransportError error;
    REQUIRE_MESSAGE(t->send(request, std::chrono::steady_clock::now() + 10s, response, error),
                    error.message);
    CHECK(response.status == 201);
    CHECK(proxy.connects_to(plain.server.port()) == 1);

    auto remote = transport(via("http://proxy.invalid:3128"));
    CHECK_FALSE(remote->send(request, std::chrono::steady_clock::now() + 10s, response, error));
    CHECK(error.failure == gt::TransportFailure::kLocal);
    CHECK(error.message.find("refusing plain http:// to 127.0.0.1 through the proxy "
                             "http://proxy.invalid:3128") != std::string::npos);
    CHECK(remote->connections_opened() == 0);
    CHECK(plain.server.received().size() == 1);
  }

  TEST_CASE("the exchange loop pools by origin and proxy") {
    TinyProxy proxy;
    gt::test::LiveServer graph;
    auto made = gt::BeastExchangeLoop::create({.cacert_file = TestPki::get().ca_file->path(),
                                               .limits = {},
                                               .allow_plain_http_to_any_host = false,
                                               .proxy = via(proxy.url())});
    REQUIRE(made);
    auto& loop = *made.value();
    int ok = 0;
    std::function<void(int)> next = [&](int left) {
      if (left == 0) return;
      loop.start(gt::test::live_create_request(graph.server.port()),
                 loop.now() + std::chrono::seconds(10), [&, left](gt::Exchange ex) {
                   INFO(ex.error.message);
                   CHECK(ex.ok);
                   ok += ex.ok;
                   next(left - 1);
                 });
    };
    next(3);
    loop.run();
    CHECK(ok == 3);
    CHECK(loop.connections_opened() == 1);
    CHECK(proxy.connects_to(graph.server.port()) == 1);
  }
}

TEST_SUITE("e2e: proxy and sign-in") {
  // The login host (token endpoint) and Graph on two ports, so the proxy log tells them apart.
  struct TwoHosts {
    TwoHosts()
        : identity(make()),
          router({.graph = &unused_graph, .identity = identity.get()}),
          login({.host = "127.0.0.1", .port = 0, .tls = TestPki::get().server}, router, faults) {
      auto st = login.start();
      REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
    }
    static std::unique_ptr<gt::emulator::IdentityService> make() {
      gt::emulator::IdentityOptions o;
      o.users["pat@contoso.example"] = {.password = "pw-pat"};
      auto created = gt::emulator::IdentityService::create(std::move(o));
      REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
      return std::move(created).value();
    }
    gt::test::EnvChanges env(const gt::test::TempDir& config, gt::test::EnvChanges extra) const {
      gt::test::EnvChanges e = {{"AZURE_AUTHORITY_HOST", login.url()},
                                {"GRAPH_THREADS_CONFIG_DIR", config.str()},
                                {"AZURE_USERNAME", "pat@contoso.example"},
                                {"AZURE_PASSWORD", "pw-pat"}};
      e.insert(e.end(), extra.begin(), extra.end());
      return e;
    }

    gt::emulator::GraphService unused_graph{gt::emulator::ServiceOptions{}};
    std::unique_ptr<gt::emulator::IdentityService> identity;
    gt::emulator::FaultPlan faults;
    gt::emulator::Router router;
    gt::emulator::Server login;
    gt::test::LiveServer graph;
  };

  TEST_CASE("the token request goes through the proxy, chosen by its own host and port") {
    TwoHosts h;
    TinyProxy proxy;
    gt::test::TempDir config;
    // NO_PROXY exempts Graph's port only: the sign-in goes through the proxy, Graph does not.
    const std::string graph_port = std::to_string(h.graph.server.port());
    const auto r =
        run(create(h.graph.server.url(), {"-v"}),
            h.env(config, {{"HTTPS_PROXY", proxy.url()}, {"NO_PROXY", "127.0.0.1:" + graph_port}}));
    CHECK(r.exit_code == 0);
    CHECK(h.graph.service.threads().size() == 1);
    CHECK(proxy.connects_to(h.login.port()) == 1);
    CHECK(proxy.connects_to(h.graph.server.port()) == 0);
    CHECK(contains(r.err, "* login host " + h.login.url() + " via proxy " + proxy.url()));
    CHECK(contains(r.err, "* Graph " + h.graph.server.url() + " direct"));

    // And with no exemption both go through it (a fresh cache: the token is requested again).
    gt::test::TempDir fresh;
    const auto both =
        run(create(h.graph.server.url()), h.env(fresh, {{"HTTPS_PROXY", proxy.url()}}));
    CHECK(both.exit_code == 0);
    CHECK(proxy.connects_to(h.login.port()) == 2);
    CHECK(proxy.connects_to(h.graph.server.port()) == 1);
  }

  TEST_CASE("a 407 on the token request is the proxy's error, not a sign-in failure") {
    TwoHosts h;
    TinyProxy proxy({.user = "alice", .password = "s3cret", .connect_ports = {}});
    gt::test::TempDir config;
    const auto r = run(create(h.graph.server.url()), h.env(config, {{"HTTPS_PROXY", proxy.url()}}));
    CHECK(r.exit_code == 4);
    CHECK(contains(r.err, "requires authentication (407"));
    CHECK(h.login.received().empty());
    CHECK(h.graph.server.received().empty());
  }
}
