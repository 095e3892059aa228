// Escalation delivery: one thread with one io_context runs every configured
// sink's worker, which takes alerts from the service without blocking it,
// delivers them through the sink's transport with backoff (a timer, never a
// sleep), and keeps its delivery state in a file so a restart neither loses
// nor repeats an escalation. Never blocks probing or the API: submit() only
// takes a short lock and never does I/O.
#pragma once

#include "base/expected.hpp"
#include "consensus/clock.hpp"
#include "escalation/queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spdlog {
class logger;
}

namespace crosscheck::escalation {

struct DeliveryResult {
  bool ok = false;
  std::string detail;  // for the log: "HTTP 503", "exit status 2: <output>"
  // A failure's counter label: net::failure_reason() ("transport",
  // "tls_unknown_ca", ...), "status" (a non-2xx answer) or "exec".
  std::string reason;
};

using DeliveryDone = std::function<void(DeliveryResult)>;

// Sends one message to one receiver within its own timeout.
class SinkTransport {
 public:
  SinkTransport() = default;
  SinkTransport(const SinkTransport&) = delete;
  SinkTransport& operator=(const SinkTransport&) = delete;
  SinkTransport(SinkTransport&&) = delete;
  SinkTransport& operator=(SinkTransport&&) = delete;
  virtual ~SinkTransport() = default;
  // Synchronously, on the calling thread (SinkWorker::pump, the tests' seam).
  virtual DeliveryResult deliver(const Alert& alert) = 0;
  // On `io`: `done` runs there exactly once, within the transport's own
  // timeout. The default calls deliver() inline, so a transport that blocks
  // overrides it.
  virtual void deliver_async(boost::asio::io_context& io, const Alert& alert, DeliveryDone done);
  // Every DeliveryResult::reason a failure of this transport can carry, so
  // each one's counter is exposed from 0 and a rate() sees the first.
  virtual std::vector<std::string_view> failure_reasons() const { return {}; }
};

struct SinkSpec {
  std::string name;  // "webhook", "alertmanager", "exec": the metrics label
  std::unique_ptr<SinkTransport> transport;
  SinkPolicy policy;
  std::filesystem::path state_file;  // empty: state kept in memory only
};

// Writes `text` to `path` via a temporary file, fsync and rename, so a crash
// leaves either the old or the new content; fails naming the file and errno.
Status write_file_atomically(const std::filesystem::path& path, const std::string& text);

class SinkWorker {
 public:
  // Restores the queue from spec.state_file when it exists.
  SinkWorker(SinkSpec spec, const consensus::Clock& clock, std::shared_ptr<spdlog::logger> log,
             std::uint64_t seed);
  // Saves the state (the io_context that ran it, if any, has stopped).
  ~SinkWorker();
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;
  SinkWorker(SinkWorker&&) = delete;
  SinkWorker& operator=(SinkWorker&&) = delete;

  // Delivers on `io` from now on (asynchronously, one message at a time).
  void start(boost::asio::io_context& io);
  // Queues `alert` (false: refused, queue full). Thread-safe, no I/O.
  bool submit(const Alert& alert);
  // Delivers everything due now on the calling thread, synchronously, and
  // saves the state (tests call it with a manual clock; never after start()).
  // Returns the number of delivery attempts.
  std::size_t pump();
  // Delivers what is due within `drain`, then ends (a delivery in flight
  // finishes first, within its timeout). Thread-safe. The io_context runs
  // out of this worker's work once it has ended.
  void request_stop(std::chrono::milliseconds drain);
  // Writes the delivery state file if it is behind the queue.
  void save();

  const std::string& name() const { return spec_.name; }
  SinkCounters counters() const;
  Delivered delivered(const std::string& key) const;

 private:
  std::optional<DeliveryJob> take_due();
  void finish_job(const DeliveryJob& job, const DeliveryResult& result);
  // The io_context's loop: deliver the next due message or wait for one.
  void kick();
  void begin_drain(std::chrono::milliseconds drain);
  void end();

  SinkSpec spec_;
  const consensus::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;
  SinkQueue queue_;
  std::map<std::string, std::uint64_t> failed_by_reason_;  // under mutex_
  std::mt19937_64 random_;
  bool dirty_ = false;  // the state file is behind the queue
  // Only on the io_context's thread, after start():
  boost::asio::io_context* io_ = nullptr;
  std::optional<boost::asio::steady_timer> wait_;
  std::optional<boost::asio::steady_timer> drain_timer_;
  consensus::MonoTime drain_until_{};
  bool delivering_ = false;
  bool stopping_ = false;
  bool ended_ = false;
};

// Every configured sink's worker; alerts go to all of them.
class EscalationDispatcher {
 public:
  EscalationDispatcher(std::vector<SinkSpec> sinks, const consensus::Clock& clock,
                       const std::shared_ptr<spdlog::logger>& log);
  ~EscalationDispatcher();
  EscalationDispatcher(const EscalationDispatcher&) = delete;
  EscalationDispatcher& operator=(const EscalationDispatcher&) = delete;
  EscalationDispatcher(EscalationDispatcher&&) = delete;
  EscalationDispatcher& operator=(EscalationDispatcher&&) = delete;

  void submit(const Alert& alert);
  void stop(std::chrono::milliseconds drain);
  // (sink name, counters) in configuration order, for /metrics.
  std::vector<std::pair<std::string, SinkCounters>> counters() const;

 private:
  boost::asio::io_context io_;  // outlives the workers' timers and clients
  std::vector<std::unique_ptr<SinkWorker>> workers_;
  std::thread thread_;
};

}  // namespace crosscheck::escalation
