// End-to-end tests of `graph-threads list` against the emulator over loopback TLS.
#include <doctest/doctest.h>

#include "emulator/server.hpp"
#include "support/live_server.hpp"
#include "support/subprocess.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gt::test::TestPki;

namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

using Emulator = gt::test::LiveServer;

gt::test::ProcessResult cli(const Emulator& e, std::vector<std::string> args) {
  std::vector<std::string> argv = {
      GT_CLI_PATH, "--base-url", e.server.url(), "--cacert", TestPki::get().ca_file->path(),
      "--token",   "t"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = gt::test::run_process(argv, {}, {}, 60s);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

std::string create(const Emulator& e, const std::string& topic) {
  auto r = cli(e, {"create", "--group", kGroup, "--topic", topic, "--body", "b", "-o", "id"});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.size() - 1);
}

}  // namespace

TEST_CASE("e2e: list --all follows the emulator's pages, newest first") {
  Emulator e;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create(e, "Topic " + std::to_string(i)));
  auto r = cli(e, {"list", "--group", kGroup, "--top", "2", "--all", "-o", "id"});
  CHECK(r.exit_code == 0);
  std::string expected;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) expected += *it + "\n";
  CHECK(r.out == expected);
  // 5 creates, then 3 pages of at most 2.
  CHECK(e.server.received().size() == 8);
}

TEST_CASE("e2e: list without --all prints one page as a JSON array") {
  Emulator e;
  for (int i = 0; i < 3; ++i) create(e, "T" + std::to_string(i));
  auto r = cli(e, {"list", "--group", kGroup, "--top", "2"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("[\n{", 0) == 0);
  CHECK(r.out.find("\"T2\"") != std::string::npos);
  CHECK(r.out.find("\"T1\"") != std::string::npos);
  CHECK(r.out.find("\"T0\"") == std::string::npos);
}

TEST_CASE("e2e: list of an unknown group exits 1 with Graph's 404") {
  Emulator e({.service = {.groups = {"11111111-1111-1111-1111-111111111111"}}});
  auto r = cli(e, {"list", "--group", kGroup});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("404") != std::string::npos);
  CHECK(r.out.empty());
}
