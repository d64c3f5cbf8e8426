#include "support/app_harness.hpp"

#include "app/cli.hpp"

namespace gt::test {

namespace {
// Hands the harness's FakeTransport to the code under test without giving up ownership.
class BorrowedTransport final : public Transport {
 public:
  explicit BorrowedTransport(Transport& t) : t_(t) {}
  bool send(const HttpRequest& r, Clock::time_point d, HttpResponse& resp,
            TransportError& e) override {
    return t_.send(r, d, resp, e);
  }

 private:
  Transport& t_;
};
}  // namespace

AppHarness::AppHarness()
    : deps{.clock = clock,
           .make_transport =
               [this](const app::TransportConfig& config) -> Result<std::unique_ptr<Transport>> {
             ++transports_made;
             transport_configs.push_back(config);
             return std::unique_ptr<Transport>(new BorrowedTransport(transport));
           },
           .new_request_id = [this] { return "crid-" + std::to_string(++request_ids); },
           .jitter = [] { return 0.5; }} {}

int AppHarness::run(const std::vector<std::string>& args) {
  app::Io io{in, out, err, in_is_tty, out_is_tty, err_is_tty, out_width};
  return app::run(args, io, env, deps);
}

}  // namespace gt::test
