#include "escalation/queue.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace crosscheck::escalation {
namespace {

namespace json = boost::json;

// A sink that fails at once must not be retried in a tight loop, even when
// full jitter draws zero.
constexpr std::chrono::milliseconds k_min_retry{100};

std::string_view to_string(Delivered delivered) {
  switch (delivered) {
    case Delivered::Nothing:
      return "nothing";
    case Delivered::Firing:
      return "firing";
    case Delivered::Resolved:
      return "resolved";
  }
  return "nothing";
}

Delivered parse_delivered(std::string_view text) {
  return text == "firing"     ? Delivered::Firing
         : text == "resolved" ? Delivered::Resolved
                              : Delivered::Nothing;
}

}  // namespace

bool SinkQueue::offer(const Alert& alert, consensus::MonoTime now) {
  auto found = entries_.find(alert.key);
  if (alert.status == AlertStatus::Firing) {
    if (found != entries_.end()) {
      return true;  // a duplicate: this episode is already known here
    }
    if (entries_.size() >= policy_.capacity) {
      ++counters_.dropped;
      return false;
    }
    entries_.emplace(alert.key, Entry{alert, Delivered::Nothing, 0, now});
    return true;
  }
  if (found == entries_.end() || found->second.alert.status == AlertStatus::Resolved) {
    return true;  // nothing fired here for it, or already resolving
  }
  // The episode keeps its opening kind and time; the resolution brings its
  // reason, time and the verdict now.
  auto& entry = found->second;
  entry.alert.status = AlertStatus::Resolved;
  entry.alert.resolved_at = alert.resolved_at;
  entry.alert.reason = alert.reason;
  entry.alert.verdict = alert.verdict;
  if (entry.failures == 0) {
    entry.due = now;  // a sink in backoff keeps its pause
  }
  return true;
}

std::optional<DeliveryJob> SinkQueue::next(consensus::MonoTime now) const {
  const Entry* best = nullptr;
  const std::string* best_key = nullptr;
  for (const auto& [key, entry] : entries_) {
    if (entry.due && *entry.due <= now && (best == nullptr || *entry.due < *best->due)) {
      best = &entry;
      best_key = &key;
    }
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  DeliveryJob job{*best_key, best->alert};
  if (best->delivered == Delivered::Nothing) {
    // Why: a receiver must see every episode open before it closes, even
    // one that opened and closed while the sink was down.
    job.alert.status = AlertStatus::Firing;
    job.alert.resolved_at.reset();
  }
  return job;
}

void SinkQueue::complete(const DeliveryJob& job, bool ok, consensus::MonoTime now,
                         std::mt19937_64& random) {
  auto found = entries_.find(job.key);
  if (found == entries_.end()) {
    return;
  }
  auto& entry = found->second;
  if (!ok) {
    ++counters_.failed;
    ++entry.failures;
    entry.due = now + backoff(entry.failures, random);
    return;
  }
  ++counters_.delivered;
  entry.failures = 0;
  if (job.alert.status == AlertStatus::Resolved) {
    entries_.erase(found);  // the episode is over for this sink
    return;
  }
  entry.delivered = Delivered::Firing;
  if (entry.alert.status == AlertStatus::Resolved) {
    entry.due = now;  // resolved meanwhile: say so next
  } else if (policy_.resend_interval) {
    entry.due = now + *policy_.resend_interval;
  } else {
    entry.due.reset();
  }
}

std::optional<consensus::MonoTime> SinkQueue::next_due() const {
  std::optional<consensus::MonoTime> soonest;
  for (const auto& [key, entry] : entries_) {
    if (entry.due && (!soonest || *entry.due < *soonest)) {
      soonest = entry.due;
    }
  }
  return soonest;
}

std::chrono::milliseconds SinkQueue::backoff(int failures, std::mt19937_64& random) const {
  // Full jitter: uniform in [0, min(cap, base * 2^(failures - 1))], so many
  // oracles retrying one receiver spread out instead of arriving together.
  const int doublings = std::min(failures - 1, 30);
  const auto ceiling =
      std::min(policy_.backoff_cap, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        policy_.backoff_base * (1LL << doublings)));
  std::uniform_int_distribution<std::int64_t> draw(0, ceiling.count());
  return std::max(k_min_retry, std::chrono::milliseconds(draw(random)));
}

Delivered SinkQueue::delivered(const std::string& key) const {
  const auto found = entries_.find(key);
  return found == entries_.end() ? Delivered::Nothing : found->second.delivered;
}

json::value SinkQueue::to_json() const {
  json::array entries;
  for (const auto& [key, entry] : entries_) {
    entries.push_back(json::object{{"alert", alert_json(entry.alert)},
                                   {"delivered", to_string(entry.delivered)}});
  }
  return json::object{{"version", 1}, {"escalations", std::move(entries)}};
}

void SinkQueue::restore(const json::value& state, consensus::MonoTime now) {
  const auto* object = state.if_object();
  const auto* entries = object != nullptr ? object->if_contains("escalations") : nullptr;
  if (entries == nullptr || !entries->is_array()) {
    return;
  }
  for (const auto& item : entries->as_array()) {
    const auto* fields = item.if_object();
    const auto* alert_value = fields != nullptr ? fields->if_contains("alert") : nullptr;
    auto alert = alert_value != nullptr ? parse_alert(*alert_value) : std::nullopt;
    if (!alert) {
      continue;  // an entry this version cannot read is skipped, not fatal
    }
    const auto* delivered = fields->if_contains("delivered");
    Entry entry{*alert, Delivered::Nothing, 0, now};
    if (delivered != nullptr && delivered->is_string()) {
      entry.delivered = parse_delivered(delivered->get_string());
    }
    const bool settled =
        entry.delivered == Delivered::Firing && alert->status == AlertStatus::Firing;
    if (settled && !policy_.resend_interval) {
      entry.due.reset();  // delivered and still open: nothing owed until it resolves
    }
    entries_.insert_or_assign(alert->key, std::move(entry));
  }
}

}  // namespace crosscheck::escalation
