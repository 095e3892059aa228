// SnapshotHub: the pointer swap and the long-poll waiters. A waiter lives on
// its executor: its timer, its callback and its `finished` flag are touched
// there only; publish() (any thread) hands waiters over with asio::post.
#include "snapshot/hub.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace crosscheck::snapshot {

namespace asio = boost::asio;

struct SnapshotHub::State {
  std::atomic<SnapshotPtr> current;
  mutable std::mutex mutex;  // guards `waiters` only; never held across a callback
  std::unordered_map<const Waiter*, std::shared_ptr<Waiter>> waiters;
};

struct SnapshotHub::Waiter {
  Waiter(asio::any_io_executor ex, std::uint64_t after, WaitCallback callback,
         std::weak_ptr<State> owner)
      : executor(std::move(ex)),
        timer(executor),
        revision(after),
        done(std::move(callback)),
        state(std::move(owner)) {}

  asio::any_io_executor executor;
  asio::steady_timer timer;  // on `executor`
  std::uint64_t revision;    // wake for anything newer than this
  WaitCallback done;         // called (then cleared) on `executor`
  std::weak_ptr<State> state;
  std::atomic<bool> finished{false};
};

SnapshotHub::SnapshotHub() : state_(std::make_shared<State>()) {
  state_->current.store(std::make_shared<const Snapshot>());
}

SnapshotHub::~SnapshotHub() = default;

void SnapshotHub::publish(SnapshotPtr snapshot) {
  if (!snapshot) {
    return;
  }
  const std::uint64_t revision = snapshot->revision;
  // Store first, then drain under the lock: wait_newer() reads `current`
  // under the same lock, so a waiter either sees this snapshot at once or is
  // in the map when we drain it. Never both, never neither.
  state_->current.store(snapshot);
  const std::lock_guard lock(state_->mutex);
  auto& waiters = state_->waiters;
  for (auto it = waiters.begin(); it != waiters.end();) {
    if (it->second->revision >= revision) {
      ++it;
      continue;
    }
    std::shared_ptr<Waiter> waiter = std::move(it->second);
    it = waiters.erase(it);
    const asio::any_io_executor executor = waiter->executor;
    // post() only queues (no I/O); the handler owns the waiter from here on,
    // so it is destroyed on its own executor.
    asio::post(executor, [waiter = std::move(waiter), snapshot]() mutable {
      complete(waiter, std::move(snapshot));
    });
  }
}

SnapshotPtr SnapshotHub::current() const {
  return state_->current.load();
}

void SnapshotHub::wait_newer(std::uint64_t revision, const asio::any_io_executor& executor,
                             std::chrono::milliseconds max_wait, WaitCallback done) {
  auto waiter = std::make_shared<Waiter>(executor, revision, std::move(done), state_);
  bool registered = false;
  SnapshotPtr at_once;  // stays null when refused
  {
    const std::lock_guard lock(state_->mutex);
    SnapshotPtr now = state_->current.load();
    if (now->revision > revision || max_wait <= std::chrono::milliseconds::zero()) {
      at_once = std::move(now);
    } else if (state_->waiters.size() < k_max_waiters) {
      state_->waiters.emplace(waiter.get(), waiter);
      registered = true;
    }
  }
  if (!registered) {
    // Same single completion path, just never registered: at once, on `executor`.
    asio::post(executor, [waiter = std::move(waiter), at_once = std::move(at_once)]() mutable {
      complete(waiter, std::move(at_once));
    });
    return;
  }
  asio::dispatch(executor, [waiter, max_wait]() {
    if (waiter->finished.load()) {
      return;  // a publish got there first
    }
    waiter->timer.expires_after(max_wait);
    waiter->timer.async_wait([waiter](boost::system::error_code) {
      if (waiter->finished.load()) {
        return;  // completed by publish (this is the cancellation) or forgotten
      }
      const std::shared_ptr<State> state = waiter->state.lock();
      complete(waiter, state ? state->current.load() : nullptr);
    });
  });
}

void SnapshotHub::complete(const std::shared_ptr<Waiter>& waiter, SnapshotPtr snapshot) {
  if (waiter->finished.exchange(true)) {
    return;
  }
  waiter->timer.cancel();
  std::shared_ptr<Waiter> erased;  // released after the lock, on this executor
  if (const std::shared_ptr<State> state = waiter->state.lock()) {
    const std::lock_guard lock(state->mutex);
    const auto found = state->waiters.find(waiter.get());
    if (found != state->waiters.end()) {
      erased = std::move(found->second);
      state->waiters.erase(found);
    }
  }
  WaitCallback done = std::move(waiter->done);
  waiter->done = nullptr;
  if (done) {
    done(std::move(snapshot));
  }
}

void SnapshotHub::forget_waiters(const asio::execution_context& context) {
  std::vector<std::shared_ptr<Waiter>> forgotten;  // destroyed after the lock
  {
    const std::lock_guard lock(state_->mutex);
    auto& waiters = state_->waiters;
    for (auto it = waiters.begin(); it != waiters.end();) {
      const asio::execution_context& owner =
          asio::query(it->second->executor, asio::execution::context);
      if (&owner != &context) {
        ++it;
        continue;
      }
      it->second->finished.store(true);
      forgotten.push_back(std::move(it->second));
      it = waiters.erase(it);
    }
  }
}

std::size_t SnapshotHub::waiter_count() const {
  const std::lock_guard lock(state_->mutex);
  return state_->waiters.size();
}

}  // namespace crosscheck::snapshot
