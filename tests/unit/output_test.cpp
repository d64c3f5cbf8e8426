// The scripting contract of every command's output: -o ndjson and tsv, --select columns, --jq,
// colour decisions and action results. Pure components first, then the app with recording fakes.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/env.hpp"
#include "gt/format.hpp"
#include "gt/jq_filter.hpp"
#include "gt/json_codec.hpp"
#include "support/app_harness.hpp"
#include "support/jwt.hpp"

using gt::test::AppHarness;

namespace gt {
namespace {

constexpr const char* kGroup = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
constexpr const char* kThread = "AAQkAD/x+y==";

CreatedThread decoded(const std::string& json) {
  auto t = decode_created_thread(json);
  REQUIRE(t);
  return *t;
}

std::string written(const CreatedThread& t, OutputFormat format, FormatOptions options = {}) {
  std::ostringstream out;
  write_thread(out, t, format, options);
  return out.str();
}

const char* const kRich =
    R"({"id":"A1","topic":"Tab\there\nand line","isLocked":true,"hasAttachments":false,)"
    R"("uniqueSenders":["Ada","Bob"],"preview":"",)"
    R"("toRecipients":[{"emailAddress":{"name":"Ops","address":"ops@x.example"}},)"
    R"({"emailAddress":{"address":"b@x.example"}}],"ccRecipients":[]})";

TEST_CASE("parse_output_format knows ndjson and tsv, every name round-trips") {
  CHECK(parse_output_format("ndjson") == OutputFormat::kNdjson);
  CHECK(parse_output_format("tsv") == OutputFormat::kTsv);
  CHECK_FALSE(parse_output_format("csv"));
  CHECK(output_format_names() == std::vector<std::string>{"json", "table", "id", "ndjson", "tsv"});
  for (const std::string& name : output_format_names()) {
    REQUIRE(parse_output_format(name));
    CHECK(output_format_name(*parse_output_format(name)) == name);
  }
}

TEST_CASE("ndjson: one object on one line, values unchanged") {
  CreatedThread t = decoded(R"({"id":"x","n":1.50})");
  t.raw_json = "{\n  \"id\": \"x\",\n  \"n\": 1.50,\n  \"s\": \"a b\\n\"\n}\n";
  CHECK(written(t, OutputFormat::kNdjson) == "{\"id\":\"x\",\"n\":1.50,\"s\":\"a b\\n\"}\n");
}

TEST_CASE("tsv: the table's columns, no header, no padding, empty for missing, one line") {
  const CreatedThread t = decoded(kRich);
  CHECK(written(t, OutputFormat::kTsv) == "A1\tTab here and line\t\tyes\t\n");
  CHECK(written(decoded(R"({"id":"B"})"), OutputFormat::kTsv) == "B\t\t\t\t\n");
  // Escape sequences from the service never reach a pipe either.
  CHECK(written(decoded(R"({"id":"C","topic":"\u001b[31mred"})"), OutputFormat::kTsv) ==
        "C\tred\t\t\t\n");
}

TEST_CASE("--select columns: table headers and cells per property, tsv the same cells") {
  const CreatedThread t = decoded(kRich);
  FormatOptions o;
  o.columns = {"id", "toRecipients", "ccRecipients", "uniqueSenders", "hasAttachments"};
  CHECK(written(t, OutputFormat::kTable, o) ==
        "ID  TO                                CC  SENDERS   ATTACHMENTS\n"
        "A1  Ops <ops@x.example>, b@x.example  -   Ada, Bob  no\n");
  CHECK(written(t, OutputFormat::kTsv, o) ==
        "A1\tOps <ops@x.example>, b@x.example\t\tAda, Bob\tno\n");
}

TEST_CASE("parse_thread_select: canonical names, unknown, non-letter and repeated names fail") {
  auto ok = parse_thread_select("ID,topic,torecipients");
  REQUIRE(ok);
  CHECK(*ok == std::vector<std::string>{"id", "topic", "toRecipients"});
  auto typo = parse_thread_select("id,topc");
  REQUIRE_FALSE(typo);
  CHECK(typo.error().kind == ErrorKind::kUsage);
  CHECK(typo.error().message ==
        "--select: \"topc\" is not a conversationThread property (did you mean \"topic\"?); "
        "valid: id, topic, hasAttachments, lastDeliveredDateTime, uniqueSenders, preview, "
        "isLocked, toRecipients, ccRecipients");
  for (const char* bad :
       {"", "id,", ",id", "id,,topic", "to-recipients", "id topic", "posts", "id,id"}) {
    CAPTURE(bad);
    auto r = parse_thread_select(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind("--select: ", 0) == 0);
  }
  CHECK(parse_thread_select("to-recipients").error().message.find("letters only") !=
        std::string::npos);
}

TEST_CASE("ThreadListWriter: ndjson and tsv stream each page as it arrives") {
  const std::vector<CreatedThread> page1 = {decoded(R"({"id":"a","topic":"A"})"),
                                            decoded(R"({"id":"b","topic":"B"})")};
  const std::vector<CreatedThread> page2 = {decoded(R"({"id":"c","isLocked":false})")};
  std::ostringstream nd;
  ThreadListWriter ndw(nd, OutputFormat::kNdjson, {});
  ndw.add(page1);
  CHECK(nd.str() == "{\"id\":\"a\",\"topic\":\"A\"}\n{\"id\":\"b\",\"topic\":\"B\"}\n");
  ndw.add(page2);
  ndw.finish();
  CHECK(nd.str() ==
        "{\"id\":\"a\",\"topic\":\"A\"}\n{\"id\":\"b\",\"topic\":\"B\"}\n{\"id\":\"c\","
        "\"isLocked\":false}\n");
  std::ostringstream tsv;
  ThreadListWriter tw(tsv, OutputFormat::kTsv, {});
  tw.add(page1);
  CHECK(tsv.str() == "a\tA\t\t\t\nb\tB\t\t\t\n");
  tw.add({});
  tw.add(page2);
  tw.finish();
  CHECK(tsv.str() == "a\tA\t\t\t\nb\tB\t\t\t\nc\t\t\tno\t\n");
  std::ostringstream empty;
  ThreadListWriter ew(empty, OutputFormat::kNdjson, {});
  ew.finish();
  CHECK(empty.str().empty());
}

TEST_CASE("colour: JSON keys/strings/literals, table header bold, LOCKED yes yellow, error red") {
  FormatOptions o;
  o.color = true;
  const CreatedThread t = decoded(R"({"id":"x","isLocked":true,"n":null})");
  CHECK(written(t, OutputFormat::kNdjson, o) ==
        "{\x1b[1;34m\"id\"\x1b[0m:\x1b[32m\"x\"\x1b[0m,\x1b[1;34m\"isLocked\"\x1b[0m:"
        "\x1b[36mtrue\x1b[0m,\x1b[1;34m\"n\"\x1b[0m:\x1b[36mnull\x1b[0m}\n");
  const std::string table = written(t, OutputFormat::kTable, o);
  CHECK(table.rfind("\x1b[1mID\x1b[0m  ", 0) == 0);
  CHECK(table.find("\x1b[33myes\x1b[0m") != std::string::npos);
  // Padding counts the visible text only: the row lines up under the header.
  CHECK(table.find("\nx   -      -               \x1b[33myes\x1b[0m     -\n") != std::string::npos);
  CHECK(written(t, OutputFormat::kTsv, o).find('\x1b') == std::string::npos);
  std::ostringstream err;
  write_error(err, "graph-threads", Error::usage("bad"), true);
  CHECK(err.str() == "\x1b[1;31mgraph-threads:\x1b[0m bad\n");
  // Without colour, not one escape anywhere.
  FormatOptions plain;
  for (OutputFormat f : {OutputFormat::kJson, OutputFormat::kNdjson, OutputFormat::kTable,
                         OutputFormat::kTsv, OutputFormat::kId}) {
    CHECK(written(t, f, plain).find('\x1b') == std::string::npos);
  }
}

TEST_CASE("write_action in every format") {
  const ActionResult r{"T1", "G1", "locked", true};
  auto w = [&](OutputFormat f, FormatOptions o = {}) {
    std::ostringstream out;
    write_action(out, r, f, o);
    return out.str();
  };
  CHECK(w(OutputFormat::kNdjson) ==
        "{\"id\":\"T1\",\"group\":\"G1\",\"action\":\"locked\","
        "\"isLocked\":true}\n");
  FormatOptions pretty;
  pretty.pretty_json = true;
  CHECK(w(OutputFormat::kJson, pretty) ==
        "{\n  \"id\": \"T1\",\n  \"group\": \"G1\",\n  \"action\": \"locked\",\n"
        "  \"isLocked\": true\n}\n");
  CHECK(w(OutputFormat::kTable) == "ID  GROUP  ACTION\nT1  G1     locked\n");
  CHECK(w(OutputFormat::kTsv) == "T1\tG1\tlocked\n");
  CHECK(w(OutputFormat::kId) == "T1\n");
  CHECK(action_json({"T", "G", "replied", {}}) == R"({"id":"T","group":"G","action":"replied"})");
}

// ---------------------------------------------------------------------------------------------
// jq

std::string jq(const std::string& program, const std::string& input,
               JsonLayout layout = {.indent = false}) {
  auto f = JqFilter::compile(program);
  REQUIRE(f);
  std::ostringstream out;
  auto st = f->run(input, out, layout);
  REQUIRE(st);
  return out.str();
}

TEST_CASE("jq: strings raw, other results JSON, one a line") {
  CHECK(jq(".[].topic", R"([{"topic":"a \"q\""},{"topic":"b"}])") == "a \"q\"\nb\n");
  CHECK(jq(".[] | {id}", R"([{"id":"1","x":2},{"id":"2"}])") == "{\"id\":\"1\"}\n{\"id\":\"2\"}\n");
  CHECK(jq("length", "[1,2,3]") == "3\n");
  CHECK(jq(".a", R"({"a":{"b":[1,true,null]}})", {.indent = true}) ==
        "{\n  \"b\": [\n    1,\n    true,\n    null\n  ]\n}\n");
  CHECK(jq("empty", "{}") == "");
  // A raw string from the service cannot drive the terminal.
  CHECK(jq(".t", R"({"t":"x\u001b]0;pwned\u0007y\tz"})") == "x]0;pwnedy\tz\n");
}

