// Where the service publishes each new Snapshot and the API picks it up: an
// atomically swapped shared_ptr<const Snapshot>, plus bounded long-poll
// waiters for /v1/watch. Never holds its lock across I/O or a callback.
#pragma once

#include "snapshot/snapshot.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace crosscheck::snapshot {

class SnapshotHub {
 public:
  // At most this many /v1/watch requests wait at once; one more is refused
  // (completed with nullptr, which the API answers with 503 Retry-After).
  static constexpr std::size_t k_max_waiters = 4096;

  using WaitCallback = std::function<void(SnapshotPtr)>;

  // Starts with an empty, not-ready snapshot (revision 0): current() is never null.
  SnapshotHub();
  ~SnapshotHub();
  SnapshotHub(const SnapshotHub&) = delete;
  SnapshotHub& operator=(const SnapshotHub&) = delete;
  SnapshotHub(SnapshotHub&&) = delete;
  SnapshotHub& operator=(SnapshotHub&&) = delete;

  // Makes `snapshot` current (a null one is ignored) and wakes every waiter
  // whose revision it exceeds. Any thread; never blocks on a reader.
  void publish(SnapshotPtr snapshot);

  // The current snapshot; any thread, never null.
  SnapshotPtr current() const;

  // Calls `done` exactly once, on `executor`: with the first published
  // snapshot whose revision exceeds `revision` (at once if current() already
  // does), with current() when `max_wait` passes first, or with nullptr when
  // k_max_waiters are already waiting. `executor` must run on one thread at
  // a time (a single-threaded io_context or a strand).
  void wait_newer(std::uint64_t revision, const boost::asio::any_io_executor& executor,
                  std::chrono::milliseconds max_wait, WaitCallback done);

  // Forgets, without calling them, every waiter whose executor belongs to
  // `context`. A server calls this before destroying its io_context so that
  // no later publish() posts to it.
  void forget_waiters(const boost::asio::execution_context& context);

  // How many waiters are registered now (for counters and tests).
  std::size_t waiter_count() const;

 private:
  struct State;
  struct Waiter;
  static void complete(const std::shared_ptr<Waiter>& waiter, SnapshotPtr snapshot);

  std::shared_ptr<State> state_;
};

}  // namespace crosscheck::snapshot
