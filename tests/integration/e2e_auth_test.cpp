// End-to-end sign-in: the real graph-threads binary against the emulator's identity endpoints and
// Graph stand-in over loopback TLS. Each token source, each device-flow outcome, the cache under
// two concurrent processes, and the promise that secrets never reach the output.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "emulator/identity_service.hpp"
#include "emulator/router.hpp"
#include "emulator/server.hpp"
#include "support/rsa_assertion.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::test::TestPki;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";

using gt::test::TempDir;

gt::emulator::IdentityOptions quick_identity() {
  gt::emulator::IdentityOptions o;
  o.device_poll_interval = 1s;
  return o;
}

// Graph and the identity platform on one TLS port, as AZURE_AUTHORITY_HOST and --base-url see it.
struct Cloud {
  explicit Cloud(gt::emulator::IdentityOptions options = quick_identity())
      : graph(gt::emulator::ServiceOptions{}),
        identity(make(std::move(options))),
        router({.graph = &graph, .identity = identity.get()}),
        server({.host = "127.0.0.1", .port = 0, .tls = TestPki::get().server}, router, faults) {
    auto st = server.start();
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  }
  static std::unique_ptr<gt::emulator::IdentityService> make(gt::emulator::IdentityOptions o) {
    auto created = gt::emulator::IdentityService::create(std::move(o));
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    return std::move(created).value();
  }

  // The environment of a CLI run that signs in here, with its own cache directory.
  gt::test::EnvChanges env(const TempDir& config, gt::test::EnvChanges extra = {}) const {
    gt::test::EnvChanges e = {{"AZURE_AUTHORITY_HOST", server.url()},
                              {"GRAPH_BASE_URL", server.url()},
                              {"GRAPH_THREADS_CONFIG_DIR", config.str()}};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  }
  std::size_t token_requests() const {
    std::size_t n = 0;
    for (const auto& r : server.received())
      n += r.target.find("/oauth2/v2.0/token") != std::string::npos;
    return n;
  }
  std::size_t graph_requests() const {
    std::size_t n = 0;
    for (const auto& r : server.received()) n += r.target.rfind("/v1.0/", 0) == 0;
    return n;
  }

  gt::emulator::GraphService graph;
  std::unique_ptr<gt::emulator::IdentityService> identity;
  gt::emulator::FaultPlan faults;
  gt::emulator::Router router;
  gt::emulator::Server server;
};

