// Fuzzes gt/response_parser (every byte a server sends): never crashes; the outcome does not
// depend on how the bytes are split into reads; the limits hold; a complete response uses no
// byte past its end twice. The first input byte picks the split size, the rest is the wire.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/response_parser.hpp"

namespace {

constexpr std::size_t kHeaderLimit = 512;
constexpr std::uint64_t kBodyLimit = 1024;

struct Outcome {
  gt::HttpResponse response;
  gt::ParseError error = gt::ParseError::kNone;
  bool done = false;
  bool keep_alive = false;
  std::size_t used = 0;
};

Outcome run(std::string_view wire, std::size_t step) {
  Outcome o;
  gt::ResponseParser parser(o.response, kHeaderLimit, kBodyLimit);
  std::string pending;
  std::size_t fed = 0;
  while (!parser.done() && parser.error() == gt::ParseError::kNone && fed < wire.size()) {
    const std::size_t n = std::min(step, wire.size() - fed);
    pending.append(wire.substr(fed, n));
    fed += n;
    const std::size_t used = parser.put(pending);
    GT_FUZZ_CHECK(used <= pending.size());
    o.used += used;
    pending.erase(0, used);
  }
  if (!parser.done() && parser.error() == gt::ParseError::kNone) parser.put_eof();
  o.error = parser.error();
  o.done = parser.done();
  o.keep_alive = parser.keep_alive();
  GT_FUZZ_CHECK(o.done != (o.error != gt::ParseError::kNone));
  GT_FUZZ_CHECK(o.response.body.size() <= kBodyLimit);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = run(wire, wire.size() + 1);
  const Outcome split = run(wire, step);
  GT_FUZZ_CHECK(whole.error == split.error);
  GT_FUZZ_CHECK(whole.done == split.done);
  if (whole.done) {
    GT_FUZZ_CHECK(whole.used == split.used);
    GT_FUZZ_CHECK(whole.used <= wire.size());
    GT_FUZZ_CHECK(whole.keep_alive == split.keep_alive);
    GT_FUZZ_CHECK(whole.response.status == split.response.status);
    GT_FUZZ_CHECK(whole.response.reason == split.response.reason);
    GT_FUZZ_CHECK(whole.response.body == split.response.body);
    GT_FUZZ_CHECK(whole.response.headers.size() == split.response.headers.size());
    for (std::size_t i = 0; i < whole.response.headers.size(); ++i) {
      GT_FUZZ_CHECK(whole.response.headers[i].name == split.response.headers[i].name);
      GT_FUZZ_CHECK(whole.response.headers[i].value == split.response.headers[i].value);
    }
  }
  return 0;
}
