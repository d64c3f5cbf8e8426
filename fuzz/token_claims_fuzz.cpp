// Fuzzes decode_token_claims (the unverified JWT payload read before sending) and check_token on
// the same text: never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gt/auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  (void)gt::decode_token_claims(token);
  const gt::AccessToken access{.value = std::string(token), .source = "fuzz"};
  (void)gt::check_token(access, "create a thread", gt::TokenUse::kDelegatedOnly, 1795791600);
  (void)gt::check_token(access, "list threads", gt::TokenUse::kDelegatedOrApp, 1795791600);
  return 0;
}
