// LatencySketch: exact while small, within 2 % once bucketed, and bounded
// by the spread of the values, never by their number.
#include "storage/latency_sketch.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using crosscheck::storage::LatencySketch;

namespace {

// The nearest-rank quantile of `values`, as the sketch defines it.
double true_quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace

TEST_CASE("a latency sketch is exact while it holds few values", "[storage][sketch]") {
  LatencySketch sketch;
  CHECK_FALSE(sketch.quantile(0.5).has_value());
  for (int i = 1; i <= static_cast<int>(LatencySketch::k_exact); ++i) {
    sketch.add(10.0 * i + 0.25);
  }
  CHECK_FALSE(sketch.bucketed());
  CHECK(sketch.count() == LatencySketch::k_exact);
  CHECK(sketch.quantile(0.5) == 160.25);
  CHECK(sketch.quantile(0.99) == 320.25);
  CHECK(sketch.quantile(0.01) == 10.25);
}

TEST_CASE("a latency sketch past its exact values is within 2 percent at every quantile",
          "[storage][sketch]") {
  const auto seed = GENERATE(1u, 7u, 42u, 2026u);
  CAPTURE(seed);
  std::mt19937 random(seed);
  // Log-uniform from 10 us to 100 s: every scale a probe can see.
  std::uniform_real_distribution<double> exponent(-2.0, 5.0);
  std::uniform_int_distribution<int> size(33, 5000);
  const int count = size(random);
  CAPTURE(count);
  LatencySketch sketch;
  std::vector<double> values;
  for (int i = 0; i < count; ++i) {
    values.push_back(std::pow(10.0, exponent(random)));
    sketch.add(values.back());
  }
  CHECK(sketch.bucketed());
  CHECK(sketch.count() == static_cast<std::uint64_t>(count));
  for (const double q : {0.01, 0.25, 0.5, 0.9, 0.99, 1.0}) {
    CAPTURE(q);
    const double expected = true_quantile(values, q);
    const auto got = sketch.quantile(q);
    REQUIRE(got.has_value());
    // 2 % of the value, and the microsecond the result is rounded to.
    CHECK(std::abs(*got - expected) <= expected * 0.02 + 0.0005);
  }
}

TEST_CASE("a latency sketch grows with the spread of its values, not their number",
          "[storage][sketch]") {
  LatencySketch sketch;
  std::mt19937 random(3);
  std::uniform_real_distribution<double> latency(20.0, 40.0);  // a 2x band
  for (int i = 0; i < 100'000; ++i) {
    sketch.add(latency(random));
  }
  // ln(2) / ln(1.04) is 17.7: at most 19 buckets cover a 2x band.
  CHECK(sketch.buckets() <= 19);
  CHECK(sketch.count() == 100'000);
  const auto median = sketch.quantile(0.5);
  REQUIRE(median.has_value());
  CHECK(std::abs(*median - 30.0) <= 30.0 * 0.03);
}

TEST_CASE("a latency sketch counts a negative or NaN latency as zero", "[storage][sketch]") {
  LatencySketch sketch;
  sketch.add(-5.0);
  sketch.add(std::nan(""));
  CHECK(sketch.quantile(1.0) == 0.0);
  for (int i = 0; i < 40; ++i) {
    sketch.add(std::nan(""));
  }
  CHECK(sketch.bucketed());
  CHECK(sketch.quantile(1.0) == 0.001);  // the lowest bucket's value: at most 1 us
}
