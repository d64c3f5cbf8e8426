// End-to-end tests of get, reply, lock, unlock and delete: the real binary against the emulator
// over loopback TLS.
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

gt::test::ProcessResult cli(const Emulator& e, std::vector<std::string> args,
                            const std::string& stdin_data = {}) {
  std::vector<std::string> argv = {
      GT_CLI_PATH, "--base-url", e.server.url(), "--cacert", TestPki::get().ca_file->path(),
      "--token",   "t"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = gt::test::run_process(argv, stdin_data, {}, 60s);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

std::string create(const Emulator& e, const std::string& topic) {
  auto r = cli(e, {"create", "--group", kGroup, "--topic", topic, "--body", "first", "-o", "id"});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.size() - 1);
}

std::size_t posts(const Emulator& e, const std::string& id) {
  auto t = e.service.store().find(kGroup, id);
  REQUIRE(t);
  return t->posts.size();
}

}  // namespace

TEST_CASE("e2e: get prints the thread as JSON and as an id") {
  Emulator e;
  const std::string id = create(e, "Hello e2e");
  // Emulator ids are base64 with '/', '+' and '=': the CLI must encode them as one segment.
  auto json = cli(e, {"get", "--group", kGroup, id});
  CHECK(json.exit_code == 0);
  CHECK(json.out.find("\"topic\":\"Hello e2e\"") != std::string::npos);
  CHECK(json.out.find("\"isLocked\":false") != std::string::npos);

  auto just_id = cli(e, {"get", "--group", kGroup, id, "-o", "id"});
  CHECK(just_id.exit_code == 0);
  CHECK(just_id.out == id + "\n");
}

TEST_CASE("e2e: reply adds a post and prints nothing") {
  Emulator e;
  const std::string id = create(e, "Question");
  CHECK(posts(e, id) == 1);
  auto r = cli(e, {"reply", "--group", kGroup, id, "--body", "An answer"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(posts(e, id) == 2);
  auto t = e.service.store().find(kGroup, id);
  REQUIRE(t);
  CHECK(t->posts.back().body.content == std::optional<std::string>("An answer"));

  auto from_stdin =
      cli(e, {"reply", "--group", kGroup, id, "--body-file", "-", "--content-type", "html"},
          "<p>html answer</p>");
  CHECK(from_stdin.exit_code == 0);
  CHECK(posts(e, id) == 3);
}

TEST_CASE("e2e: lock then unlock shows in get, a locked thread refuses replies") {
  Emulator e;
  const std::string id = create(e, "Lock me");
  auto lock = cli(e, {"lock", "--group", kGroup, id});
  CHECK(lock.exit_code == 0);
  CHECK(lock.out.empty());
  CHECK(cli(e, {"get", "--group", kGroup, id}).out.find("\"isLocked\":true") != std::string::npos);

  auto refused = cli(e, {"reply", "--group", kGroup, id, "--body", "x"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("423") != std::string::npos);

  auto unlock = cli(e, {"unlock", "--group", kGroup, id, "-o", "id"});
  CHECK(unlock.exit_code == 0);
  CHECK(unlock.out == id + "\n");
  CHECK(cli(e, {"get", "--group", kGroup, id}).out.find("\"isLocked\":false") != std::string::npos);
}

TEST_CASE("e2e: delete --yes removes the thread, get then exits 1 with 404") {
  Emulator e;
  const std::string id = create(e, "Delete me");
  auto del = cli(e, {"delete", "--group", kGroup, id, "--yes"});
  CHECK(del.exit_code == 0);
  CHECK(del.out.empty());
  CHECK_FALSE(e.service.store().find(kGroup, id));

  // get retries a 404 for about 5 s (eventual consistency) before giving up.
  auto get = cli(e, {"get", "--group", kGroup, id});
  CHECK(get.exit_code == 1);
  CHECK(get.err.find("404") != std::string::npos);
  CHECK(get.out.empty());
}

TEST_CASE("e2e: get, reply and lock retry a 404 right after a create, then succeed") {
  Emulator e;
  const std::string id = create(e, "Fresh");
  // Graph may not know a new thread for a moment: the next request of each command is a 404.
  const std::vector<std::vector<std::string>> commands = {
      {"get", "--group", kGroup, id, "-o", "id"},
      {"reply", "--group", kGroup, id, "--body", "second"},
      {"lock", "--group", kGroup, id}};
  for (const auto& args : commands) {
    CAPTURE(args[0]);
    e.faults.push(
        {.kind = gt::emulator::FaultKind::kStatus, .status = 404, .code = "ErrorItemNotFound"});
    const auto before = e.server.received().size();
    auto r = cli(e, args);
    CHECK(r.exit_code == 0);
    CHECK(e.server.received().size() == before + 2);  // the 404, then the retry 1 s later
  }
  CHECK(posts(e, id) == 2);
  CHECK(e.service.store().find(kGroup, id)->is_locked);
}

TEST_CASE("e2e: delete without --yes in a pipe is refused and sends nothing") {
  Emulator e;
  const std::string id = create(e, "Keep me");
  const auto before = e.server.received().size();
  auto r = cli(e, {"delete", "--group", kGroup, id}, "y\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--yes") != std::string::npos);
  CHECK(e.server.received().size() == before);
  CHECK(e.service.store().find(kGroup, id));
}
