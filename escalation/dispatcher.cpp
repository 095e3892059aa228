// The delivery loop. A worker holds its lock only to touch the queue;
// delivery and file writes happen outside it, so submit() from the service
// thread never waits for a slow receiver. Everything else a worker does runs
// on the dispatcher's io_context.
#include "escalation/dispatcher.hpp"
#include "json/write.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace crosscheck::escalation {
namespace {

// The longest a worker sleeps without looking again (a stop or a clock step
// is noticed within it).
constexpr std::chrono::milliseconds k_max_idle{1'000};

bool write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const auto rest = std::string_view(text).substr(written);
    const auto n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::optional<boost::json::value> read_state(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto value = boost::json::parse(text.str(), ec);
  if (ec) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(temporary + ": " + std::strerror(errno));
  }
  const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = path.string() + ": " + std::strerror(ok ? errno : saved);
    ::unlink(temporary.c_str());
    return fail(why);
  }
  fsync_directory(path.parent_path().empty() ? "." : path.parent_path());
  return {};
}

SinkWorker::SinkWorker(SinkSpec spec, const consensus::Clock& clock,
                       std::shared_ptr<spdlog::logger> log, std::uint64_t seed)
    : spec_(std::move(spec)),
      clock_(clock),
      log_(std::move(log)),
      queue_(spec_.policy),
      random_(seed) {
  for (const auto reason : spec_.transport->failure_reasons()) {
    failed_by_reason_.try_emplace(std::string(reason), 0);
  }
  if (spec_.state_file.empty()) {
    return;
  }
  if (const auto state = read_state(spec_.state_file)) {
    queue_.restore(*state, clock_.monotonic());
    if (queue_.size() > 0) {
      log_->info("escalation sink {}: restored {} escalations from {}", spec_.name, queue_.size(),
                 spec_.state_file.string());
    }
  } else if (std::filesystem::exists(spec_.state_file)) {
    log_->error("escalation sink {}: cannot read {}; starting without its delivery state",
                spec_.name, spec_.state_file.string());
  }
}

SinkWorker::~SinkWorker() {
  save();
}

void SinkTransport::deliver_async(boost::asio::io_context& io, const Alert& alert,
                                  DeliveryDone done) {
  boost::asio::post(io, [done = std::move(done), result = deliver(alert)] { done(result); });
}

void SinkWorker::start(boost::asio::io_context& io) {
  io_ = &io;
  wait_.emplace(io);
  drain_timer_.emplace(io);
  boost::asio::post(io, [this] { kick(); });
}

bool SinkWorker::submit(const Alert& alert) {
  bool accepted = false;
  {
    const std::lock_guard lock(mutex_);
    accepted = queue_.offer(alert, clock_.monotonic());
    dirty_ = true;
  }
  if (!accepted) {
    log_->error("escalation sink {}: queue full ({} escalations); dropped key={}", spec_.name,
                spec_.policy.capacity, alert.key);
  }
  if (io_ != nullptr) {
    boost::asio::post(*io_, [this] { kick(); });
  }
  return accepted;
}

std::optional<DeliveryJob> SinkWorker::take_due() {
  const std::lock_guard lock(mutex_);
  return queue_.next(clock_.monotonic());
}

void SinkWorker::finish_job(const DeliveryJob& job, const DeliveryResult& result) {
  if (result.ok) {
    log_->info("escalation sink {}: delivered {} key={}", spec_.name, to_string(job.alert.status),
               job.key);
  } else {
    log_->warn("escalation sink {}: {} key={} not delivered: {}", spec_.name,
               to_string(job.alert.status), job.key, result.detail);
  }
  {
    const std::lock_guard lock(mutex_);
    queue_.complete(job, result.ok, clock_.monotonic(), random_);
    if (!result.ok) {
      ++failed_by_reason_[result.reason.empty() ? "other" : result.reason];
    }
    dirty_ = true;
  }
  save();
}

std::size_t SinkWorker::pump() {
  std::size_t attempts = 0;
  save();
  while (auto job = take_due()) {
    ++attempts;
    finish_job(*job, spec_.transport->deliver(job->alert));
  }
  return attempts;
}

