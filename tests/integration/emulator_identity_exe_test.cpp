// The emulator executable's sign-in endpoints and control API, driven by curl (a client nobody
// here wrote) over TLS: every identity flag and control endpoint has a case here.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/rsa_assertion.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using gt::test::BackgroundProcess;

namespace {

constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

struct Emulator {
  explicit Emulator(std::vector<std::string> args)
      : dir(tmp.str()), process([&] {
          std::vector<std::string> argv = {GT_EMULATOR_PATH, "--listen", "127.0.0.1:0",
                                           "--ca-out",       ca_path(),  "--quiet"};
          argv.insert(argv.end(), args.begin(), args.end());
          return argv;
        }()) {
    REQUIRE(process.started());
    const auto line = process.read_line(20s);
    INFO(process.stderr_text());
    REQUIRE(line);
    REQUIRE(line->starts_with("listening on https://127.0.0.1:"));
    url = line->substr(std::string("listening on ").size());
  }
  ~Emulator() {
    process.send_signal(SIGTERM);
    process.wait(10s);
  }
  std::string ca_path() const { return dir + "/ca.pem"; }

  // curl against the emulator; returns {status, body}.
  std::pair<int, std::string> curl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {kCurl,     "--silent",    "--show-error",  "--cacert",
                                     ca_path(), "--write-out", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = gt::test::run_process(argv, {}, {}, 30s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto nl = r.out.rfind('\n');
    return {std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
  }
  std::pair<int, std::string> token(const std::string& form,
                                    const std::string& tenant = "organizations") const {
    return curl({"--data", form, url + "/" + tenant + "/oauth2/v2.0/token"});
  }
  std::pair<int, std::string> create_with(const std::string& bearer) const {
    return curl({"-H", "Authorization: Bearer " + bearer, "-H", "Content-Type: application/json",
                 "--data", R"({"topic":"T","posts":[{"body":{"content":"B"}}]})",
                 url + "/v1.0/groups/" + kGroup + "/threads"});
  }

  gt::test::TempDir tmp;
  std::string dir;
  BackgroundProcess process;
  std::string url;
};

std::string field(const std::string& json, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + name + R"re(":"?([^",}]*))re"))) return "";
  return m[1];
}

}  // namespace

