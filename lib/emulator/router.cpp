#include "emulator/router.hpp"

#include <string_view>

#include "emulator/graph_service.hpp"

namespace gt::emulator {

namespace {

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

}  // namespace

const char* Router::route_of(std::string_view target) {
  const std::string_view path = path_of(target);
  if (path.starts_with("/_emulator/")) return "control";
  // "/{tenant}/oauth2/v2.0/..." : the tenant is one segment (a GUID, a domain, "common", ...).
  if (path.size() > 1) {
    const auto slash = path.find('/', 1);
    if (slash != std::string_view::npos && path.substr(slash).starts_with("/oauth2/v2.0/")) {
      return "identity";
    }
  }
  return "graph";
}

HttpResponse Router::handle(const HttpRequest& request) {
  const std::string_view route = route_of(request.target);
  Handler* h = route == "control"    ? routes_.control
               : route == "identity" ? routes_.identity
                                     : routes_.graph;
  if (h) return h->handle(request);
  return graph_error_response(request, 404, "BadRequest",
                              "This emulator does not serve " + std::string(route) +
                                  " endpoints (" + std::string(path_of(request.target)) + ").");
}

}  // namespace gt::emulator
