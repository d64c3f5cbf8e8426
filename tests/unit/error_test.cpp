#include "gt/error.hpp"

#include <doctest/doctest.h>

TEST_CASE("each error kind maps to its documented exit code") {
  CHECK(gt::exit_code(gt::ErrorKind::kGraph) == 1);
  CHECK(gt::exit_code(gt::ErrorKind::kUsage) == 2);
  CHECK(gt::exit_code(gt::ErrorKind::kAuth) == 3);
  CHECK(gt::exit_code(gt::ErrorKind::kNetwork) == 4);
  CHECK(gt::exit_code(gt::ErrorKind::kOutcomeUnknown) == 5);
  CHECK(gt::exit_code(gt::ErrorKind::kInterrupted) == 130);
}

TEST_CASE("Result carries a value or an error") {
  gt::Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  gt::Result<int> bad = gt::Error::usage("--group: must not be empty");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == gt::ErrorKind::kUsage);
  CHECK(bad.error().message == "--group: must not be empty");
}