void SinkWorker::kick() {
  if (delivering_ || ended_) {
    return;
  }
  save();
  if (stopping_ && clock_.monotonic() >= drain_until_) {
    return end();
  }
  if (auto job = take_due()) {
    delivering_ = true;
    // The alert is read before the job moves into the completion.
    const Alert alert = job->alert;
    spec_.transport->deliver_async(*io_, alert,
                                   [this, job = std::move(*job)](const DeliveryResult& result) {
                                     delivering_ = false;
                                     finish_job(job, result);
                                     kick();
                                   });
    return;
  }
  if (stopping_) {
    return end();  // nothing more is due: the drain is over
  }
  // Why at most k_max_idle: the due time is on the injected clock, which a
  // wall step or a test may move; looking again every second notices it.
  auto wait = k_max_idle;
  std::optional<consensus::MonoTime> due;
  {
    const std::lock_guard lock(mutex_);
    due = queue_.next_due();
  }
  if (due) {
    wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*due - clock_.monotonic()),
                   std::chrono::milliseconds{0}, k_max_idle);
  }
  wait_->expires_after(wait);
  wait_->async_wait([this](boost::system::error_code ec) {
    if (!ec) {
      kick();
    }
  });
}

void SinkWorker::request_stop(std::chrono::milliseconds drain) {
  if (io_ != nullptr) {
    boost::asio::post(*io_, [this, drain] { begin_drain(drain); });
  }
}

void SinkWorker::begin_drain(std::chrono::milliseconds drain) {
  if (stopping_ || ended_) {
    return;
  }
  stopping_ = true;
  drain_until_ = clock_.monotonic() + drain;
  // Why no cancel at the end of the drain: a message in flight may already
  // have reached the receiver; it finishes within the sink's own timeout, as
  // it always did, and its result is saved.
  drain_timer_->expires_after(std::max(drain, std::chrono::milliseconds{0}));
  drain_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) {
      kick();
    }
  });
  wait_->cancel();
  kick();
}

void SinkWorker::end() {
  if (ended_) {
    return;
  }
  ended_ = true;
  wait_->cancel();
  drain_timer_->cancel();
  save();
}

void SinkWorker::save() {
  std::string text;
  {
    const std::lock_guard lock(mutex_);
    if (!dirty_) {
      return;
    }
    dirty_ = false;
    if (spec_.state_file.empty()) {
      return;
    }
    text = json_text::write(queue_.to_json());
  }
  if (const auto saved = write_file_atomically(spec_.state_file, text); !saved) {
    log_->error("escalation sink {}: cannot save delivery state: {}", spec_.name, saved.error());
  }
}

SinkCounters SinkWorker::counters() const {
  const std::lock_guard lock(mutex_);
  auto counters = queue_.counters();
  counters.failed_by_reason = failed_by_reason_;
  return counters;
}

Delivered SinkWorker::delivered(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  return queue_.delivered(key);
}

EscalationDispatcher::EscalationDispatcher(std::vector<SinkSpec> sinks,
                                           const consensus::Clock& clock,
                                           const std::shared_ptr<spdlog::logger>& log) {
  std::random_device seed;
  for (auto& sink : sinks) {
    workers_.push_back(std::make_unique<SinkWorker>(
        std::move(sink), clock, log, (static_cast<std::uint64_t>(seed()) << 32U) | seed()));
    workers_.back()->start(io_);
  }
  if (!workers_.empty()) {
    thread_ = std::thread([this] { io_.run(); });
  }
}

EscalationDispatcher::~EscalationDispatcher() {
  stop(std::chrono::milliseconds{0});
}

void EscalationDispatcher::submit(const Alert& alert) {
  for (auto& worker : workers_) {
    worker->submit(alert);
  }
}

void EscalationDispatcher::stop(std::chrono::milliseconds drain) {
  for (auto& worker : workers_) {
    worker->request_stop(drain);  // all drain at once, not one after another
  }
  // Each worker ends by the drain; then the io_context has nothing left.
  if (thread_.joinable()) {
    thread_.join();
  }
  for (auto& worker : workers_) {
    worker->save();
  }
}

std::vector<std::pair<std::string, SinkCounters>> EscalationDispatcher::counters() const {
  std::vector<std::pair<std::string, SinkCounters>> out;
  for (const auto& worker : workers_) {
    out.emplace_back(worker->name(), worker->counters());
  }
  return out;
}

}  // namespace crosscheck::escalation