TEST_CASE("jq: a program that does not compile is a usage error with jq's message") {
  for (const char* bad : {".[", "foo(1)", ".a |", "{"}) {
    CAPTURE(bad);
    auto f = JqFilter::compile(bad);
    REQUIRE_FALSE(f);
    CHECK(f.error().kind == ErrorKind::kUsage);
    CHECK(f.error().message.rfind("--jq: ", 0) == 0);
    CHECK(f.error().message.find("compile error") == std::string::npos);
  }
  CHECK(JqFilter::compile("foo(1)").error().message.find("foo/1 is not defined") !=
        std::string::npos);
}

TEST_CASE("jq: a runtime error fails with jq's message after the results before it") {
  auto f = JqFilter::compile(".[] | .a");
  REQUIRE(f);
  std::ostringstream out;
  auto st = f->run(R"([{"a":1},"s"])", out, {.indent = false});
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == ErrorKind::kUsage);
  CHECK(st.error().message == "--jq: Cannot index string with string \"a\"");
  CHECK(out.str() == "1\n");
  // The filter is usable again afterwards.
  std::ostringstream again;
  CHECK(f->run(R"([{"a":2}])", again, {.indent = false}));
  CHECK(again.str() == "2\n");
}

// ---------------------------------------------------------------------------------------------
// Colour decisions: a pure function of "is it a terminal" and the environment.

