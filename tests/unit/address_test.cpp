#include "gt/address.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

namespace gt {
namespace {

struct Accepted {
  std::string input;
  std::string address;
  std::optional<std::string> name;
};

TEST_CASE("parse_recipient accepts the documented forms") {
  const std::vector<Accepted> cases = {
      {"a@b.example", "a@b.example", std::nullopt},
      {"  a@b.example\t", "a@b.example", std::nullopt},
      {"Bob <bob@contoso.example>", "bob@contoso.example", "Bob"},
      {"Bob Smith   <bob@contoso.example>  ", "bob@contoso.example", "Bob Smith"},
      {R"("Smith, Bob" <bob@contoso.example>)", "bob@contoso.example", "Smith, Bob"},
      {R"("Bob \"The Builder\"" <bob@contoso.example>)", "bob@contoso.example",
       R"(Bob "The Builder")"},
      {"<bob@contoso.example>", "bob@contoso.example", std::nullopt},
      {"< bob@contoso.example >", "bob@contoso.example", std::nullopt},
      {R"("" <bob@contoso.example>)", "bob@contoso.example", std::nullopt},
      {"first.last+tag@sub-domain.contoso.example", "first.last+tag@sub-domain.contoso.example",
       std::nullopt},
      {"Zoë <zoe@bücher.example>", "zoe@bücher.example", "Zoë"},
  };
  for (const Accepted& c : cases) {
    CAPTURE(c.input);
    const Result<Recipient> r = parse_recipient(c.input, "--to");
    REQUIRE(r.ok());
    CHECK(r->email_address.address == c.address);
    CHECK(r->email_address.name == c.name);
  }
}

struct Rejected {
  std::string input;
  std::string reason;
};

TEST_CASE("parse_recipient rejects malformed recipients with the reason") {
  const std::vector<Rejected> cases = {
      {"", "empty"},
      {"   ", "empty"},
      {"bob", "missing '@'"},
      {"bob@@contoso.example", "more than one '@'"},
      {"bob@x@contoso.example", "more than one '@'"},
      {"@contoso.example", "empty local part"},
      {"bob@", "empty domain"},
      {"bob@localhost", "domain without a dot"},
      {"bob@contoso..example", "empty label in the domain"},
      {"bob@.contoso.example", "empty label in the domain"},
      {"bob@contoso.example.", "empty label in the domain"},
      {"bob@-contoso.example", "domain label starts or ends with '-'"},
      {"bob@contoso-.example", "domain label starts or ends with '-'"},
      {"bob@con_toso.example", "invalid character '_' in the domain"},
      {"bob smith@contoso.example", "whitespace in the address"},
      {"bob@contoso.example, amy@contoso.example", "comma in the address"},
      {"bob\x01@contoso.example", "control character in the address"},
      {"bob\x7f@contoso.example", "control character in the address"},
      {"bob\xc2\x9b@contoso.example", "control character in the address"},
      {"\"bob\"@contoso.example", "quote in the address"},
      {"Bob <bob@contoso.example", "unbalanced '<'"},
      {"Bob bob@contoso.example>", "unbalanced '>'"},
      {"Bob >bob@contoso.example<", "unbalanced '<'"},
      {"Bob <bob@contoso.example> extra", "text after '>'"},
      {"Bob <<bob@contoso.example>>", "more than one '<' or '>'"},
      {"Smith, Bob <bob@contoso.example>",
       "comma in an unquoted name; quote the name or give one recipient per flag"},
      {R"("Smith, Bob <bob@contoso.example>)", "unbalanced quotes in the name"},
      {R"(Bob" <bob@contoso.example>)", "unbalanced quotes in the name"},
      {"Bob\x1b[31m <bob@contoso.example>", "control character in the name"},
      {"Bob <>", "empty"},
      {"Bob <bob>", "missing '@'"},
  };
  for (const Rejected& c : cases) {
    CAPTURE(c.input);
    const Result<Recipient> r = parse_recipient(c.input, "--to");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::kUsage);
    const std::string& m = r.error().message;
    CHECK(m.rfind("--to \"", 0) == 0);
    const std::string tail = "(" + c.reason + ")";
    REQUIRE(m.size() >= tail.size());
    CHECK(m.substr(m.size() - tail.size()) == tail);
  }
}

TEST_CASE("parse_recipient message quotes the input after `what`") {
  const Result<Recipient> r = parse_recipient("bob@", "--to");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        R"(--to "bob@": expected an email address like a@b.example or "Name <a@b.example>" )"
        "(empty domain)");

  const Result<Recipient> escaped = parse_recipient("a\"b\tc", "--cc");
  REQUIRE_FALSE(escaped.ok());
  CHECK(escaped.error().message.rfind(R"(--cc "a\"b\x09c": expected)", 0) == 0);
}

TEST_CASE("address_problem checks a bare address") {
  CHECK(address_problem("a@b.example") == "");
  CHECK(address_problem("a@b-c.d.example") == "");
  CHECK(address_problem("") == "empty");
  CHECK(address_problem("Bob <a@b.example>") == "whitespace in the address");
  CHECK(address_problem("<a@b.example>") == "angle bracket in the address");
  CHECK(address_problem("a@b") == "domain without a dot");
}

TEST_CASE("format_recipient renders and round-trips through parse_recipient") {
  const std::vector<std::pair<Recipient, std::string>> cases = {
      {Recipient{{"a@b.example", std::nullopt}}, "a@b.example"},
      {Recipient{{"a@b.example", ""}}, "a@b.example"},
      {Recipient{{"a@b.example", "Amy"}}, "Amy <a@b.example>"},
      {Recipient{{"a@b.example", "Lee, Amy"}}, R"("Lee, Amy" <a@b.example>)"},
      {Recipient{{"a@b.example", R"(Amy "A" \ Lee)"}}, R"("Amy \"A\" \\ Lee" <a@b.example>)"},
      // Unquoted, the space would be trimmed away when parsed back.
      {Recipient{{"a@b.example", " Amy"}}, R"(" Amy" <a@b.example>)"},
      {Recipient{{"a@b.example", "Amy\t"}}, "\"Amy\t\" <a@b.example>"},
  };
  for (const auto& [recipient, text] : cases) {
    CAPTURE(text);
    CHECK(format_recipient(recipient) == text);
    const Result<Recipient> back = parse_recipient(text, "--to");
    REQUIRE(back.ok());
    CHECK(back->email_address.address == recipient.email_address.address);
    if (recipient.email_address.name && !recipient.email_address.name->empty()) {
      CHECK(back->email_address.name == recipient.email_address.name);
    } else {
      CHECK_FALSE(back->email_address.name.has_value());
    }
  }
}

TEST_CASE("a quoted name with surrounding spaces survives format and parse (fuzz/recipient)") {
  // The input fuzz/recipient minimised: the name " o" came back as "o".
  const Result<Recipient> parsed = parse_recipient(R"(" o"<b@c.c>)", "--to");
  REQUIRE(parsed.ok());
  CHECK(parsed->email_address.name == " o");
  const Result<Recipient> back = parse_recipient(format_recipient(*parsed), "--to");
  REQUIRE(back.ok());
  CHECK(*back == *parsed);
}

}  // namespace
}  // namespace gt
