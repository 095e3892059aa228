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

// Past k_exact values the quantiles stay within 2 % for latencies of tens
// of microseconds (a resolver on the host, a loopback check) too: rounded
// to the microsecond, 12.5 us read 12 or 13.
TEST_CASE("latency sketch quantiles of microsecond latencies stay within 2 percent",
          "[storage][sketch]") {
  const double value = GENERATE(0.0125, 0.0175, 0.0305, 0.045);
  INFO("latency " << value << " ms");
  LatencySketch sketch;
  for (int i = 0; i < 100; ++i) {
    sketch.add(value);
  }
  REQUIRE(sketch.bucketed());
  const auto p50 = sketch.quantile(0.5);
  REQUIRE(p50);
  INFO("p50 " << *p50);
  CHECK(std::abs(*p50 - value) <= 0.02 * value);
}

// Swept geometrically from 0.05 ms to 10 s: the rounding never stacks on
// a bucket's 1.98 % past 2 % (it did below ~0.73 ms, 2.85 % at 0.05 ms).
TEST_CASE("latency sketch quantiles stay within 2 percent from 0.05 ms to 10 s",
          "[storage][sketch]") {
  double worst = 0;
  double worst_at = 0;
  for (double value = 0.05; value < 10'000; value *= 1.0037) {
    LatencySketch sketch;
    for (int i = 0; i < 40; ++i) {
      sketch.add(value);
    }
    const auto error = std::abs(*sketch.quantile(0.5) - value) / value;
    if (error > worst) {
      worst = error;
      worst_at = value;
    }
  }
  INFO("worst relative error " << worst << " at " << worst_at << " ms");
  CHECK(worst <= 0.02);
  CHECK(worst > 0.01);  // the sweep does reach the buckets' edges
}

// A 24h period probed every second (100,000 latencies, 1 ms .. 10 s, a
// probe's timeout): within 2 % and a few hundred buckets. Hostile values
// (NaN, negative, huge) never make a quantile that is not finite.
TEST_CASE("latency sketch stays within 2 percent and small over a probe's whole latency range",
          "[storage][sketch]") {
  LatencySketch sketch;
  std::vector<double> values;
  for (int i = 0; i < 100'000; ++i) {
    values.push_back(std::pow(10.0, 4.0 * (i % 1000) / 1000.0));
  }
  for (const double v : values) {
    sketch.add(v);
  }
  CHECK(sketch.buckets() <= 250);
  for (const double q : {0.5, 0.9, 0.99}) {
    const auto exact = true_quantile(values, q);
    const auto got = sketch.quantile(q);
    REQUIRE(got);
    INFO("q " << q << " exact " << exact << " got " << *got);
    CHECK(std::abs(*got - exact) <= 0.02 * exact);
  }
  // (+infinity, or anything past a float's 3.4e38 while the exact values
  // are kept as float, does: no probe measures that, and a peer's is not
  // stored.)
  LatencySketch odd;
  for (int i = 0; i < 40; ++i) {
    odd.add(i % 3 == 0 ? std::nan("") : i % 3 == 1 ? -5.0 : 1e30);
  }
  for (const double q : {0.5, 0.99}) {
    const auto got = odd.quantile(q);
    REQUIRE(got);
    INFO("q " << q << " got " << *got);
    CHECK(std::isfinite(*got));
  }
}
