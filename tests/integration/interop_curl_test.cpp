// Interoperability: curl, an HTTP client nobody here wrote, against the emulator over TLS. If the
// emulator only worked with our own client, its answers could be wrong in ways both sides share.
#include <doctest/doctest.h>

#include <regex>

#include "emulator/server.hpp"
#include "support/live_server.hpp"
#include "support/subprocess.hpp"
#include "support/test_pki.hpp"

using gt::test::TestPki;

namespace {

constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

using Emulator = gt::test::LiveServer;

// curl with the test CA; "-w '\n%{http_code}'" appends the status on its own last line.
gt::test::ProcessResult curl(const std::vector<std::string>& args, bool with_ca = true) {
  std::vector<std::string> argv = {kCurl, "--silent", "--show-error", "--write-out",
                                   "\n%{http_code}"};
  if (with_ca) {
    argv.push_back("--cacert");
    argv.push_back(TestPki::get().ca_file->path());
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return gt::test::run_process(argv, {}, {}, std::chrono::seconds(30));
}

std::string status_of(const std::string& out) {
  return out.substr(out.rfind('\n') + 1);
}
std::string body_of(const std::string& out) {
  return out.substr(0, out.rfind('\n'));
}

// Percent-encodes an id for a URL path segment the way a careful shell script would.
std::string encode(const std::string& id) {
  std::string out;
  for (const char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("interop: curl creates, lists and deletes a thread over TLS") {
  Emulator e;
  const std::string threads = e.server.url() + "/v1.0/groups/" + kGroup + "/threads";
  const std::vector<std::string> auth = {"-H", "Authorization: Bearer curl-token"};

  auto add = auth;
  add.insert(add.end(),
             {"-H", "Content-Type: application/json", "--data",
              R"({"topic":"From curl","posts":[{"body":{"contentType":"text","content":"hi"}}]})",
              threads});
  const auto created = curl(add);
  REQUIRE_MESSAGE(created.exit_code == 0, created.err);
  CHECK(status_of(created.out) == "201");
  std::smatch m;
  const std::string body = body_of(created.out);
  REQUIRE(std::regex_search(body, m, std::regex(R"re("id":"([^"]+)")re")));
  const std::string id = m[1];

  auto list = auth;
  list.push_back(threads);
  const auto listed = curl(list);
  REQUIRE(listed.exit_code == 0);
  CHECK(status_of(listed.out) == "200");
  CHECK(body_of(listed.out).find("\"From curl\"") != std::string::npos);

  auto del = auth;
  del.insert(del.end(), {"-X", "DELETE", threads + "/" + encode(id)});
  const auto deleted = curl(del);
  REQUIRE(deleted.exit_code == 0);
  CHECK(status_of(deleted.out) == "204");
  CHECK(e.service.threads().empty());
}

TEST_CASE("interop: curl refuses the emulator without its CA") {
  Emulator e;
  const auto r = curl(
      {"-H", "Authorization: Bearer t", e.server.url() + "/v1.0/groups/" + kGroup + "/threads"},
      false);
  CHECK(r.exit_code == 60);  // curl: peer certificate cannot be authenticated with known CA
  CHECK(e.server.received().empty());
}
