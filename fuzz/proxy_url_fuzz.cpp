// Fuzzes the proxy configuration from outside (HTTPS_PROXY and friends, --proxy, NO_PROXY): the
// first line is a proxy URL, the second a NO_PROXY list, the third a host. Never crashes; a
// parsed proxy's host:port parses back to the same host and port; display() never shows a
// password; `*` exempts every host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gt/proxy.hpp"

namespace {

std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string_view url = next_line(text);
  const std::string_view no_proxy = next_line(text);
  const std::string_view host = next_line(text);

  (void)gt::redact_proxy_url(url);
  (void)gt::no_proxy_matches(no_proxy, host, 443);
  GT_FUZZ_CHECK(gt::no_proxy_matches("*", host, 443));

  auto proxy = gt::parse_proxy_url(url, "HTTPS_PROXY");
  if (!proxy) return 0;
  GT_FUZZ_CHECK(!proxy->host.empty());
  auto again = gt::parse_proxy_url("http://" + proxy->host_port(), "again");
  GT_FUZZ_CHECK(again.ok());
  GT_FUZZ_CHECK(again->host == proxy->host);
  GT_FUZZ_CHECK(again->port == proxy->port);
  if (proxy->password.size() >= 4) {
    // The password may only appear where the host or user name holds the same text.
    const std::string shown = proxy->display();
    const bool elsewhere =
        proxy->host.find(proxy->password) != std::string::npos ||
        proxy->username.value_or("").find(proxy->password) != std::string::npos ||
        std::string("http://***:").find(proxy->password) != std::string::npos ||
        std::to_string(proxy->port).find(proxy->password) != std::string::npos;
    GT_FUZZ_CHECK(elsewhere || shown.find(proxy->password) == std::string::npos);
  }
  return 0;
}
