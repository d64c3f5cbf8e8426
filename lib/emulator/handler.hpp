// emulator/handler: what the server serves. Every part of the emulator that answers HTTP (Graph,
// the identity platform, the control API) is a Handler: a function from a request to a response in
// std types, so each is unit-tested without sockets and composed by emulator/router.
#pragma once

#include "gt/http.hpp"

namespace gt::emulator {

class Handler {
 public:
  virtual ~Handler() = default;
  // Thread-safe; must not block for long (the server runs handlers on its one io thread).
  virtual HttpResponse handle(const HttpRequest& request) = 0;
};

}  // namespace gt::emulator