std::vector<std::string> argv_of(std::vector<std::string> args) {
  std::vector<std::string> argv = {GT_CLI_PATH, "--cacert", TestPki::get().ca_file->path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

gt::test::ProcessResult cli(const gt::test::EnvChanges& env, std::vector<std::string> args,
                            const std::string& in = {}) {
  auto r = gt::test::run_process(argv_of(std::move(args)), in, env, 60s);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

std::vector<std::string> create_args() {
  return {"create", "--group", kGroup, "--topic", "T", "--body", "B", "-o", "id"};
}
std::vector<std::string> list_args() {
  return {"list", "--group", kGroup, "-o", "id"};
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Runs `auth login` in the background, waits for the code on stderr, lets `approve` act on it,
// and returns the exit code and stderr.
std::pair<int, std::string> login(const Cloud& c, const TempDir& config,
                                  const std::function<void(const std::string&)>& approve,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"auth", "login"};
  args.insert(args.end(), extra.begin(), extra.end());
  gt::test::BackgroundProcess p(argv_of(args), c.env(config));
  REQUIRE(p.started());
  std::smatch m;
  std::string err;
  const std::regex code_line(R"(\n    ([A-Z0-9-]+)\n)");
  for (int i = 0; i < 400 && !std::regex_search(err, m, code_line); ++i) {
    std::this_thread::sleep_for(25ms);
    err = p.stderr_text();
  }
  REQUIRE_MESSAGE(std::regex_search(err, m, code_line), err);
  approve(m[1]);
  const auto code = p.wait(60s);
  REQUIRE(code);
  return {*code, p.stderr_text()};
}

std::string approve_as_ada(const Cloud& c, const TempDir& config) {
  const auto [code, err] = login(c, config, [&](const std::string& user_code) {
    REQUIRE(c.identity->approve_device(user_code, "ada@contoso.example").ok());
  });
  INFO(err);
  REQUIRE(code == 0);
  return err;
}

}  // namespace

TEST_SUITE("e2e: auth") {
  TEST_CASE("login, then create, status, token, export, logout") {
    Cloud c;
    TempDir config;
    const std::string err = approve_as_ada(c, config);
    CHECK(contains(err, "https://microsoft.com/devicelogin"));
    CHECK(contains(err, "Signed in as ada@contoso.example"));

    // The cache is private to the user.
    struct stat st {};
    REQUIRE(::stat(config.file("tokens.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    auto created = cli(c.env(config), create_args());
    CHECK(created.exit_code == 0);
    CHECK(c.graph.threads().size() == 1);

    auto status = cli(c.env(config), {"auth", "status", "-o", "json"});
    CHECK(status.exit_code == 0);
    CHECK(contains(status.out, R"("account":"ada@contoso.example")"));
    CHECK(contains(status.out, R"("canCreateThreads":true)"));
    CHECK(contains(status.out, R"("signatureChecked":false)"));
    CHECK(contains(status.out, "auth login"));

    auto token = cli(c.env(config), {"auth", "token"});
    CHECK(token.exit_code == 0);
    CHECK(token.out.rfind("eyJ", 0) == 0);

    auto exported = cli(c.env(config), {"auth", "export-refresh-token"});
    CHECK(exported.exit_code == 0);
    CHECK(exported.out.size() > 20);
    CHECK(contains(exported.err, "warning"));
    CHECK(contains(exported.err, "CI secret"));

    auto logout = cli(c.env(config), {"auth", "logout"});
    CHECK(logout.exit_code == 0);
    CHECK(contains(logout.err, "Signed out ada@contoso.example"));
    auto after = cli(c.env(config), create_args());
    CHECK(after.exit_code == 3);
    CHECK(contains(after.err, "auth login"));
  }

  TEST_CASE("login: slow_down from the server makes the client poll 5 s slower") {
    auto options = quick_identity();
    options.enforced_poll_interval = 3s;  // the client is told 1 s
    Cloud c(options);
    TempDir config;
    std::vector<std::string> args = {"auth", "login", "-v"};
    gt::test::BackgroundProcess p(argv_of(args), c.env(config));
    std::string err;
    for (int i = 0; i < 400 && !contains(err, "poll more slowly"); ++i) {
      std::this_thread::sleep_for(25ms);
      err = p.stderr_text();
    }
    REQUIRE_MESSAGE(contains(err, "every 6 s"), err);
    const auto codes = c.identity->device_codes();
    REQUIRE(codes.size() == 1);
    REQUIRE(c.identity->approve_device(codes[0].user_code, "ada@contoso.example").ok());
    CHECK(p.wait(60s) == 0);
  }

  TEST_CASE("login: declined and expired codes exit 3 with their reason") {
    {
      Cloud c;
      TempDir config;
      const auto [code, err] = login(c, config, [&](const std::string& user_code) {
        REQUIRE(c.identity->deny_device(user_code).ok());
      });
      CHECK(code == 3);
      CHECK(contains(err, "declined"));
    }
    {
      auto options = quick_identity();
      options.device_code_lifetime = 2s;
      Cloud c(options);
      TempDir config;
      const auto [code, err] = login(c, config, [](const std::string&) {});
      CHECK(code == 3);
      CHECK(contains(err, "expired"));
    }
  }

  TEST_CASE("GRAPH_REFRESH_TOKEN: redeemed once, reused, and refused clearly when revoked") {
    Cloud c;
    TempDir login_config;
    approve_as_ada(c, login_config);
    const std::string rt = cli(c.env(login_config), {"auth", "export-refresh-token"}).out;
    REQUIRE(rt.size() > 20);
    const std::string seed = rt.substr(0, rt.size() - 1);

    TempDir ci;  // a CI job: nothing cached yet
    const auto before = c.token_requests();
    CHECK(cli(c.env(ci, {{"GRAPH_REFRESH_TOKEN", seed}}), create_args()).exit_code == 0);
    CHECK(c.token_requests() == before + 1);
    auto again = cli(c.env(ci, {{"GRAPH_REFRESH_TOKEN", seed}}),
                     {"create", "--group", kGroup, "--topic", "T", "--body", "B", "-v"});
    CHECK(again.exit_code == 0);
    CHECK(c.token_requests() == before + 1);  // the cached access token was reused
    CHECK(contains(again.err, "token: refresh token (GRAPH_REFRESH_TOKEN), cached access token"));

    REQUIRE(c.identity->revoke_refresh_tokens("ada@contoso.example").ok());
    TempDir fresh;
    auto refused = cli(c.env(fresh, {{"GRAPH_REFRESH_TOKEN", seed}}), create_args());
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "GRAPH_REFRESH_TOKEN was refused"));
    CHECK(contains(refused.err, "auth login"));
  }

  TEST_CASE("an expired refresh token fails with exit 3 and the way back") {
    auto options = quick_identity();
    options.refresh_token_lifetime = 2s;
    Cloud c(options);
    TempDir login_config;
    approve_as_ada(c, login_config);
    const std::string rt = cli(c.env(login_config), {"auth", "export-refresh-token"}).out;
    std::this_thread::sleep_for(3s);  // past the refresh token's lifetime on the server
    TempDir ci;
    auto r = cli(c.env(ci, {{"GRAPH_REFRESH_TOKEN", rt.substr(0, rt.size() - 1)}}), create_args());
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "GRAPH_REFRESH_TOKEN was refused"));
    CHECK(contains(r.err, "auth login"));
    CHECK(c.graph.threads().empty());
  }

  TEST_CASE("AZURE_USERNAME/AZURE_PASSWORD: works, and MFA stops it with a clear message") {
    auto options = quick_identity();
    options.users["pat@contoso.example"] = {.password = "pw-pat"};
    options.users["mia@contoso.example"] = {.password = "pw-mia", .needs_mfa = true};
    Cloud c(options);
    TempDir config;
    auto ok = cli(
        c.env(config, {{"AZURE_USERNAME", "pat@contoso.example"}, {"AZURE_PASSWORD", "pw-pat"}}),
        create_args());
    CHECK(ok.exit_code == 0);
    auto mfa = cli(
        c.env(config, {{"AZURE_USERNAME", "mia@contoso.example"}, {"AZURE_PASSWORD", "pw-mia"}}),
        create_args());
    CHECK(mfa.exit_code == 3);
    CHECK(contains(mfa.err, "AZURE_USERNAME"));
    CHECK((contains(mfa.err, "MFA") || contains(mfa.err, "multi-factor")));
    CHECK(c.graph.threads().size() == 1);
  }

  TEST_CASE("app-only credentials: a secret lists threads, and create refuses before sending") {
    auto options = quick_identity();
    options.apps["app-1"] = {.secret = "s3cret-value"};
    Cloud c(options);
    TempDir config;
    const gt::test::EnvChanges app = {{"AZURE_TENANT_ID", kTenant},
                                      {"AZURE_CLIENT_ID", "app-1"},
                                      {"AZURE_CLIENT_SECRET", "s3cret-value"}};
    auto listed = cli(c.env(config, app), list_args());
    CHECK(listed.exit_code == 0);
    const auto tokens_before = c.token_requests();
    const auto graph_before = c.graph_requests();
    auto refused = cli(c.env(config, app), create_args());
    CHECK(refused.exit_code == 3);
    CHECK(contains(refused.err, "app-only"));
    CHECK(contains(refused.err, "GRAPH_REFRESH_TOKEN"));
    CHECK(c.token_requests() == tokens_before);
    CHECK(c.graph_requests() == graph_before);
  }

  TEST_CASE(
      "app-only credentials: certificate assertions (RS256, PS256) and a federated token file") {
    const auto now = std::chrono::system_clock::now();
    const auto cred = gt::test::make_rsa_credential("graph-threads e2e app", now - 1h, now + 24h);
    auto options = quick_identity();
    options.apps["app-2"] = {.certificate_pem = cred.cert_pem};
    Cloud c(options);
    TempDir files;

    // AZURE_CLIENT_CERTIFICATE_PATH holds the certificate and its private key.
    std::string key_pem;
    {
      std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
      REQUIRE(PEM_write_bio_PrivateKey(bio.get(), cred.key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) == 1);
      char* data = nullptr;
      const long len = BIO_get_mem_data(bio.get(), &data);
      key_pem.assign(data, static_cast<std::size_t>(len));
    }
    const std::string pem_path = files.file("app.pem");
    std::ofstream(pem_path) << cred.cert_pem << key_pem;
    for (const char* alg : {"RS256", "PS256"}) {
      CAPTURE(alg);
      TempDir config;
      auto r = cli(c.env(config, {{"AZURE_TENANT_ID", kTenant},
                                  {"AZURE_CLIENT_ID", "app-2"},
                                  {"AZURE_CLIENT_CERTIFICATE_PATH", pem_path},
                                  {"GRAPH_THREADS_ASSERTION_ALG", alg}}),
                   list_args());
      CHECK(r.exit_code == 0);
    }

    // Workload identity: the file is read at every use (here it holds an assertion the emulator
    // accepts, standing in for a federated token).
    const std::string token_file = files.file("federated");
    const auto epoch =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::ofstream(token_file) << gt::test::sign_jws(
        R"({"alg":"RS256","typ":"JWT","x5t":")" + gt::test::x5t(cred) + "\"}",
        R"({"aud":")" + c.server.url() + "/" + kTenant +
            R"(/oauth2/v2.0/token","iss":"app-2","sub":"app-2","jti":"f1","nbf":)" +
            std::to_string(epoch - 10) + ",\"exp\":" + std::to_string(epoch + 600) + "}",
        cred.key.get(), "RS256");
    const gt::test::EnvChanges federated = {{"AZURE_TENANT_ID", kTenant},
                                            {"AZURE_CLIENT_ID", "app-2"},
                                            {"AZURE_FEDERATED_TOKEN_FILE", token_file}};
    TempDir first;
    CHECK(cli(c.env(first, federated), list_args()).exit_code == 0);
    std::ofstream(token_file) << "not-a-valid-assertion";
    TempDir second;  // nothing cached: the (new) file content is what gets sent
    auto rejected = cli(c.env(second, federated), list_args());
    CHECK(rejected.exit_code == 3);
  }

  TEST_CASE("two processes refreshing through one cache never lose a rotated refresh token") {
    auto options = quick_identity();
    // Access tokens are refreshed 5 min before they expire, so with a 60 s lifetime every run must
    // refresh, and every refresh rotates the refresh token. (1 s was too short: on a slow,
    // sanitized run the fresh token could expire before the process printed it.)
    options.token_lifetime = 60s;
    Cloud c(options);
    TempDir config;
    approve_as_ada(c, config);
    const auto before = c.token_requests();
    std::vector<int> codes(16, -1);
    auto worker = [&](int first) {
      for (int i = first; i < first + 8; ++i)
        codes[i] = cli(c.env(config), {"auth", "token"}).exit_code;
    };
    std::thread a(worker, 0), b(worker, 8);
    a.join();
    b.join();
    for (int i = 0; i < 16; ++i) {
      CAPTURE(i);
      CHECK(codes[i] == 0);
    }
    // Every run refreshed (so every run rotated the refresh token the other process needed).
    CHECK(c.token_requests() == before + 16);
  }

  TEST_CASE("secrets never appear in --verbose, --debug, --dry-run, doctor or error output") {
    auto options = quick_identity();
    options.users["pat@contoso.example"] = {.password = "pw-secret-XYZ"};
    options.apps["app-1"] = {.secret = "client-secret-XYZ"};
    Cloud c(options);
    TempDir login_config;
    approve_as_ada(c, login_config);
    const std::string rt_line = cli(c.env(login_config), {"auth", "export-refresh-token"}).out;
    const std::string rt = rt_line.substr(0, rt_line.size() - 1);
    const std::string access = cli(c.env(login_config), {"auth", "token"}).out;
    REQUIRE(access.size() > 20);

    struct Source {
      const char* name;
      gt::test::EnvChanges env;
      std::vector<std::string> secrets;
    };
    const std::vector<Source> sources = {
        {"explicit",
         {{"GRAPH_TOKEN", access.substr(0, access.size() - 1)}},
         {access.substr(0, access.size() - 1)}},
        {"refresh", {{"GRAPH_REFRESH_TOKEN", rt}}, {rt}},
        {"password",
         {{"AZURE_USERNAME", "pat@contoso.example"}, {"AZURE_PASSWORD", "pw-secret-XYZ"}},
         {"pw-secret-XYZ"}},
        {"app",
         {{"AZURE_TENANT_ID", kTenant},
          {"AZURE_CLIENT_ID", "app-1"},
          {"AZURE_CLIENT_SECRET", "client-secret-XYZ"}},
         {"client-secret-XYZ"}},
        {"wrong app secret",
         {{"AZURE_TENANT_ID", kTenant},
          {"AZURE_CLIENT_ID", "app-1"},
          {"AZURE_CLIENT_SECRET", "wrong-secret-XYZ"}},
         {"wrong-secret-XYZ"}},
        {"wrong password",
         {{"AZURE_USERNAME", "pat@contoso.example"}, {"AZURE_PASSWORD", "bad-pw-XYZ"}},
         {"bad-pw-XYZ"}},
    };
    for (const auto& s : sources) {
      CAPTURE(s.name);
      for (const auto& args : std::vector<std::vector<std::string>>{
               {"list", "--group", kGroup, "-v"},
               {"create", "--group", kGroup, "--topic", "T", "--body", "B", "-v"},
               {"create", "--group", kGroup, "--topic", "T", "--body", "B", "--dry-run", "-v"},
               {"auth", "status", "-v"},
               // --debug prints every exchange in full, the token endpoint's included.
               {"list", "--group", kGroup, "--debug"},
               {"create", "--group", kGroup, "--topic", "T", "--body", "B", "--debug"},
               {"auth", "status", "--debug"},
               {"doctor", "--group", kGroup, "--debug"},
               {"doctor", "--group", kGroup, "-o", "json"}}) {
        CAPTURE(args[0]);
        TempDir config;
        auto r = cli(c.env(config, s.env), args);
        for (const auto& secret : s.secrets) {
          CHECK_FALSE(contains(r.out, secret));
          CHECK_FALSE(contains(r.err, secret));
        }
        // Whatever access token was obtained is never printed either.
        std::smatch m;
        CHECK_FALSE(std::regex_search(r.err, m, std::regex(R"(eyJ[A-Za-z0-9_-]{10,}\.)")));
      }
    }
  }

  TEST_CASE("the process never dumps core: its core size limit is 0") {
    Cloud c;
    TempDir config;
    gt::test::BackgroundProcess p(argv_of({"auth", "login"}), c.env(config));
    REQUIRE(p.started());
    std::string err;
    for (int i = 0; i < 400 && !contains(err, "devicelogin"); ++i) {
      std::this_thread::sleep_for(25ms);
      err = p.stderr_text();
    }
    std::ifstream limits("/proc/" + std::to_string(p.pid()) + "/limits");
    std::string text((std::istreambuf_iterator<char>(limits)), std::istreambuf_iterator<char>());
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(R"(Max core file size\s+(\S+)\s+(\S+))")));
    CHECK(m[1] == "0");
    CHECK(m[2] == "0");
    p.send_signal(SIGINT);
    CHECK(p.wait(10s) == 130);
  }

  TEST_CASE("a bulk run longer than its access token's lifetime renews the token and goes on") {
    auto options = quick_identity();
    options.token_lifetime = 4s;
    Cloud c(options);
    TempDir config;
    approve_as_ada(c, config);
    std::string items;
    for (int i = 0; i < 30; ++i) {
      items +=
          R"({"topic":"T)" + std::to_string(i) + R"(","posts":[{"body":{"content":"b"}}]})" + "\n";
    }
    const auto before = c.token_requests();
    // 30 items at 5/s take about 6 s: the first token expires after 4 s. Without renewal the
    // requests after that get 401 and the run stops (exit 3).
    auto r = cli(c.env(config),
                 {"create", "--group", kGroup, "--input", "-", "--max-rate", "5", "--no-progress"},
                 items);
    CHECK(r.exit_code == 0);
    CHECK(c.graph.threads().size() == 30);
    CHECK(c.token_requests() > before);  // renewed through the cache's refresh token
    CHECK_FALSE(contains(r.out, "\"failed\""));
  }
}
