// Escalation delivery: one worker thread per configured sink takes alerts
// from the service without blocking it, delivers them through the sink's
// transport with backoff, and keeps its delivery state in a file so a restart
// neither loses nor repeats an escalation. Never blocks probing or the API:
// submit() only takes a short lock and never does I/O.
#pragma once

#include "base/expected.hpp"
#include "consensus/clock.hpp"
#include "escalation/queue.hpp"

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace spdlog {
class logger;
}

namespace crosscheck::daemon {

struct DeliveryResult {
  bool ok = false;
  std::string detail;  // for the log: "HTTP 503", "exit status 2: <output>"
};

// Sends one message to one receiver, synchronously, within its own timeout.
class SinkTransport {
 public:
  SinkTransport() = default;
  SinkTransport(const SinkTransport&) = delete;
  SinkTransport& operator=(const SinkTransport&) = delete;
  SinkTransport(SinkTransport&&) = delete;
  SinkTransport& operator=(SinkTransport&&) = delete;
  virtual ~SinkTransport() = default;
  virtual DeliveryResult deliver(const Alert& alert) = 0;
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
  ~SinkWorker();
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;
  SinkWorker(SinkWorker&&) = delete;
  SinkWorker& operator=(SinkWorker&&) = delete;

  void start();  // the delivery thread
  // Queues `alert` (false: refused, queue full). Thread-safe, no I/O.
  bool submit(const Alert& alert);
  // Delivers everything due now on the calling thread and saves the state
  // (the thread's loop; tests call it with a manual clock). Returns the
  // number of delivery attempts.
  std::size_t pump();
  // Asks the thread to deliver what is due within `drain`, then end.
  void request_stop(std::chrono::milliseconds drain);
  // request_stop(), then waits for the thread and saves the state.
  void stop(std::chrono::milliseconds drain);

  const std::string& name() const { return spec_.name; }
  SinkCounters counters() const;
  Delivered delivered(const std::string& key) const;

 private:
  void run();
  void save();

  SinkSpec spec_;
  const consensus::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  SinkQueue queue_;
  std::mt19937_64 random_;
  bool dirty_ = false;  // the state file is behind the queue
  bool stopping_ = false;
  consensus::MonoTime drain_until_{};
  std::thread thread_;
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
  std::vector<std::unique_ptr<SinkWorker>> workers_;
};

}  // namespace crosscheck::daemon
