#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "app/cli.hpp"

namespace {

struct Parsed {
  std::optional<int> code;
  std::string out;
  std::string err;
};

Parsed parse(gt::app::CommandLine& cl, const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out, err;
  gt::app::Io io{in, out, err};
  Parsed p;
  p.code = gt::app::parse_command_line(cl, args, io);
  p.out = out.str();
  p.err = err.str();
  return p;
}

}  // namespace

TEST_CASE("create flags land in CreateOptions") {
  gt::app::CommandLine cl;
  auto p = parse(cl, {"create", "--group", "g-1", "--topic", "T", "--body", "B", "--content-type",
                      "html", "--to", "a@b.example", "--to", "Ann <ann@b.example>", "--cc",
                      "c@d.example", "--participant", "p@q.example", "--input", "t.json"});
  REQUIRE_FALSE(p.code);
  const auto& c = cl.create;
  CHECK(c.group == "g-1");
  CHECK(c.topic == "T");
  CHECK(c.body == "B");
  CHECK(c.content_type == "html");
  CHECK(c.to == std::vector<std::string>{"a@b.example", "Ann <ann@b.example>"});
  CHECK(c.cc == std::vector<std::string>{"c@d.example"});
  CHECK(c.participants == std::vector<std::string>{"p@q.example"});
  CHECK(c.input == "t.json");
  CHECK(c.topic_opt->count() == 1);
  CHECK(c.content_type_opt->count() == 1);
}

TEST_CASE("defaults are defaults, and known as such") {
  gt::app::CommandLine cl;
  auto p = parse(cl, {"create", "--group", "g"});
  REQUIRE_FALSE(p.code);
  CHECK(cl.create.content_type == "text");
  CHECK(cl.create.content_type_opt->count() == 0);
  CHECK(cl.create.topic_opt->count() == 0);
  CHECK(cl.globals.api_version == "v1.0");
  CHECK(cl.globals.retries == 3);
  CHECK(cl.globals.timeout_seconds == 60);
  CHECK(cl.globals.output.empty());
  CHECK_FALSE(cl.globals.dry_run);
}

TEST_CASE("global flags work before and after the subcommand") {
  const std::vector<std::vector<std::string>> forms = {
      {"--api-version", "beta", "-o", "id", "--dry-run", "-v", "--timeout", "2.5", "--retries", "0",
       "--base-url", "https://127.0.0.1:9", "--cacert", "ca.pem", "--token", "t", "create",
       "--group", "g"},
      {"create", "--group", "g", "--api-version", "beta", "-o", "id", "--dry-run", "-v",
       "--timeout", "2.5", "--retries", "0", "--base-url", "https://127.0.0.1:9", "--cacert",
       "ca.pem", "--token", "t"},
  };
  for (const auto& args : forms) {
    CAPTURE(args[0]);
    gt::app::CommandLine cl;
    auto p = parse(cl, args);
    REQUIRE_FALSE(p.code);
    const auto& g = cl.globals;
    CHECK(g.api_version == "beta");
    CHECK(g.output == "id");
    CHECK(g.dry_run);
    CHECK(g.verbose);
    CHECK(g.timeout_seconds == 2.5);
    CHECK(g.retries == 0);
    CHECK(g.base_url == "https://127.0.0.1:9");
    CHECK(g.cacert == "ca.pem");
    CHECK(g.token == "t");
    CHECK(g.base_url_opt->count() == 1);
  }
}

