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

TEST_CASE("e2e: list -o ndjson streams one thread a line over every page") {
  Emulator e;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create(e, "N" + std::to_string(i)));
  auto r = cli(e, {"list", "--group", kGroup, "--top", "2", "--all", "-o", "ndjson"});
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(r.out.substr(at, nl - at));
  }
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(lines[i]);
    CHECK(lines[i].front() == '{');
    CHECK(lines[i].back() == '}');
    // Newest first: the last created thread comes first.
    CHECK(lines[i].find("\"id\":\"" + ids[ids.size() - 1 - i] + "\"") != std::string::npos);
  }
  CHECK(e.server.received().size() == 5 + 3);
  // The same listing through --jq, one topic a line.
  auto topics =
      cli(e, {"list", "--group", kGroup, "--top", "2", "--all", "-o", "ndjson", "--jq", ".topic"});
  CHECK(topics.exit_code == 0);
  CHECK(topics.out == "N4\nN3\nN2\nN1\nN0\n");
}

TEST_CASE("e2e: list --select asks the emulator for $select, recipients come back only then") {
  Emulator e;
  auto made = cli(e, {"create", "--group", kGroup, "--topic", "Sel", "--body", "b", "--to",
                      "Ops <ops@contoso.example>", "--cc", "cc@contoso.example", "-o", "id"});
  REQUIRE(made.exit_code == 0);
  const std::string id = made.out.substr(0, made.out.size() - 1);

  auto plain = cli(e, {"list", "--group", kGroup, "-o", "ndjson"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("toRecipients") == std::string::npos);

  auto selected =
      cli(e, {"list", "--group", kGroup, "--select", "id,toRecipients,ccRecipients", "-o", "tsv"});
  CHECK(selected.exit_code == 0);
  CHECK(selected.out == id + "\tOps <ops@contoso.example>\tcc@contoso.example\n");

  auto json = cli(e, {"list", "--group", kGroup, "--select", "topic", "-o", "ndjson"});
  CHECK(json.exit_code == 0);
  CHECK(json.out.find("\"topic\":\"Sel\"") != std::string::npos);
  CHECK(json.out.find("\"isLocked\"") == std::string::npos);  // only what was selected (and id)

  auto bad = cli(e, {"list", "--group", kGroup, "--select", "id,subject"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("valid: id, topic") != std::string::npos);
  // 1 create + 3 lists; the bad --select sent nothing.
  CHECK(e.server.received().size() == 4);
}

TEST_CASE("e2e: piped output carries no escape sequences unless CLICOLOR_FORCE asks") {
  Emulator e;
  create(e, "Colour");
  for (const char* format : {"json", "table", "ndjson", "tsv", "id"}) {
    CAPTURE(format);
    auto r = cli(e, {"list", "--group", kGroup, "-o", format});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
  }
  auto bad = cli(e, {"list", "--group", kGroup, "-o", "yaml"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find('\x1b') == std::string::npos);

  std::vector<std::string> argv = {
      GT_CLI_PATH, "--base-url", e.server.url(), "--cacert", TestPki::get().ca_file->path(),
      "--token",   "t",          "list",         "--group",  kGroup,
      "-o",        "table"};
  auto forced = gt::test::run_process(argv, {}, {{"CLICOLOR_FORCE", "1"}, {"NO_COLOR", ""}}, 60s);
  CHECK(forced.exit_code == 0);
  CHECK(forced.out.rfind("\x1b[1mID\x1b[0m", 0) == 0);
  auto no_color =
      gt::test::run_process(argv, {}, {{"CLICOLOR_FORCE", "1"}, {"NO_COLOR", "1"}}, 60s);
  CHECK(no_color.exit_code == 0);
  CHECK(no_color.out.find('\x1b') == std::string::npos);
}