struct ColorCase {
  bool tty;
  std::map<std::string, std::string> env;
  bool expected;
};

TEST_CASE("color_wanted follows no-color.org and bixense.com/clicolors") {
  const std::vector<ColorCase> cases = {
      {true, {}, true},
      {false, {}, false},
      {true, {{"NO_COLOR", "1"}}, false},
      {true, {{"NO_COLOR", ""}}, true},  // empty does not count
      {false, {{"CLICOLOR_FORCE", "1"}}, true},
      {false, {{"CLICOLOR_FORCE", "0"}}, false},
      {false, {{"CLICOLOR_FORCE", ""}}, false},
      {false, {{"CLICOLOR_FORCE", "1"}, {"NO_COLOR", "1"}}, false},  // NO_COLOR wins
      {true, {{"CLICOLOR", "0"}}, false},
      {true, {{"CLICOLOR", "1"}}, true},
      {true, {{"TERM", "dumb"}}, false},
      {false, {{"TERM", "dumb"}, {"CLICOLOR_FORCE", "yes"}}, true},
  };
  for (const ColorCase& c : cases) {
    CAPTURE(c.tty);
    CAPTURE(c.env.size());
    app::MapEnv env(c.env);
    CHECK(app::color_wanted(c.tty, env) == c.expected);
  }
}

