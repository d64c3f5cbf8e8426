#include <doctest/doctest.h>

#include "emulator/router.hpp"

namespace {

struct Named final : gt::emulator::Handler {
  explicit Named(int s) : status(s) {}
  gt::HttpResponse handle(const gt::HttpRequest&) override {
    gt::HttpResponse r;
    r.status = status;
    return r;
  }
  int status;
};

gt::HttpRequest at(std::string target) {
  gt::HttpRequest r;
  r.target = std::move(target);
  return r;
}

}  // namespace

TEST_CASE("emulator: router sends each path to its part") {
  struct Case {
    const char* target;
    const char* route;
  };
  const Case cases[] = {
      {"/v1.0/groups/g/threads", "graph"},
      {"/beta/$batch", "graph"},
      {"/organizations/oauth2/v2.0/token", "identity"},
      {"/contoso.onmicrosoft.com/oauth2/v2.0/devicecode?x=1", "identity"},
      {"/_emulator/faults", "control"},
      {"/oauth2/v2.0/token", "graph"},  // no tenant segment
      {"/", "graph"},
  };
  Named graph(200), identity(201), control(202);
  gt::emulator::Router router({.graph = &graph, .identity = &identity, .control = &control});
  for (const auto& c : cases) {
    CAPTURE(c.target);
    CHECK(std::string(gt::emulator::Router::route_of(c.target)) == c.route);
    const int expected = std::string(c.route) == "graph"      ? 200
                         : std::string(c.route) == "identity" ? 201
                                                              : 202;
    CHECK(router.handle(at(c.target)).status == expected);
  }
}

TEST_CASE("emulator: a missing part answers 404 in Graph's envelope") {
  Named graph(200);
  gt::emulator::Router router({.graph = &graph});
  const auto r = router.handle(at("/common/oauth2/v2.0/token"));
  CHECK(r.status == 404);
  CHECK(r.body.find("\"error\"") != std::string::npos);
}
