#include "storage/record_queue.hpp"

#include <algorithm>
#include <utility>

namespace crosscheck::storage {

RecordQueue::RecordQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::optional<QueuedRecord> RecordQueue::push(Record record) {
  std::optional<QueuedRecord> dropped;
  if (size() >= capacity_) {
    auto& lane = observations_.empty() ? others_ : observations_;
    dropped = std::move(lane.front());
    lane.pop_front();
  }
  const bool is_observation = std::holds_alternative<consensus::Observation>(record);
  auto& lane = is_observation ? observations_ : others_;
  lane.push_back(QueuedRecord{++last_seq_, std::move(record)});
  return dropped;
}

void RecordQueue::take(std::size_t limit, std::vector<QueuedRecord>& out) {
  // Merge the two lanes by seq so the writer applies records in call order.
  while (limit > 0 && !empty()) {
    const bool from_observations =
        others_.empty() ||
        (!observations_.empty() && observations_.front().seq < others_.front().seq);
    auto& lane = from_observations ? observations_ : others_;
    out.push_back(std::move(lane.front()));
    lane.pop_front();
    --limit;
  }
}

std::size_t RecordQueue::clear() {
  const auto count = size();
  observations_.clear();
  others_.clear();
  return count;
}

std::uint64_t RecordQueue::oldest_seq() const {
  auto oldest = k_no_seq;
  if (!observations_.empty()) {
    oldest = observations_.front().seq;
  }
  if (!others_.empty()) {
    oldest = std::min(oldest, others_.front().seq);
  }
  return oldest;
}

}  // namespace crosscheck::storage
