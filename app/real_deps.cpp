// The real capabilities. The only app file that names BeastTransport.
#include <random>

#include "app/deps.hpp"
#include "gt/beast_transport.hpp"
#include "gt/uuid.hpp"

namespace gt::app {

Deps make_real_deps() {
  static SystemClock clock;
  return Deps{
      .clock = clock,
      .make_transport = [](const TransportConfig& config) -> Result<std::unique_ptr<Transport>> {
        auto t = BeastTransport::create({.cacert_file = config.cacert_file});
        if (!t) return std::move(t).error();
        return std::unique_ptr<Transport>(std::move(t).value());
      },
      .new_request_id = new_uuid,
      .jitter =
          [] {
            static std::mt19937_64 gen{std::random_device{}()};
            return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
          },
  };
}

}  // namespace gt::app