TEST_SUITE("emulator: executable sign-in") {
  TEST_CASE("--user signs in with the password grant, --mfa-user is refused with AADSTS50076") {
    Emulator e({"--user", "ada@contoso.example:pw1", "--mfa-user", "bob@contoso.example:pw2"});
    auto ok = e.token(
        "grant_type=password&client_id=c&scope=offline_access%20Group.ReadWrite.All"
        "&username=ada@contoso.example&password=pw1");
    CHECK(ok.first == 200);
    CHECK_FALSE(field(ok.second, "access_token").empty());
    CHECK_FALSE(field(ok.second, "refresh_token").empty());
    auto wrong = e.token(
        "grant_type=password&client_id=c&scope=User.Read"
        "&username=ada@contoso.example&password=nope");
    CHECK(wrong.first == 400);
    CHECK(wrong.second.find("AADSTS50126") != std::string::npos);
    auto mfa = e.token(
        "grant_type=password&client_id=c&scope=User.Read"
        "&username=bob@contoso.example&password=pw2");
    CHECK(mfa.first == 400);
    CHECK(mfa.second.find("AADSTS50076") != std::string::npos);
  }

  TEST_CASE("--app issues app-only tokens, which Graph refuses for create but not for list") {
    Emulator e({"--app", "app-1:s3cret"});
    auto t = e.token(
        "grant_type=client_credentials&client_id=app-1&client_secret=s3cret"
        "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        "11111111-2222-3333-4444-555555555555");
    REQUIRE(t.first == 200);
    const std::string bearer = field(t.second, "access_token");
    auto created = e.create_with(bearer);
    CHECK(created.first == 403);
    CHECK(created.second.find("ErrorAccessDenied") != std::string::npos);
    auto listed = e.curl(
        {"-H", "Authorization: Bearer " + bearer, e.url + "/v1.0/groups/" + kGroup + "/threads"});
    CHECK(listed.first == 200);
    auto bad = e.token(
        "grant_type=client_credentials&client_id=app-1&client_secret=nope"
        "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        "11111111-2222-3333-4444-555555555555");
    CHECK(bad.first == 401);
  }

  TEST_CASE("--app-cert accepts a client assertion signed with the certificate's key") {
    const auto now_tp = std::chrono::system_clock::now();
    const auto cred = gt::test::make_rsa_credential(
        "graph-threads test app", now_tp - std::chrono::hours(1), now_tp + std::chrono::hours(24));
    Emulator probe({});
    const std::string cert_file = probe.dir + "/app.pem";
    std::ofstream(cert_file) << cred.cert_pem;
    Emulator e({"--app-cert", "app-2:" + cert_file});
    const std::string tenant = "11111111-2222-3333-4444-555555555555";
    const std::string aud = e.url + "/" + tenant + "/oauth2/v2.0/token";
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string assertion = gt::test::sign_jws(
        R"({"alg":"RS256","typ":"JWT","x5t":")" + gt::test::x5t(cred) + "\"}",
        R"({"aud":")" + aud + R"(","iss":"app-2","sub":"app-2","jti":"j-1","nbf":)" +
            std::to_string(now - 10) + ",\"exp\":" + std::to_string(now + 600) + "}",
        cred.key.get(), "RS256");
    auto t = e.token(
        "grant_type=client_credentials&client_id=app-2"
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
        "%3Ajwt-bearer&client_assertion=" +
            assertion + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        tenant);
    INFO(t.second);
    CHECK(t.first == 200);
    CHECK_FALSE(field(t.second, "access_token").empty());
  }

  TEST_CASE("--auto-approve and --token-lifetime: a device code signs in on its first poll") {
    Emulator e({"--auto-approve", "--token-lifetime", "120", "--device-interval", "0"});
    auto dc =
        e.curl({"--data", "client_id=c&scope=offline_access%20Group-Conversation.ReadWrite.All",
                e.url + "/organizations/oauth2/v2.0/devicecode"});
    REQUIRE(dc.first == 200);
    CHECK(field(dc.second, "interval") == "0");
    auto t = e.token(
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=c"
        "&device_code=" +
        field(dc.second, "device_code"));
    CHECK(t.first == 200);
    CHECK(field(t.second, "expires_in") == "120");
  }

  TEST_CASE("control API: device approval through /_emulator/devices") {
    Emulator e({"--device-interval", "0"});
    auto dc = e.curl({"--data", "client_id=c&scope=offline_access",
                      e.url + "/organizations/oauth2/v2.0/devicecode"});
    REQUIRE(dc.first == 200);
    const std::string poll =
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=c"
        "&device_code=" +
        field(dc.second, "device_code");
    auto pending = e.token(poll);
    CHECK(pending.first == 400);
    CHECK(field(pending.second, "error") == "authorization_pending");
    auto devices = e.curl({e.url + "/_emulator/devices"});
    CHECK(devices.first == 200);
    CHECK(field(devices.second, "userCode") == field(dc.second, "user_code"));
    auto approve =
        e.curl({"-X", "POST", "--data", R"({"username":"ada@contoso.example"})",
                e.url + "/_emulator/devices/" + field(dc.second, "user_code") + "/approve"});
    CHECK(approve.first == 204);
    auto t = e.token(poll);
    CHECK(t.first == 200);
  }

  TEST_CASE("control API: a scripted fault hits the next Graph request, then clears") {
    Emulator e({});
    auto scripted =
        e.curl({"-X", "POST", "--data", R"({"fault":"503"})", e.url + "/_emulator/faults"});
    CHECK(scripted.first == 204);
    CHECK(e.create_with("t").first == 503);
    CHECK(e.create_with("t").first == 201);
    e.curl({"-X", "POST", "--data", R"({"fault":"429"})", e.url + "/_emulator/faults"});
    CHECK(e.curl({"-X", "DELETE", e.url + "/_emulator/faults"}).first == 204);
    CHECK(e.create_with("t").first == 201);
  }

  TEST_CASE("bad identity flags are usage errors") {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"--user", "nopassword"},
                                               {"--app", ":secret"},
                                               {"--app-cert", "id:/nonexistent.pem"},
                                               {"--device-interval", "61"},
                                               {"--token-lifetime", "0"}}) {
      CAPTURE(args[0]);
      const auto r = gt::test::run_process(
          [&] {
            std::vector<std::string> argv = {GT_EMULATOR_PATH, "--listen", "127.0.0.1:0"};
            argv.insert(argv.end(), args.begin(), args.end());
            return argv;
          }(),
          {}, {}, 20s);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(args[0]) != std::string::npos);
    }
  }
}
