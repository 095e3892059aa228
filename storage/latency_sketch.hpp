// The latencies of one pair's summary period, in memory bounded whatever
// the period's length: exact values while there are few, then counts in
// buckets 4 % wide (a value is known within 2 %). Why: a pair probed every
// 10 s for an hour holds 360 latencies; at 50,000 pairs as floats that is
// 72 MB, in buckets a few hundred bytes a pair. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace crosscheck::storage {

class LatencySketch {
 public:
  // Values kept exactly; the next one moves them all into buckets.
  static constexpr std::size_t k_exact = 32;

  // Adds one latency in milliseconds (negative or NaN count as 0).
  void add(double ms);
  // The nearest-rank quantile `q` (0 < q <= 1) in milliseconds, rounded to
  // six significant digits: exact while at most k_exact values were added,
  // else the geometric middle of the value's bucket (within 2 % down to
  // 0.001 ms); nullopt when empty.
  std::optional<double> quantile(double q) const;
  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Whether the values are in buckets now (quantiles within 2 %).
  bool bucketed() const { return exact_.empty() && !buckets_.empty(); }
  // Buckets in use: what the memory grows with once bucketed.
  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::uint16_t index = 0;
    std::uint32_t count = 0;
  };
  void add_to_bucket(double ms, std::uint32_t count);

  std::vector<float> exact_;
  std::vector<Bucket> buckets_;  // sorted by index, no empty bucket
  std::uint64_t count_ = 0;
};

}  // namespace crosscheck::storage