// ---------------------------------------------------------------------------------------------
// The app: argv -> recorded requests -> stdout.

const std::string kPage =
    R"({"value":[{"id":"a","topic":"A","isLocked":false},{"id":"b","topic":"B\tx"}],)"
    R"("@odata.nextLink":"https://graph.microsoft.com/v1.0/groups/)" +
    std::string(kGroup) + R"(/threads?$skiptoken=p2"})";
const std::string kLastPage = R"({"value":[{"id":"c","topic":"C"}]})";

std::vector<std::string> list(std::vector<std::string> extra) {
  std::vector<std::string> a = {"list", "--group", kGroup, "--token", "tok", "--all"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST_CASE("list -o ndjson / tsv: a line per thread over every page") {
  AppHarness nd;
  nd.transport.respond(200, kPage).respond(200, kLastPage);
  CHECK(nd.run(list({"-o", "ndjson"})) == 0);
  CHECK(nd.out.str() ==
        "{\"id\":\"a\",\"topic\":\"A\",\"isLocked\":false}\n{\"id\":\"b\",\"topic\":\"B\\tx\"}\n"
        "{\"id\":\"c\",\"topic\":\"C\"}\n");
  AppHarness tsv;
  tsv.transport.respond(200, kPage).respond(200, kLastPage);
  CHECK(tsv.run(list({"-o", "tsv"})) == 0);
  CHECK(tsv.out.str() == "a\tA\t\tno\t\nb\tB x\t\t\t\nc\tC\t\t\t\n");
}

TEST_CASE("list --select sends $select and picks the table/tsv columns") {
  AppHarness h;
  h.transport.respond(200, R"({"value":[{"id":"a","topic":"A",)"
                           R"("toRecipients":[{"emailAddress":{"address":"o@x.example"}}]}]})");
  CHECK(h.run({"list", "--group", kGroup, "--token", "t", "--select", "topic,toRecipients,id", "-o",
               "tsv"}) == 0);
  REQUIRE(h.transport.requests.size() == 1);
  CHECK(h.transport.requests[0].target ==
        std::string("/v1.0/groups/") + kGroup + "/threads?$select=topic,toRecipients,id");
  CHECK(h.out.str() == "A\to@x.example\ta\n");
}

TEST_CASE("list --select with an unknown property is a usage error, nothing is sent") {
  AppHarness h;
  CHECK(h.run({"list", "--group", kGroup, "--token", "t", "--select", "id,subject"}) == 2);
  CHECK(h.transport.requests.empty());
  CHECK(h.transports_made == 0);
  CHECK(h.err.str().find("--select: \"subject\" is not a conversationThread property") !=
        std::string::npos);
}

TEST_CASE("list --jq runs over the whole array, with -o ndjson over each thread") {
  AppHarness whole;
  whole.transport.respond(200, kPage).respond(200, kLastPage);
  CHECK(whole.run(list({"--jq", "map(.id) | join(\",\")"})) == 0);
  CHECK(whole.out.str() == "a,b,c\n");
  AppHarness each;
  each.transport.respond(200, kPage).respond(200, kLastPage);
  CHECK(each.run(list({"-o", "ndjson", "--jq", ".topic"})) == 0);
  CHECK(each.out.str() == "A\nB\tx\nC\n");
  // --jq replaces the terminal's table default.
  AppHarness tty;
  tty.out_is_tty = true;
  tty.env.set("NO_COLOR", "1");
  tty.transport.respond(200, kLastPage);
  CHECK(tty.run(list({"--jq", ".[0]"})) == 0);
  CHECK(tty.out.str() == "{\n  \"id\": \"c\",\n  \"topic\": \"C\"\n}\n");
}

TEST_CASE("--jq that does not compile, or with -o table/id/tsv: exit 2, nothing sent") {
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{{"--jq", ".["},
                                             {"--jq", ".", "-o", "table"},
                                             {"--jq", ".", "-o", "tsv"},
                                             {"--jq", ".", "-o", "id"}}) {
    CAPTURE(extra[1]);
    for (const char* command : {"list", "get", "create", "lock"}) {
      CAPTURE(command);
      AppHarness h;
      std::vector<std::string> a = {command, "--group", kGroup, "--token", "tok"};
      if (std::string(command) == "create") {
        a.insert(a.end(), {"--topic", "T", "--body", "B"});
      } else if (std::string(command) != "list") {
        a.push_back(kThread);
      }
      a.insert(a.end(), extra.begin(), extra.end());
      CHECK(h.run(a) == 2);
      CHECK(h.transport.requests.empty());
      CHECK(h.transports_made == 0);
      CHECK(h.err.str().find("--jq") != std::string::npos);
    }
  }
}

TEST_CASE("--jq runtime error on get: exit 2, the message says what failed") {
  AppHarness h;
  h.transport.respond(200, R"({"id":"x","topic":"T"})");
  CHECK(h.run({"get", "--group", kGroup, kThread, "--token", "t", "--jq", ".topic.x"}) == 2);
  CHECK(h.err.str().find("--jq: Cannot index string") != std::string::npos);
}

TEST_CASE("create --jq .id prints the raw id, a runtime error says the thread was created") {
  AppHarness h;
  h.transport.respond(201, R"({"id":"AAQk=","topic":"T"})");
  CHECK(h.run({"create", "--group", kGroup, "--token", "t", "--topic", "T", "--body", "B", "--jq",
               ".id"}) == 0);
  CHECK(h.out.str() == "AAQk=\n");
  AppHarness bad;
  bad.transport.respond(201, R"({"id":"AAQk=","topic":"T"})");
  CHECK(bad.run({"create", "--group", kGroup, "--token", "t", "--topic", "T", "--body", "B", "--jq",
                 ".topic.x"}) == 2);
  CHECK(bad.err.str().find("(the thread was created: AAQk=)") != std::string::npos);
}

TEST_CASE("get -o ndjson and tsv") {
  AppHarness nd;
  nd.transport.respond(200, "{\n \"id\": \"x\",\n \"topic\": \"T\"\n}\n");
  CHECK(nd.run({"get", "--group", kGroup, kThread, "--token", "t", "-o", "ndjson"}) == 0);
  CHECK(nd.out.str() == "{\"id\":\"x\",\"topic\":\"T\"}\n");
  AppHarness tsv;
  tsv.transport.respond(200, R"({"id":"x","topic":"T","isLocked":true})");
  CHECK(tsv.run({"get", "--group", kGroup, kThread, "--token", "t", "-o", "tsv"}) == 0);
  CHECK(tsv.out.str() == "x\tT\t\tyes\t\n");
}

struct ActionCase {
  std::string command;
  int status;
  std::vector<std::string> extra;
  std::string action;
};

TEST_CASE("reply, lock, unlock, delete: nothing by default, every -o format and --jq") {
  const std::vector<ActionCase> cases = {
      {"reply", 202, {"--body", "b"}, "replied"},
      {"lock", 200, {}, "locked"},
      {"unlock", 200, {}, "unlocked"},
      {"delete", 204, {"--yes"}, "deleted"},
  };
  for (const ActionCase& c : cases) {
    CAPTURE(c.command);
    auto run = [&](std::vector<std::string> more) {
      AppHarness h;
      h.transport.respond(c.status, c.status == 200 ? "{}" : "");
      std::vector<std::string> a = {c.command, "--group", kGroup, kThread, "--token", "tok"};
      a.insert(a.end(), c.extra.begin(), c.extra.end());
      a.insert(a.end(), more.begin(), more.end());
      CHECK(h.run(a) == 0);
      CHECK(h.transport.requests.size() == 1);
      return h.out.str();
    };
    const std::string locked = c.action == "locked"     ? ",\"isLocked\":true"
                               : c.action == "unlocked" ? ",\"isLocked\":false"
                                                        : "";
    const std::string object = std::string("{\"id\":\"") + kThread + "\",\"group\":\"" + kGroup +
                               "\",\"action\":\"" + c.action + "\"" + locked + "}";
    CHECK(run({}) == "");
    CHECK(run({"-o", "json"}) == object + "\n");
    CHECK(run({"-o", "ndjson"}) == object + "\n");
    CHECK(run({"-o", "id"}) == std::string(kThread) + "\n");
    CHECK(run({"-o", "tsv"}) == std::string(kThread) + "\t" + kGroup + "\t" + c.action + "\n");
    CHECK(run({"-o", "table"}).rfind("ID", 0) == 0);
    CHECK(run({"--jq", ".action"}) == c.action + "\n");
  }
}

TEST_CASE("auth status in every format, and --jq") {
  const std::string jwt = gt::test::make_jwt(
      R"({"scp":"Group-Conversation.ReadWrite.All","upn":"ada@contoso.example","tid":"t1"})");
  auto run = [&](std::vector<std::string> more) {
    AppHarness h;
    h.env.set("GRAPH_TOKEN", jwt);
    std::vector<std::string> a = {"auth", "status"};
    a.insert(a.end(), more.begin(), more.end());
    CHECK(h.run(a) == 0);
    return h.out.str();
  };
  const std::string nd = run({"-o", "ndjson"});
  CHECK(nd.rfind("{\"signedIn\":true,\"source\":\"GRAPH_TOKEN\"", 0) == 0);
  CHECK(std::count(nd.begin(), nd.end(), '\n') == 1);
  CHECK(run({"-o", "id"}) == "ada@contoso.example\n");
  const std::string tsv = run({"-o", "tsv"});
  CHECK(tsv.find("account\tada@contoso.example\n") != std::string::npos);
  CHECK(tsv.find("canCreateThreads\ttrue\n") != std::string::npos);
  CHECK(tsv.find("scopes\tGroup-Conversation.ReadWrite.All\n") != std::string::npos);
  CHECK(run({"--jq", ".account"}) == "ada@contoso.example\n");
  CHECK(run({"--jq", ".canCreateThreads"}) == "true\n");
}

TEST_CASE("--jq with auth token is a usage error (a bare secret is not JSON)") {
  AppHarness h;
  h.env.set("GRAPH_TOKEN", "secret-token");
  CHECK(h.run({"auth", "token", "--jq", "."}) == 2);
  CHECK(h.out.str().empty());
  CHECK(h.err.str().find("--jq") != std::string::npos);
}

TEST_CASE("an invalid -o is a usage error naming --output and the valid values") {
  AppHarness h;
  CHECK(h.run({"list", "--group", kGroup, "--token", "t", "-o", "yaml"}) == 2);
  CHECK(h.err.str().find("--output") != std::string::npos);
  CHECK(h.err.str().find("json, table, id, ndjson, tsv") != std::string::npos);
  CHECK(h.transports_made == 0);
}

TEST_CASE("bulk create: -o table/id/tsv refused before anything is read or sent, --jq per line") {
  for (const char* format : {"table", "id", "tsv"}) {
    CAPTURE(format);
    AppHarness h;
    h.in.str(
        "{\"topic\":\"a\",\"posts\":[{\"body\":{\"content\":\"x\"}}]}\n"
        "{\"topic\":\"b\",\"posts\":[{\"body\":{\"content\":\"y\"}}]}\n");
    CHECK(h.run({"create", "--group", kGroup, "--token", "t", "--input", "-", "-o", format}) == 2);
    CHECK(h.out.str().empty());
    CHECK(h.err.str().find("--output " + std::string(format)) != std::string::npos);
  }
  AppHarness jq;
  jq.in.str(
      "{\"topic\":\"a\",\"posts\":[{\"body\":{\"content\":\"x\"}}]}\n"
      "{\"topic\":\"b\",\"posts\":[{\"body\":{\"content\":\"y\"}}]}\n");
  CHECK(jq.run({"create", "--group", kGroup, "--token", "t", "--input", "-", "--jq",
                "[.index, .outcome] | @tsv"}) == 0);
  CHECK(jq.out.str() == "0\tcreated\n1\tcreated\n");
  AppHarness nd;  // ndjson is what bulk writes anyway
  nd.in.str(
      "{\"topic\":\"a\",\"posts\":[{\"body\":{\"content\":\"x\"}}]}\n"
      "{\"topic\":\"b\",\"posts\":[{\"body\":{\"content\":\"y\"}}]}\n");
  CHECK(nd.run({"create", "--group", kGroup, "--token", "t", "--input", "-", "-o", "ndjson"}) == 0);
  const std::string lines = nd.out.str();
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
}

TEST_CASE("colour reaches stdout and stderr only on a terminal, or with CLICOLOR_FORCE") {
  const std::string body = R"({"id":"x","topic":"T","isLocked":true})";
  AppHarness piped;
  piped.transport.respond(200, body);
  CHECK(piped.run({"get", "--group", kGroup, kThread, "--token", "t"}) == 0);
  CHECK(piped.out.str().find('\x1b') == std::string::npos);

  AppHarness tty;
  tty.out_is_tty = true;
  tty.transport.respond(200, body);
  CHECK(tty.run({"get", "--group", kGroup, kThread, "--token", "t", "-o", "json"}) == 0);
  CHECK(tty.out.str().find("\x1b[1;34m\"id\"") != std::string::npos);

  AppHarness no_color;
  no_color.out_is_tty = true;
  no_color.env.set("NO_COLOR", "1");
  no_color.transport.respond(200, body);
  CHECK(no_color.run({"get", "--group", kGroup, kThread, "--token", "t"}) == 0);
  CHECK(no_color.out.str().find('\x1b') == std::string::npos);

  AppHarness forced;
  forced.env.set("CLICOLOR_FORCE", "1");
  forced.transport.respond(200, body);
  CHECK(forced.run({"get", "--group", kGroup, kThread, "--token", "t", "-o", "table"}) == 0);
  CHECK(forced.out.str().rfind("\x1b[1mID\x1b[0m", 0) == 0);

  AppHarness err_tty;
  err_tty.err_is_tty = true;
  CHECK(err_tty.run({"list", "--group", "", "--token", "t"}) == 2);
  CHECK(err_tty.err.str().rfind("\x1b[1;31mgraph-threads:\x1b[0m ", 0) == 0);
  AppHarness err_pipe;
  CHECK(err_pipe.run({"list", "--group", "", "--token", "t"}) == 2);
  CHECK(err_pipe.err.str().find('\x1b') == std::string::npos);
}

}  // namespace
}  // namespace gt
