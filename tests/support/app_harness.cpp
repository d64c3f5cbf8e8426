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

// Hands the harness's SimLoop to the code under test without giving up ownership.
class BorrowedLoop final : public ExchangeLoop {
 public:
  explicit BorrowedLoop(ExchangeLoop& l) : l_(l) {}
  Clock::time_point now() const override { return l_.now(); }
  void start(HttpRequest r, Clock::time_point d, Done done) override {
    l_.start(std::move(r), d, std::move(done));
  }
  TimerId at(Clock::time_point w, std::function<void()> fn) override {
    return l_.at(w, std::move(fn));
  }
  void cancel(TimerId id) override { l_.cancel(id); }
  void abort_all() override { l_.abort_all(); }
  void run() override { l_.run(); }
  void set_idle_hook(std::function<void()> fn) override { l_.set_idle_hook(std::move(fn)); }
  std::size_t connections_opened() const override { return l_.connections_opened(); }

 private:
  ExchangeLoop& l_;
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
           .jitter = [] { return 0.5; },
           .make_exchange_loop =
               [this](const app::TransportConfig&) -> Result<std::unique_ptr<ExchangeLoop>> {
             return std::unique_ptr<ExchangeLoop>(new BorrowedLoop(loop));
           },
           .probe = [this](const app::TransportConfig& config,
                           const ProbeRequest& request) -> Result<ConnectionProbe> {
             probes.push_back(request);
             probe_configs.push_back(config);
             return probe_answer(request);
           }} {}

int AppHarness::run(const std::vector<std::string>& args) {
  app::Io io{in, out, err, in_is_tty, out_is_tty, err_is_tty, out_width};
  return app::run(args, io, env, deps);
}

}  // namespace gt::test
