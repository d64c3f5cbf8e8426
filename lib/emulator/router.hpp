// emulator/router: one Handler in front of the emulator's parts, dispatching on the path:
//   /_emulator/...                 -> control (fault scripting, device approval; loopback tooling)
//   /{tenant}/oauth2/v2.0/...      -> identity (Microsoft identity platform stand-in)
//   everything else                -> graph (/v1.0/..., /beta/..., $batch)
// A part that is absent (nullptr) answers 404 in Graph's error envelope.
#pragma once

#include "emulator/handler.hpp"

namespace gt::emulator {

struct Routes {
  Handler* graph = nullptr;
  Handler* identity = nullptr;
  Handler* control = nullptr;
};

class Router final : public Handler {
 public:
  explicit Router(Routes routes) : routes_(routes) {}
  HttpResponse handle(const HttpRequest& request) override;

  // Which part a target goes to (for tests and logs): "graph", "identity" or "control".
  static const char* route_of(std::string_view target);

 private:
  Routes routes_;
};

}  // namespace gt::emulator
