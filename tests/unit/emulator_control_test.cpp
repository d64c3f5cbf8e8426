#include <doctest/doctest.h>

#include "emulator/control.hpp"

using gt::emulator::FaultKind;

namespace {

gt::HttpRequest req(std::string method, std::string target, std::string body = {}) {
  gt::HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers = {{"client-request-id", "c-1"}};
  return r;
}

// A device code waiting for approval, from a devicecode request to the identity service.
std::string start_device_flow(gt::emulator::IdentityService& identity) {
  gt::HttpRequest r = req("POST", "/organizations/oauth2/v2.0/devicecode",
                          "client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&scope=offline_access");
  r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  r.headers.push_back({"Host", "127.0.0.1:8443"});
  REQUIRE(identity.handle(r).status == 200);
  REQUIRE(identity.device_codes().size() == 1);
  return identity.device_codes()[0].user_code;
}

}  // namespace

TEST_CASE("emulator: control scripts faults for the next or the Nth request") {
  gt::emulator::FaultPlan faults;
  gt::emulator::ControlService control(faults, nullptr, "demo@x");
  auto r = control.handle(req("POST", "/_emulator/faults", R"({"fault":"503"})"));
  CHECK(r.status == 204);
  CHECK(r.header("client-request-id") == "c-1");
  r = control.handle(req("POST", "/_emulator/faults", R"({"fault":"drop-after","request":3})"));
  CHECK(r.status == 204);
  const auto first = faults.next_for_request();
  CHECK(first.kind == FaultKind::kStatus);
  CHECK(first.status == 503);
  CHECK(faults.next_for_request().kind == FaultKind::kNone);
  CHECK(faults.next_for_request().kind == FaultKind::kDropAfterRead);

  CHECK(
      control.handle(req("POST", "/_emulator/faults", R"({"fault":"slow","slowMs":250})")).status ==
      204);
  CHECK(control.handle(req("DELETE", "/_emulator/faults")).status == 204);
  CHECK(faults.next_for_request().kind == FaultKind::kNone);
}

TEST_CASE("emulator: control rejects malformed fault requests with 400") {
  gt::emulator::FaultPlan faults;
  gt::emulator::ControlService control(faults, nullptr, "demo@x");
  for (const char* body : {"", "[]", R"({"fault":"418"})", R"({"fault":"429","request":0})",
                           R"({"fault":"slow","slowMs":-1})", "{"}) {
    CAPTURE(body);
    const auto r = control.handle(req("POST", "/_emulator/faults", body));
    CHECK(r.status == 400);
    CHECK(r.body.find("\"error\"") != std::string::npos);
  }
  CHECK(control.handle(req("GET", "/_emulator/faults")).status == 405);
  CHECK(control.handle(req("GET", "/_emulator/nothing")).status == 404);
}

TEST_CASE("emulator: control approves and denies device codes") {
  auto identity = gt::emulator::IdentityService::create({});
  REQUIRE(identity);
  gt::emulator::FaultPlan faults;
  gt::emulator::ControlService control(faults, identity->get(), "demo@graph-threads.test");

  const std::string code = start_device_flow(**identity);
  const auto listed = control.handle(req("GET", "/_emulator/devices"));
  CHECK(listed.status == 200);
  CHECK(listed.body.find("\"userCode\":\"" + code + "\"") != std::string::npos);
  CHECK(listed.body.find("\"state\":\"pending\"") != std::string::npos);

  CHECK(control
            .handle(req("POST", "/_emulator/devices/" + code + "/approve",
                        R"({"username":"ada@contoso.example"})"))
            .status == 204);
  CHECK((*identity)->device_codes()[0].state == "approved");
  CHECK((*identity)->device_codes()[0].user == "ada@contoso.example");
  // Settled codes cannot be approved again.
  CHECK(control.handle(req("POST", "/_emulator/devices/" + code + "/deny")).status == 400);
  CHECK(control.handle(req("POST", "/_emulator/devices/NOPE/approve")).status == 400);
}

TEST_CASE("emulator: control device approval defaults to the demo user") {
  auto identity = gt::emulator::IdentityService::create({});
  REQUIRE(identity);
  gt::emulator::FaultPlan faults;
  gt::emulator::ControlService control(faults, identity->get(), "demo@graph-threads.test");
  const std::string code = start_device_flow(**identity);
  CHECK(control.handle(req("POST", "/_emulator/devices/" + code + "/approve")).status == 204);
  CHECK((*identity)->device_codes()[0].user == "demo@graph-threads.test");
}

TEST_CASE("emulator: without identity endpoints the device API answers 404") {
  gt::emulator::FaultPlan faults;
  gt::emulator::ControlService control(faults, nullptr, "d");
  CHECK(control.handle(req("GET", "/_emulator/devices")).status == 404);
  CHECK(control.handle(req("POST", "/_emulator/users/a/revoke")).status == 404);
}
