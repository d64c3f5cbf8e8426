// app/validators: CLI11 validators whose messages say what was expected, with a "did you mean".
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace gt::app {

// Accepts exactly one of `values`: "expected one of v1.0, beta (got "v1"; did you mean "v1.0"?)".
CLI::Validator one_of(std::vector<std::string> values);

// A number of seconds > 0 and at most a day.
CLI::Validator positive_seconds();

}  // namespace gt::app
