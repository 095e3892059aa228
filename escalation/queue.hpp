// One sink's delivery state: which escalations it must still hear about,
// when to try next (exponential backoff with full jitter), deduplication by
// escalation key, and the JSON its state file keeps. Pure: time and the
// random source are arguments, delivery happens elsewhere.
#pragma once

#include "consensus/types.hpp"
#include "escalation/message.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace crosscheck::escalation {

struct SinkPolicy {
  // Escalations one sink tracks at once (open or undelivered); a new one
  // past this is refused and counted, never silently pushed out.
  std::size_t capacity = 1024;
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{300'000};
  // Alertmanager forgets a firing alert that is not re-sent; nullopt: send once.
  std::optional<std::chrono::milliseconds> resend_interval;
};

// What the sink has acknowledged for one key.
enum class Delivered : std::uint8_t { Nothing, Firing, Resolved };

struct SinkCounters {
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::uint64_t dropped = 0;
  // `failed`, by DeliveryResult::reason; a reason appears at its first failure.
  std::map<std::string, std::uint64_t> failed_by_reason;
};

// One message to send now: `alert.status` says which.
struct DeliveryJob {
  std::string key;
  Alert alert;
};

class SinkQueue {
 public:
  explicit SinkQueue(SinkPolicy policy) : policy_(policy) {}

  // Takes an opening or resolving alert. A firing alert for a key already
  // known is a duplicate and changes nothing; a resolution for a key never
  // fired here is ignored. False when the queue was full (counted as dropped).
  bool offer(const Alert& alert, consensus::MonoTime now);
  // The message due soonest at `now` (the firing one before its resolution).
  std::optional<DeliveryJob> next(consensus::MonoTime now) const;
  // Records how delivering `job` went and schedules what follows.
  void complete(const DeliveryJob& job, bool ok, consensus::MonoTime now, std::mt19937_64& random);
  // When the next message falls due; nullopt when nothing is owed.
  std::optional<consensus::MonoTime> next_due() const;

  // The state file's content, and a queue restored from it: everything not
  // yet delivered is due at `now`.
  boost::json::value to_json() const;
  void restore(const boost::json::value& state, consensus::MonoTime now);

  const SinkCounters& counters() const { return counters_; }
  std::size_t size() const { return entries_.size(); }
  // What the sink has acknowledged for `key` (Nothing when unknown).
  Delivered delivered(const std::string& key) const;

 private:
  struct Entry {
    Alert alert;  // the newest state: Firing, or Resolved once closed
    Delivered delivered = Delivered::Nothing;
    int failures = 0;
    std::optional<consensus::MonoTime> due;  // nullopt: nothing owed
  };

  std::chrono::milliseconds backoff(int failures, std::mt19937_64& random) const;

  SinkPolicy policy_;
  std::map<std::string, Entry> entries_;
  SinkCounters counters_;
};

}  // namespace crosscheck::escalation