TEST_CASE("usage errors exit 2 with one message naming the flag") {
  struct Case {
    std::vector<std::string> args;
    const char* fragment;
  };
  const Case cases[] = {
      {{"create", "--group", "g", "--content-type", "htm"}, "did you mean \"html\""},
      {{"create", "--group", "g", "--api-version", "v1"}, "did you mean \"v1.0\""},
      {{"create", "--group", "g", "-o", "yaml"}, "expected one of json, table, id"},
      {{"create", "--group", "g", "--cloud", "gcc"}, "expected one of global, usgov, dod, china"},
      {{"create", "--group", "g", "--retries", "11"}, "--retries"},
      {{"create", "--group", "g", "--timeout", "0"}, "greater than 0"},
      {{"create", "--group", "g", "--timeout", "soon"}, "--timeout"},
      {{"create", "--group", "g", "--body", "x", "--body-file", "f"}, "excludes"},
      {{"create", "--group", "g", "--frobnicate"}, "--frobnicate"},
      {{"--group", "g"}, "--group"},
      {{"delete"}, "delete"},
      {{"--dry-run"}, "a command is required"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args.back());
    gt::app::CommandLine cl;
    auto p = parse(cl, c.args);
    REQUIRE(p.code);
    CHECK(*p.code == 2);
    CHECK(p.err.find("graph-threads: ") == 0);
    CHECK(p.err.find(c.fragment) != std::string::npos);
    CHECK(p.err.find("--help' for usage.") != std::string::npos);
    CHECK(p.out.empty());
  }
}

TEST_CASE("help and version go to stdout and exit 0") {
  {
    gt::app::CommandLine cl;
    auto p = parse(cl, {"--version"});
    CHECK(p.code == 0);
    CHECK(p.out == std::string("graph-threads ") + GT_VERSION + "\n");
  }
  {
    gt::app::CommandLine cl;
    auto p = parse(cl, {"--help"});
    CHECK(p.code == 0);
    CHECK(p.out.find("create") != std::string::npos);
    CHECK(p.out.find("Exit codes:") != std::string::npos);
    CHECK(p.out.find("GRAPH_TOKEN") != std::string::npos);
  }
  {
    gt::app::CommandLine cl;
    auto p = parse(cl, {"create", "--help"});
    CHECK(p.code == 0);
    for (const char* flag : {"--group", "--topic", "--body", "--body-file", "--content-type",
                             "--to", "--cc", "--participant", "--input", "Examples:"}) {
      CAPTURE(flag);
      CHECK(p.out.find(flag) != std::string::npos);
    }
  }
  {
    gt::app::CommandLine cl;
    auto p = parse(cl, {});
    CHECK(p.code == 0);
    CHECK(p.out.find("Usage:") != std::string::npos);
  }
}

TEST_CASE("auth subcommands parse into AuthOptions") {
  gt::app::CommandLine cl;
  auto p = parse(
      cl, {"auth", "login", "--scope", "Group.ReadWrite.All", "--scope", "User.Read Mail.Send",
           "--tenant", "contoso.example", "--client-id", "app-id", "--cloud", "usgov"});
  REQUIRE_FALSE(p.code);
  CHECK(cl.auth.login->parsed());
  CHECK(cl.auth.scopes == std::vector<std::string>{"Group.ReadWrite.All", "User.Read Mail.Send"});
  CHECK(cl.auth.tenant == "contoso.example");
  CHECK(cl.auth.client_id == "app-id");
  CHECK(cl.globals.cloud == "usgov");

  gt::app::CommandLine out;
  REQUIRE_FALSE(parse(out, {"auth", "logout", "--all"}).code);
  CHECK(out.auth.logout->parsed());
  CHECK(out.auth.all);

  gt::app::CommandLine defaults;
  REQUIRE_FALSE(parse(defaults, {"auth", "status", "-o", "json"}).code);
  CHECK(defaults.auth.status->parsed());
  CHECK(defaults.auth.tenant == "organizations");
  CHECK(defaults.globals.output == "json");
}

TEST_CASE("auth usage errors exit 2 and point at the right help") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"auth"}, {"auth", "dance"}, {"auth", "login", "--bogus"}}) {
    CAPTURE(args.back());
    gt::app::CommandLine cl;
    auto p = parse(cl, args);
    REQUIRE(p.code);
    CHECK(*p.code == 2);
    CHECK(p.err.find("graph-threads auth") != std::string::npos);
  }
  gt::app::CommandLine help;
  auto h = parse(help, {"auth", "login", "--help"});
  CHECK(h.code == 0);
  CHECK(h.out.find("graph-threads auth login") != std::string::npos);
  CHECK(h.out.find("--client-id") != std::string::npos);
}
