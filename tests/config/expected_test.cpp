// base/expected.hpp: the one shape of an expected failure.
#include "base/expected.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using crosscheck::Expected;
using crosscheck::fail;
using crosscheck::Status;

namespace {

Expected<int> half(int value) {
  if (value % 2 != 0) {
    return fail(std::to_string(value) + " is odd");
  }
  return value / 2;
}

Status check_positive(int value) {
  if (value <= 0) {
    return fail("not positive");
  }
  return {};
}

}  // namespace

TEST_CASE("Expected holds a value or a one-line error, never both", "[expected]") {
  const auto good = half(8);
  REQUIRE(good.ok());
  CHECK(*good == 4);
  const auto bad = half(7);
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "7 is odd");
}

TEST_CASE("Expected moves its value out (move-only types work)", "[expected]") {
  Expected<std::unique_ptr<int>> made = std::make_unique<int>(3);
  REQUIRE(made);
  const std::unique_ptr<int> taken = std::move(made).value();
  REQUIRE(taken);
  CHECK(*taken == 3);
}

TEST_CASE("Status says ok or why not", "[expected]") {
  CHECK(check_positive(1).ok());
  const auto refused = check_positive(0);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == "not positive");
}
