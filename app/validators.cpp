#include "app/validators.hpp"

#include <charconv>

#include "gt/json_codec.hpp"

namespace gt::app {

CLI::Validator one_of(std::vector<std::string> values) {
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
  return CLI::Validator(
      [values, list](std::string& input) -> std::string {
        for (const auto& v : values) {
          if (input == v) return {};
        }
        std::vector<std::string_view> candidates(values.begin(), values.end());
        std::string msg = "expected one of " + list + " (got \"" + input + "\"";
        if (auto s = did_you_mean(input, candidates); !s.empty()) {
          msg += "; did you mean \"" + s + "\"?";
        }
        return msg + ")";
      },
      "", "one_of");
}

CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        double v = 0;
        const auto [p, ec] = std::from_chars(input.data(), input.data() + input.size(), v);
        if (ec != std::errc() || p != input.data() + input.size() || !(v > 0) || v > 86400) {
          return "expected a number of seconds greater than 0 and at most 86400 (got \"" + input +
                 "\")";
        }
        return {};
      },
      "", "positive_seconds");
}

}  // namespace gt::app
